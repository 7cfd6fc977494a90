"""Realtime delivery: web chat visitors' messages reaching a staff inbox socket.

The real app (Flask + Socket.IO, threading mode, websockets) runs in its own process on a
temporary SQLite database. In this process, ``--visitors`` python-socketio clients
connect to ``/widget`` with a frame token from the real frame page, and one signed-in
staff client connects to ``/inbox`` and watches its workspace room.

Visitors are paced (``--interval``, default 3 s between one visitor's messages, spread
evenly): the target is about delivery under a heavy but real load. ``--interval 0`` is a
closed-loop burst (each visitor sends again as soon as it is acknowledged); it measures
the server's capacity, and its latency is queueing behind 1,000 messages.

Setup (not timed): each visitor sends one message, which opens its conversation; then
staff take every conversation over, so the timed messages stay with humans (the server
runs without an AI receptionist: messages wait for staff). Timed: every visitor sends
``--messages`` messages at once, each after the previous one is acknowledged; the
latency is from the visitor's send to the staff socket receiving the conversation update
that names the new message.

Rate limits are part of the measured path. All visitors share 127.0.0.1, so the
benchmark starts the server with an explicit per-IP limit (``--per-ip-limit``, passed to
``create_app(widget_limits=...)``) large enough for the run; the per-visitor limit stays
at the production default (10 a minute), above the 6 messages each visitor sends.

    python benchmarks/realtime.py [--visitors 200] [--messages 5] [--redis-url URL]

Target on 2 cores: p95 < 200 ms, no message lost, exactly visitors x messages stored.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import re
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
import socketio
from _site import percentile
from sqlalchemy import text
from werkzeug.serving import WSGIRequestHandler, make_server

from agent.config import Settings
from agent.core.workspaces import NewMember
from frontdesk.web import create_app
from frontdesk.wiring import build
from widget.identity import frame_token as sign_frame_token
from widget.realtime import RateLimits

EMAIL, PASSWORD = "staff@bench.example", "realtime benchmark passphrase"
TIMED = "Timed message"


class _StaffOnly:
    """No AI receptionist on this server: visitor messages wait for staff."""

    def dispatch(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        pass


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass

    def log_error(self, *args: object) -> None:
        pass  # sockets torn down mid-frame at the end of the run


def serve(data_dir: str, port: int, redis_url: str, per_ip_limit: int) -> None:
    """The server process: the real app on 127.0.0.1:port until terminated."""
    settings = Settings.from_values({"data_dir": data_dir}).ensure_data_dir()
    container = build(settings, redis_url=redis_url, dispatcher_override=_StaffOnly())
    app, _ = create_app(container, widget_limits=RateLimits(per_ip=per_ip_limit))
    make_server("127.0.0.1", port, app, threaded=True, request_handler=_Quiet).serve_forever()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # Up when it answers: with a Redis queue and no workers, /healthz says 503.
            if requests.get(f"{url}/healthz", timeout=1).status_code in (200, 503):
                return
        except requests.ConnectionError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def staff_cookie(url: str) -> str:
    """Sign in over HTTP like a browser; the session cookie authenticates the socket."""
    http = requests.Session()
    page = http.get(f"{url}/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    http.post(
        f"{url}/login",
        data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
        allow_redirects=False,
    ).raise_for_status()
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def frame_token(url: str, key: str) -> str:
    page = requests.get(f"{url}/widget/v1/{key}/frame", params={"host": url}).text
    block = re.search(r'id="frontdesk-frame">(.*?)</script>', page, re.S).group(1)
    return json.loads(block)["frame_token"]


def connect_visitor(url: str, token: str) -> tuple[socketio.Client, str]:
    client = socketio.Client(reconnection=False)
    identity: dict[str, str] = {}
    arrived = threading.Event()

    def on_identity(data: dict[str, str]) -> None:
        identity.update(data)
        arrived.set()

    client.on("identity", on_identity, namespace="/widget")
    client.connect(
        url, namespaces=["/widget"], auth={"frame_token": token}, transports=["websocket"]
    )
    if not arrived.wait(10):
        raise SystemExit("a visitor got no identity")
    return client, identity["visitor_id"]


def in_process(data_dir: Path, visitors: int, messages: int) -> float:
    """Baseline: the same handler, service and broadcasts, with no sockets (messages/s).

    Flask-SocketIO's test clients call the /widget handler directly in this process, so
    the difference to the live run is what the network transport costs.
    """
    settings = Settings.from_values({"data_dir": data_dir}).ensure_data_dir()
    container = build(settings, redis_url="", dispatcher_override=_StaffOnly())
    container.migrate()
    admin = NewMember(name="Bench Staff", email=EMAIL, password=PASSWORD, role="admin")
    workspace = container.workspaces.create({"name": "Bench Co", "country": "US"}, admin)
    limits = RateLimits(per_ip=10**9, per_visitor=10**9)
    app, sio = create_app(container, testing=True, widget_limits=limits)
    token = sign_frame_token(settings.secret_key, workspace.id or 0, "http://localhost")
    clients = [
        sio.test_client(app, namespace="/widget", auth={"frame_token": token})
        for _ in range(visitors)
    ]

    def send(client: object, body: str) -> None:
        ack = client.emit(  # type: ignore[attr-defined]
            "message",
            {"body": body, "client_id": uuid.uuid4().hex},
            namespace="/widget",
            callback=True,
        )
        assert ack["ok"], ack

    for client in clients:
        send(client, "Hello")
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        member_id = repo.team.all()[0].id
        conversation_ids = [c.id for c in repo.conversations.search(limit=visitors)]
    for conversation_id in conversation_ids:
        container.conversations.take_over(workspace.id, conversation_id, member_id)
    began = time.perf_counter()
    for n in range(messages):
        for number, client in enumerate(clients):
            send(client, f"{TIMED} {n + 1} from visitor {number}: is Thursday at 3pm free?")
    elapsed = time.perf_counter() - began
    container.engine.dispose()
    return visitors * messages / elapsed


def run(args: argparse.Namespace, data_dir: Path) -> None:
    settings = Settings.from_values({"data_dir": data_dir}).ensure_data_dir()
    container = build(settings)
    container.migrate()
    admin = NewMember(name="Bench Staff", email=EMAIL, password=PASSWORD, role="admin")
    workspace = container.workspaces.create({"name": "Bench Co", "country": "US"}, admin)
    with container.uow() as uow:
        member = uow.workspace(workspace.id).team.all()[0]

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = multiprocessing.get_context("spawn").Process(
        target=serve, args=(str(data_dir), port, args.redis_url, args.per_ip_limit), daemon=True
    )
    server.start()
    try:
        _wait_up(url)
        received: dict[int, float] = {}  # message id -> when the staff socket saw it
        staff = socketio.Client(reconnection=False)

        def on_conversation(data: dict) -> None:
            new = data.get("new_message")
            if new and new["direction"] == "in":
                received.setdefault(new["id"], time.perf_counter())

        staff.on("conversation", on_conversation, namespace="/inbox")
        staff.connect(
            url,
            namespaces=["/inbox"],
            headers={"Cookie": staff_cookie(url)},
            transports=["websocket"],
        )

        token = frame_token(url, workspace.widget_key)
        visitors = [connect_visitor(url, token) for _ in range(args.visitors)]
        for client, _ in visitors:  # open each conversation; staff then take them all over
            hello = {"body": "Hello", "client_id": uuid.uuid4().hex}
            ack = client.call("message", hello, namespace="/widget")
            assert ack["ok"], ack
        with container.uow() as uow:
            repo = uow.workspace(workspace.id)
            conversation_ids = [
                repo.conversations.by_thread("webchat", visitor_id).id for _, visitor_id in visitors
            ]
        for conversation_id in conversation_ids:
            container.conversations.take_over(workspace.id, conversation_id, member.id)

        sent: dict[int, float] = {}  # message id -> when its visitor sent it
        failures: list[str] = []
        start = threading.Barrier(len(visitors) + 1)

        def visit(client: socketio.Client, number: int) -> None:
            start.wait()
            # Paced visitors start at evenly spread offsets within one interval.
            time.sleep(args.interval * number / len(visitors))
            for n in range(args.messages):
                if n:
                    time.sleep(args.interval)
                body = f"{TIMED} {n + 1} from visitor {number}: is Thursday at 3pm free?"
                began = time.perf_counter()
                ack = client.call(
                    "message",
                    {"body": body, "client_id": uuid.uuid4().hex},
                    namespace="/widget",
                    timeout=60,
                )
                if ack.get("ok"):
                    sent[ack["message"]["id"]] = began
                else:
                    failures.append(ack.get("error", "no ack"))

        threads = [
            threading.Thread(target=visit, args=(client, n))
            for n, (client, _) in enumerate(visitors)
        ]
        for thread in threads:
            thread.start()
        start.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not set(sent) <= set(received):
            time.sleep(0.05)

        # Disconnecting waits on each socket's threads: close them all at once.
        closers = [
            threading.Thread(target=client.disconnect, daemon=True)
            for client in [staff, *(client for client, _ in visitors)]
        ]
        for closer in closers:
            closer.start()
        for closer in closers:
            closer.join(timeout=10)
    finally:
        server.terminate()
        server.join()

    with container.engine.connect() as db:
        stored = db.execute(
            text("SELECT count(*) FROM message WHERE body LIKE :timed"), {"timed": f"{TIMED} %"}
        ).scalar_one()
    container.engine.dispose()

    latencies = [received[i] - sent[i] for i in sent if i in received]
    lost = len(set(sent) - set(received)) + len(failures)
    expected = args.visitors * args.messages
    print(
        f"{args.visitors} visitors x {args.messages} messages, human mode, SQLite,"
        f" {'Redis ' + args.redis_url if args.redis_url else 'no Redis'},"
        f" per-IP limit {args.per_ip_limit}/min, per-visitor {RateLimits().per_visitor}/min,"
        f" {f'{args.interval:g} s between messages' if args.interval else 'no pause'}"
    )
    print(f"sent in {elapsed:.2f} s ({len(sent) / elapsed:,.0f} msg/s)")
    if latencies:
        p50, p95, p99 = (percentile(latencies, p) * 1000 for p in (50, 95, 99))
        print(
            f"visitor send -> staff receive: p50 {p50:.1f} ms  p95 {p95:.1f} ms  p99 {p99:.1f} ms"
            f"  max {max(latencies) * 1000:.1f} ms"
        )
    else:
        p95 = float("inf")
    print(f"messages lost: {lost}" + (f" (refused: {sorted(set(failures))})" if failures else ""))
    print(f"messages stored: {stored:,} (expected {expected:,})")
    rate = in_process(data_dir / "baseline", args.visitors, args.messages)
    print(
        f"baseline, the same handler in-process without sockets: {rate:,.0f} msg/s"
        f" ({1000 / rate:.1f} ms a message); live run offered {len(sent) / elapsed:,.0f} msg/s"
    )
    ok = p95 < 200 and lost == 0 and stored == expected
    print(f"target p95 < 200 ms, 0 lost, exactly {expected:,} stored: {'met' if ok else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--messages", type=int, default=5, help="timed messages per visitor")
    parser.add_argument(
        "--per-ip-limit",
        type=int,
        default=10_000,
        help="widget messages per minute from one address (all visitors here share one)",
    )
    parser.add_argument(
        "--interval",
        type=float,
        default=3.0,
        help="seconds each visitor waits between messages (default 3: 200 visitors make 67"
        " messages/s, a very busy site; 0: each sends the next as soon as one is acknowledged,"
        " a closed-loop burst that measures capacity, not delivery)",
    )
    parser.add_argument("--redis-url", default="", help="serve with a Redis message queue")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
