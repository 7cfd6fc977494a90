"""What one web chat message costs the web process: CPU and SQL statements.

The real app in this process, on a temporary SQLite database, with Flask-SocketIO's test
client as the visitors (no websocket, no Redis message queue: that cost is measured by
``benchmarks/realtime.py``). 50 visitors each open a conversation, then send ``--messages``
messages between them, round robin, in two modes:

- ``ai``: the conversations are the AI's, so each message is also handed to the
  receptionist (a dispatcher that queues nothing here) and the widget shows it typing;
- ``staff``: staff have taken every conversation over, as in ``realtime.py``.

    python benchmarks/message_cost.py [--messages 1500]

Statements are counted as SQLAlchemy sends them (a writer's BEGIN is sent by the
SQLite writer gate directly, so it is not among them).
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from agent.config import Settings
from agent.core.workspaces import NewMember
from frontdesk.web import create_app
from frontdesk.wiring import build
from widget.identity import frame_token
from widget.realtime import RateLimits

SITE = "https://site.example"
VISITORS = 50


class _Queued:
    """An AI receptionist whose turns are queued elsewhere: nothing runs here."""

    replies_inline = False

    def dispatch(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        pass


def measure(mode: str, messages: int, data_dir: Path) -> tuple[float, float, Counter[str]]:
    """CPU milliseconds and statements a message, and the statements by kind."""
    settings = Settings.from_values({"data_dir": data_dir}).ensure_data_dir()
    container = build(settings, redis_url="", dispatcher_override=_Queued())
    container.migrate()
    admin = NewMember(
        name="Bench Staff", email="staff@bench.example", password="cost benchmark passphrase"
    )
    workspace = container.workspaces.create({"name": "Acme Co", "country": "US"}, admin)
    container.workspaces.update_profile(workspace.id, {"widget": {"allowed_origins": [SITE]}})
    unlimited = RateLimits(per_visitor=10**9, per_ip=10**9)
    app, socketio = create_app(container, widget_limits=unlimited)
    token = frame_token(str(settings.secret_key), workspace.id, SITE)
    visitors = [
        socketio.test_client(app, namespace="/widget", auth={"frame_token": token})
        for _ in range(VISITORS)
    ]

    def send(client: Any, body: str) -> None:
        ack = client.emit(
            "message",
            {"body": body, "client_id": uuid.uuid4().hex},
            namespace="/widget",
            callback=True,
        )
        assert ack["ok"], ack
        client.get_received("/widget")

    for client in visitors:
        send(client, "Hello")
    if mode == "staff":
        with container.uow(read_only=True) as uow:
            member = uow.workspace(workspace.id).team.all()[0]
        for conversation_id in _conversation_ids(container, workspace.id):
            container.conversations.take_over(workspace.id, conversation_id, member.id)
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(container.engine, "before_cursor_execute", record)
    began = time.process_time()
    for n in range(messages):
        send(visitors[n % VISITORS], f"Message {n}: is Thursday at 3pm free for a cleaning?")
    cpu = time.process_time() - began
    event.remove(container.engine, "before_cursor_execute", record)
    for client in visitors:
        client.disconnect(namespace="/widget")
    container.engine.dispose()
    kinds = Counter(" ".join(s.split()[:2]) + " " + _table(s) for s in statements)
    return cpu * 1000 / messages, len(statements) / messages, kinds


def _conversation_ids(container: Any, workspace_id: int) -> list[int]:
    with container.engine.connect() as db:
        rows = db.execute(
            text("SELECT id FROM conversation WHERE workspace_id = :w"), {"w": workspace_id}
        )
        return [row[0] for row in rows]


def _table(statement: str) -> str:
    words = statement.replace("\n", " ").split()
    for keyword in ("FROM", "INTO", "UPDATE"):
        if keyword in words:
            return words[words.index(keyword) + 1]
    return ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1500, help="timed messages a mode")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for mode in ("ai", "staff"):
            cpu, count, kinds = measure(mode, args.messages, Path(tmp) / mode)
            print(f"\n{mode} mode: {cpu:.2f} ms of CPU and {count:.1f} statements a message")
            for kind, n in kinds.most_common():
                print(f"  {n / args.messages:4.1f}  {kind}")


if __name__ == "__main__":
    main()
