"""The inbox's conversation list on a large workspace: the first page of GET /api/conversations.

A throw-away workspace gets 10,000 conversations (each with its own contact and a few
messages; a third assigned to a team member, half read by the signed-in member), inserted
in bulk. Then a signed-in Flask test client asks for the first page (50 rows) the way the
inbox page does, plain, with a search text and with a status filter, 50 times each.

Baseline, measured in the same run through the same endpoint: the page assembled the old
way, with a contact lookup and a newest-message query per row (the N+1 this replaced).

    python benchmarks/conversation_list.py [--conversations 10000] [--runs 50]
    python benchmarks/conversation_list.py --postgres postgresql://postgres@127.0.0.1/postgres

``--postgres`` also runs it on a throw-away database created on that server (and dropped
afterwards). Target: the first page in < 50 ms (p95) with 10,000 conversations.
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _site import percentile
from sqlalchemy import Engine, create_engine, event, insert, text
from sqlalchemy.engine import make_url

import inbox.conversations
from agent.config import Settings
from agent.core.models import Conversation
from agent.core.ports import WorkspaceScope
from agent.core.workspaces import NewMember
from agent.storage import tables
from frontdesk.web import create_app
from frontdesk.wiring import Container, build
from inbox.presenters import conversation_json

PASSWORD = "a long enough passphrase"
PAGES = (("first page", ""), ("search text", "?q=parking"), ("status filter", "?status=closed"))
TOPICS = ("parking", "insurance", "a cleaning", "whitening", "an emergency", "x-rays", "fees")
FIRST = ("Ana", "Ben", "Chloe", "Dev", "Ella", "Femi", "Gus", "Hana", "Ivan", "Jo")
LAST = ("Nguyen", "Smith", "Okafor", "Garcia", "Kowalski", "Tanaka", "Ahmed", "Brown")
CHANNELS = ("webchat", "sms", "email", "whatsapp")


def _rows(table: Any, engine: Engine, values: list[dict[str, Any]]) -> list[int]:
    """Insert many rows in one statement batch; their ids, in order."""
    query = insert(table).returning(table.c.id, sort_by_parameter_order=True)
    with engine.begin() as connection:
        return list(connection.execute(query, values).scalars())


def populate(container: Container, conversations: int) -> int:
    """A workspace with ``conversations`` conversations; the signed-in admin's workspace id."""
    admin = NewMember(name="Bench Admin", email="admin@bench.example", password=PASSWORD)
    workspace = container.workspaces.create({"name": "Bench Dental", "country": "US"}, admin)
    staff = [
        container.workspaces.add_member(
            workspace.id, NewMember(f"Staff {n}", f"staff{n}@bench.example", PASSWORD)
        ).id
        for n in range(3)
    ]
    with container.uow() as uow:
        admin_id = uow.workspace(workspace.id).team.by_email(admin.email).id
    ws, engine = workspace.id, container.engine
    start = datetime(2026, 1, 1, tzinfo=UTC)
    contact_ids = _rows(
        tables.contact,
        engine,
        [
            {
                "workspace_id": ws,
                "first_name": FIRST[n % len(FIRST)],
                "last_name": f"{LAST[n % len(LAST)]}{n}",
                "email": f"visitor{n}@mail.example",
                "phone": f"+1604555{n:04d}",
                "source_channel": CHANNELS[n % len(CHANNELS)],
                "created_at": start,
                "updated_at": start,
            }
            for n in range(conversations)
        ],
    )
    moments = [start + timedelta(minutes=n) for n in range(conversations)]
    conversation_ids = _rows(
        tables.conversation,
        engine,
        [
            {
                "workspace_id": ws,
                "contact_id": contact_ids[n],
                "channel": CHANNELS[n % len(CHANNELS)],
                "status": "closed" if n % 5 == 0 else "open",
                "mode": "human" if n % 3 == 0 else "ai",
                "assignee_id": staff[n % len(staff)] if n % 3 == 0 else None,
                "provider_thread_id": f"thread-{n}",
                "last_message_at": moments[n],
                "created_at": moments[n],
                "updated_at": moments[n],
            }
            for n in range(conversations)
        ],
    )
    messages = []
    for n, cid in enumerate(conversation_ids):
        topic = TOPICS[n % len(TOPICS)]
        lines = [
            ("in", "contact", f"Hi, I have a question about {topic} for my visit."),
            ("out", "ai", f"Of course! Here is what you need to know about {topic}."),
            ("in", "contact", "Thanks. Could I also book for next Tuesday afternoon?"),
            ("out", "ai", "Tuesday at 3 pm is free; shall I book it for you?"),
        ][: 2 + n % 3]
        for direction, kind, body in lines:
            messages.append(
                {
                    "workspace_id": ws,
                    "conversation_id": cid,
                    "direction": direction,
                    "author_kind": kind,
                    "body": body,
                    "channel": CHANNELS[n % len(CHANNELS)],
                    "delivery_status": "received" if direction == "in" else "sent",
                    "meta": {},
                    "created_at": moments[n],
                }
            )
    message_ids = _rows(tables.message, engine, messages)
    first_message = {}
    for row, mid in zip(messages, message_ids, strict=True):
        first_message.setdefault(row["conversation_id"], mid)
    with engine.begin() as connection:  # the admin has read half of them, up to the first
        connection.execute(
            insert(tables.conversation_read),
            [
                {"member_id": admin_id, "conversation_id": cid, "last_read_message_id": mid}
                for n, (cid, mid) in enumerate(first_message.items())
                if n % 2 == 0
            ],
        )
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
    return ws


