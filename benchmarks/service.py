"""Inbound-message throughput and latency of the conversation service (human mode, SQLite).

Every message goes the full way a webhook's does: validated, checked for a duplicate
provider id, its conversation found (and reopened if closed), stored, the conversation
updated, committed, events published; in human mode nothing is queued for the AI.

Baseline, measured in the same run: the same statements (duplicate check, thread
lookup, insert, conversation update) issued with the sqlite3 module directly, one
transaction per message with the same pragmas: the floor for this work on SQLite.

    python benchmarks/service.py [--messages 5000] [--conversations 200]

Targets on 2 cores: >= 500 messages/s and p95 < 10 ms.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from _site import percentile

from agent.config import Settings
from agent.core.conversations import Inbound
from agent.core.workspaces import NewMember
from frontdesk.wiring import build


def bench_service(data_dir: Path, messages: int, conversations: int) -> list[float]:
    container = build(Settings.from_values({"data_dir": data_dir}).ensure_data_dir())
    container.migrate()
    admin = NewMember(name="Bench", email="bench@bench.example", password="throughput passphrase")
    workspace = container.workspaces.create({"name": "Bench Co", "country": "US"}, admin)
    with container.uow() as uow:
        member = uow.workspace(workspace.id).team.all()[0]
    svc = container.conversations
    # Open the conversations and have staff take them over: human mode, no AI turns.
    for n in range(conversations):
        received = svc.receive(workspace.id, Inbound(channel="sms", body="hi", thread_id=f"t{n}"))
        svc.take_over(workspace.id, received.conversation.id, member.id)
    latencies = []
    for n in range(messages):
        inbound = Inbound(
            channel="sms",
            body=f"Message {n}: could I move my appointment to Thursday afternoon?",
            thread_id=f"t{n % conversations}",
            provider_message_id=f"SM{n:032d}",
        )
        start = time.perf_counter()
        result = svc.receive(workspace.id, inbound)
        latencies.append(time.perf_counter() - start)
        assert not result.routed_to_ai and not result.duplicate
    container.engine.dispose()
    return latencies


def bench_baseline(path: Path, messages: int, conversations: int) -> list[float]:
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(
        "CREATE TABLE conversation (id INTEGER PRIMARY KEY, thread TEXT UNIQUE, mode TEXT,"
        " status TEXT, last_message_at TEXT);"
        "CREATE TABLE message (id INTEGER PRIMARY KEY, conversation_id INT, body TEXT,"
        " provider_message_id TEXT UNIQUE, meta TEXT, created_at TEXT);"
    )
    db.executemany(
        "INSERT INTO conversation (thread, mode, status) VALUES (?, 'human', 'open')",
        [(f"t{n}",) for n in range(conversations)],
    )
    latencies = []
    for n in range(messages):
        pmid = f"SM{n:032d}"
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT id FROM message WHERE provider_message_id = ?", (pmid,)).fetchone()
        (conv_id,) = db.execute(
            "SELECT id FROM conversation WHERE thread = ?", (f"t{n % conversations}",)
        ).fetchone()
        db.execute(
            "INSERT INTO message (conversation_id, body, provider_message_id, meta, created_at) "
            "VALUES (?, ?, ?, ?, datetime('now'))",
            (conv_id, f"Message {n}", pmid, json.dumps({})),
        )
        db.execute(
            "UPDATE conversation SET last_message_at = datetime('now') WHERE id = ?", (conv_id,)
        )
        db.execute("COMMIT")
        latencies.append(time.perf_counter() - start)
    db.close()
    return latencies


def report(name: str, latencies: list[float]) -> float:
    rate = len(latencies) / sum(latencies)
    print(
        f"{name:<28} {rate:>9,.0f} msg/s   p50 {percentile(latencies, 50) * 1000:6.2f} ms"
        f"   p95 {percentile(latencies, 95) * 1000:6.2f} ms"
        f"   mean {statistics.fmean(latencies) * 1000:6.2f} ms"
    )
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--conversations", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        service = bench_service(Path(tmp) / "service", args.messages, args.conversations)
        baseline = bench_baseline(Path(tmp) / "baseline.db", args.messages, args.conversations)
    print(f"{args.messages} inbound messages over {args.conversations} conversations, SQLite")
    service_rate = report("conversation service", service)
    baseline_rate = report("baseline (same SQL, sqlite3)", baseline)
    print(f"service / baseline throughput: {service_rate / baseline_rate:.2f}")
    p95 = percentile(service, 95) * 1000
    ok = service_rate >= 500 and p95 < 10
    print(f"target >= 500 msg/s and p95 < 10 ms: {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
