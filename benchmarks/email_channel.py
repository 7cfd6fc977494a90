"""The email channel's throughput and the AI's answer time, over real SMTP sessions.

Run it as ``python benchmarks/email.py`` (a launcher: see there why this file has
another name).

1. Inbound: customers' servers hand mails to our SMTP server (several connections at
   once, each sending one mail per SMTP transaction); every mail is parsed, routed,
   threaded and stored in the inbox. AI auto-reply is off here, so this measures mail
   to stored message. Reported as stored mails/s, and the SMTP transaction's p50/p95.
   With ``--redis URL`` also the way `frontdesk up` runs it: the SMTP server only
   enqueues (accepted mails/s), then a worker stores them (stored mails/s).
2. Round trip: one customer mail in, the offline model's answer (through the same agent
   graph as web chat, over a knowledge index) out through the relay: the time from the
   customer's MAIL FROM to the answer arriving at the relay sink, p50/p95.

    python benchmarks/email.py [--mails 1000] [--connections 4] [--replies 50]
        [--chunks 1000] [--redis redis://127.0.0.1:6379/14]

Targets on 2 cores: >= 50 mails/s stored; round trip p95 < 2 s.
"""

from __future__ import annotations

import argparse
import smtplib
import socket
import tempfile
import threading
import time
from email import policy
from email.message import EmailMessage
from pathlib import Path

from _site import percentile
from aiosmtpd.controller import Controller
from ingest import fill_index

from agent.config import Settings
from frontdesk.wiring import Container, build

QUESTIONS = [
    "Are you open on Saturday?",
    "How much is a tune-up?",
    "Can I book a repair for Thursday morning?",
    "Do you fix electric bikes?",
    "Where are you located?",
]
BODY = (
    "Hi,\n\n{question}\n\nThanks,\n{name}\n\n"
    "On Mon, 1 Dec 2026 at 09:00, Bench Bikes <hello@bench.example> wrote:\n"
    "> Thanks for your message, we will get back to you shortly.\n> Bench Bikes\n"
)


class Sink:
    """The outbound relay: notes when each answer arrived, by the customer it went to."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.event = threading.Condition()

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd hook
        with self.event:
            for rcpt in envelope.rcpt_tos:
                self.arrived[rcpt.lower()] = time.perf_counter()
            self.event.notify_all()
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def mail(n: int, to: str, sender: str) -> bytes:
    message = EmailMessage()
    message["From"] = f"Customer {n} <{sender}>"
    message["To"] = to
    message["Subject"] = f"Question {n}"
    message["Message-ID"] = f"<bench-{n}-{time.time_ns()}@customer.example>"
    message.set_content(BODY.format(question=QUESTIONS[n % len(QUESTIONS)], name=f"C{n}"))
    return message.as_bytes(policy=policy.SMTP)


def setup(data_dir: Path, *, smtp_url: str = "", redis_url: str = "") -> tuple[Container, int, str]:
    settings = Settings.from_values(
        {"data_dir": data_dir, "email_domain": "reply.bench.example", "smtp_url": smtp_url}
    ).ensure_data_dir()
    container = build(settings, redis_url=redis_url)
    container.migrate()
    workspace = container.workspaces.create(
        {
            "name": "Bench Bikes",
            "timezone": "America/Vancouver",
            "country": "CA",
            "hours": {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
            "links": {"booking": "https://bench.example/book"},
        }
    )
    inbound = container.channels.connect_email(workspace.id, "hello@bench.example").external_id
    return container, workspace.id, inbound


def send_all(
    host: str, port: int, to: str, mails: int, connections: int, who: str = "c"
) -> tuple[list[float], float]:
    """``mails`` mails (built beforehand) over ``connections`` concurrent SMTP sessions:
    each mail's SMTP transaction (ms), and the seconds they took together."""
    latencies: list[float] = []
    lock = threading.Lock()

    prepared = {n: mail(n, to, f"{who}{n}@customer.example") for n in range(mails)}

    def client(offset: int) -> None:
        mine = []
        with smtplib.SMTP(host, port, timeout=60) as smtp:
            for n in range(offset, mails, connections):
                start = time.perf_counter()
                smtp.sendmail(f"{who}{n}@customer.example", [to], prepared[n])
                mine.append((time.perf_counter() - start) * 1000)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, time.perf_counter() - started