def per_row_summaries(
    repo: WorkspaceScope, member_id: int, conversations: Sequence[Conversation]
) -> list[dict[str, Any]]:
    """The baseline: the old list assembly, a contact and a newest-message query per row."""
    unread = repo.conversations.unread_counts(member_id, [c.id for c in conversations])
    members = {m.id: m for m in repo.team.all()}
    rows = []
    for conversation in conversations:
        last = repo.messages.for_conversation(conversation.id, limit=1)
        rows.append(
            conversation_json(
                conversation,
                repo.contacts.get(conversation.contact_id),
                last[-1] if last else None,
                assignee=members.get(conversation.assignee_id),
                unread=unread.get(conversation.id, 0),
            )
        )
    return rows


@contextmanager
def baseline() -> Iterator[None]:
    """The list endpoint with the per-row assembly swapped in."""
    current = inbox.conversations.summaries
    inbox.conversations.summaries = per_row_summaries
    try:
        yield
    finally:
        inbox.conversations.summaries = current


def signed_in(container: Container) -> Any:
    app, _ = create_app(container, testing=True)
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    form = {"email": "admin@bench.example", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302, "could not sign in"
    return client


def measure(
    engine: Engine, get: Callable[[], list[dict[str, Any]]], runs: int
) -> tuple[list[float], int, list[dict[str, Any]]]:
    """Latencies of ``runs`` calls (after a warm-up), statements per call, the last page."""
    for _ in range(3):
        get()
    statements = []

    def count(*_args: object) -> None:
        statements.append(1)

    event.listen(engine, "before_cursor_execute", count)
    rows = get()
    event.remove(engine, "before_cursor_execute", count)
    latencies = []
    for _ in range(runs):
        start = time.perf_counter()
        get()
        latencies.append(time.perf_counter() - start)
    return latencies, len(statements), rows


def bench(settings: Settings, conversations: int, runs: int, label: str) -> bool:
    container = build(settings.ensure_data_dir())
    container.migrate()
    start = time.perf_counter()
    populate(container, conversations)
    setup = time.perf_counter() - start
    client = signed_in(container)
    print(f"\n{label}: {conversations:,} conversations (setup {setup:.1f} s), {runs} runs each")
    met = True
    for name, query in PAGES:

        def get(query: str = query) -> list[dict[str, Any]]:
            response = client.get(f"/api/conversations{query}")
            assert response.status_code == 200, response.status_code
            return response.json["conversations"]

        new, new_queries, new_rows = measure(container.engine, get, runs)
        with baseline():
            old, old_queries, old_rows = measure(container.engine, get, runs)
        assert new_rows == old_rows, f"{name}: the two assemblies disagree"
        for title, latencies, queries in (
            (name, new, new_queries),
            ("  per-row baseline", old, old_queries),
        ):
            p50, p95 = percentile(latencies, 50) * 1000, percentile(latencies, 95) * 1000
            print(
                f"{title:<20} {len(new_rows):>3} rows   p50 {p50:7.2f} ms   p95 {p95:7.2f} ms"
                f"   {queries:>3} statements"
            )
        ratio = percentile(old, 50) / percentile(new, 50)
        print(f"{'  baseline / batched':<20} p50 {ratio:.1f}x")
        if name == "first page":
            met = percentile(new, 95) * 1000 < 50
    container.engine.dispose()
    print(f"target: first page p95 < 50 ms: {'met' if met else 'NOT met'}")
    return met


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A throw-away database on the server at ``server_url``, dropped afterwards."""
    url = make_url(Settings.from_values({"database_url": server_url}).sqlalchemy_url)
    name = f"frontdesk_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument(
        "--postgres", metavar="URL", help="also run on a throw-away database on this server"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.from_values({"data_dir": Path(tmp) / "sqlite"})
        bench(settings, args.conversations, args.runs, "SQLite")
        if args.postgres:
            with postgres_database(args.postgres) as url:
                values = {"data_dir": Path(tmp) / "postgres", "database_url": url}
                bench(Settings.from_values(values), args.conversations, args.runs, "PostgreSQL")


if __name__ == "__main__":
    main()