def stored(container: Container, workspace_id: int) -> int:
    with container.uow(read_only=True) as uow:
        return len(uow.workspace(workspace_id).conversations.list(limit=1_000_000))


def inbound_inline(tmp: Path, mails: int, connections: int) -> None:
    container, ws, inbound = setup(tmp / "inline")
    container.channels.set_auto_reply(ws, "email", False)  # mail to stored message only
    server = container.inbound_smtp("127.0.0.1", 0)
    try:
        send_all(server.host, server.port, inbound, 20, 1, "warm")  # warm up
        before = stored(container, ws)
        latencies, elapsed = send_all(server.host, server.port, inbound, mails, connections)
        count = stored(container, ws) - before
    finally:
        server.stop()
        container.engine.dispose()
    rate = count / elapsed
    verdict = "met" if rate >= 50 else "NOT met"
    print(
        f"inbound, SMTP to stored (SQLite, {connections} connections): {count} mails in "
        f"{elapsed:.1f} s = {rate:.0f} mails/s (target >= 50: {verdict}); per mail "
        f"p50 {percentile(latencies, 50):.1f} ms, p95 {percentile(latencies, 95):.1f} ms"
    )


def inbound_queued(tmp: Path, mails: int, connections: int, redis_url: str) -> None:
    import redis

    redis.Redis.from_url(redis_url).flushdb()
    container, ws, inbound = setup(tmp / "queued", redis_url=redis_url)
    container.channels.set_auto_reply(ws, "email", False)
    server = container.inbound_smtp("127.0.0.1", 0)
    try:
        latencies, accepted = send_all(server.host, server.port, inbound, mails, connections)
        start = time.perf_counter()
        container.worker(["default"], name=f"bench-{time.time_ns()}").work(
            burst=True, logging_level="WARNING"
        )
        drained = time.perf_counter() - start
        count = stored(container, ws)
    finally:
        server.stop()
        container.engine.dispose()
        redis.Redis.from_url(redis_url).flushdb()
    print(
        f"inbound through rq: accepted {mails / accepted:.0f} mails/s (p95 "
        f"{percentile(latencies, 95):.1f} ms), one worker stored {count} at "
        f"{count / drained:.0f} mails/s"
    )


def round_trip(tmp: Path, replies: int, chunks: int) -> None:
    sink = Sink()
    relay = Controller(sink, hostname="127.0.0.1", port=free_port())
    relay.start()
    container, ws, inbound = setup(tmp / "ai", smtp_url=f"smtp://127.0.0.1:{relay.port}")
    fill_index(container.index, ws, chunks)
    server = container.inbound_smtp("127.0.0.1", 0)
    latencies = []
    try:
        for n in range(-5, replies):  # the first five warm the model and caches up
            customer = f"r{n + 5}@customer.example"
            raw = mail(n + 5, inbound, customer)
            start = time.perf_counter()
            with smtplib.SMTP(server.host, server.port, timeout=60) as smtp:
                smtp.sendmail(customer, [inbound], raw)
            with sink.event:
                sink.event.wait_for(lambda c=customer: c in sink.arrived, timeout=60)
            if customer not in sink.arrived:
                raise SystemExit(f"no answer reached the relay for {customer}")
            if n >= 0:
                latencies.append((sink.arrived[customer] - start) * 1000)
    finally:
        server.stop()
        relay.stop()
        container.engine.dispose()
    p95 = percentile(latencies, 95)
    print(
        f"AI reply round trip (offline model, {chunks:,} chunks, {replies} mails): "
        f"p50 {percentile(latencies, 50):.0f} ms, p95 {p95:.0f} ms "
        f"(target p95 < 2000 ms: {'met' if p95 < 2000 else 'NOT met'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=1000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--replies", type=int, default=50)
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--redis", default="", help="also measure the rq path on this Redis")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        inbound_inline(Path(tmp), args.mails, args.connections)
        if args.redis:
            inbound_queued(Path(tmp), args.mails, args.connections, args.redis)
        if args.replies:
            round_trip(Path(tmp), args.replies, args.chunks)


if __name__ == "__main__":
    main()
