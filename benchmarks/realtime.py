"""Realtime delivery: web chat visitors' messages reaching a staff inbox socket.

The real app serves in processes of its own (``benchmarks/_realtime_server.py``) on a
temporary SQLite database, with a real Redis (the embedded one ``frontdesk up`` starts, or
``--redis-url``) as the queue and the Socket.IO message queue. In this process, asyncio
python-socketio clients connect to ``/widget`` with a frame token from the real frame
page, and one signed-in staff client connects to ``/inbox`` and watches its workspace
room. Clients and servers share the machine's cores.

Setup (not timed): each visitor sends one message, which opens its conversation; staff
then take every conversation over, so the timed messages wait for humans (no AI runs).
Timed: each visitor sends ``--messages`` messages; the latency is from the visitor's send
to the staff socket receiving the conversation update that names the new message.

Scenarios (all by default, in one run):
- ``paced``: 200 visitors each sending every 1 s (about 200 messages/s), on the old
  threaded Werkzeug server (the baseline), and on the production server with one process
  and with two on its port (``--web-processes 2``, one per core).
- ``burst``: the same visitors in a closed loop (each sends again as soon as its message
  is acknowledged): the production server's capacity, with one process and with two.
  Each sends 9, with its hello the 10 a minute the per-visitor limit allows, so the run
  is long enough for its start and its last stragglers not to set the rate.
- ``fanout``: 1,000 visitors across two production servers on their own ports (as behind
  a sticky load balancer), each visitor sending every 10 s (100 messages/s); staff sit
  on the first, so half the messages reach them through the Redis message queue.

Rate limits are on the measured path: all visitors share 127.0.0.1, so the servers get a
per-IP limit large enough for the run; the per-visitor limit stays at the production
default (10 a minute), which the messages each visitor sends stay within.

    python benchmarks/realtime.py [--scenario all|paced|burst|fanout] [--redis-url URL]

Targets on 2 cores, for the production server: paced p95 < 200 ms (one process and two);
burst >= 400 messages/s with two processes (one per core); fanout p95 < 200 ms; none lost
and every message stored exactly once. The baseline and the one-process burst are shown
for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
import socketio
from _site import percentile
from sqlalchemy import text

from agent.config import Settings
from agent.core.workspaces import NewMember
from agent.queue.redis_server import EmbeddedRedis
from frontdesk.wiring import build

EMAIL, PASSWORD = "staff@bench.example", "realtime benchmark passphrase"
TIMED = "Timed message"
SERVER = Path(__file__).with_name("_realtime_server.py")


@dataclass(frozen=True)
class Scenario:
    name: str
    server: str  # "gevent" (production) or "threaded" (the old development server)
    visitors: int
    messages: int
    interval: float  # seconds between one visitor's messages; 0: closed loop
    servers: int = 1  # servers on ports of their own (visitors spread over them)
    processes: int = 1  # gevent worker processes each server runs on its port
    target: bool = True  # False: shown for comparison (the baseline, one core's capacity)


@dataclass
class Result:
    scenario: Scenario
    elapsed: float = 0.0
    sent: dict[int, float] = field(default_factory=dict)  # message id -> send time
    received: dict[int, float] = field(default_factory=dict)  # id -> staff saw it
    failures: list[str] = field(default_factory=list)
    stored: int = 0
    server_cpu: float = 0.0  # CPU seconds the web processes used while timed
    client_cpu: float = 0.0  # and this process (every client)

    @property
    def latencies(self) -> list[float]:
        return [self.received[i] - self.sent[i] for i in self.sent if i in self.received]

    @property
    def lost(self) -> int:
        return len(set(self.sent) - set(self.received)) + len(self.failures)

    @property
    def rate(self) -> float:
        return len(self.sent) / self.elapsed if self.elapsed else 0.0


def _cpu_seconds(roots: list[int]) -> float:
    """CPU time (user + system) of the processes ``roots`` and their children."""
    tick = os.sysconf("SC_CLK_TCK")
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        stats[int(stat.parent.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    wanted = set(roots)
    wanted |= {pid for pid, (parent, _) in stats.items() if parent in wanted}
    return sum(stats[pid][1] for pid in wanted if pid in stats) / tick


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def servers(
    kind: str, count: int, data_dir: Path, redis_url: str, processes: int = 1
) -> Iterator[tuple[list[str], list[int]]]:
    """Start ``count`` web servers of ``kind`` (each with ``processes`` workers) on one
    database; yield their base URLs and process ids."""
    procs, urls = [], []
    try:
        for _ in range(count):
            port = _free_port()
            command = [sys.executable, str(SERVER), "--server", kind, "--port", str(port)]
            command += ["--data-dir", str(data_dir), "--redis-url", redis_url]
            command += ["--processes", str(processes)] if kind == "gevent" else []
            procs.append(subprocess.Popen(command))
            urls.append(f"http://127.0.0.1:{port}")
        for url in urls:
            _wait_up(url)
        yield urls, [proc.pid for proc in procs]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            # Up when it answers: with no workers, /healthz says 503.
            if requests.get(f"{url}/healthz", timeout=1).status_code in (200, 503):
                return
        except requests.RequestException:  # not listening yet, or still starting
            time.sleep(0.2)
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


async def connect_visitor(url: str, token: str) -> tuple[socketio.AsyncClient, str]:
    client = socketio.AsyncClient(reconnection=False)
    identity: asyncio.Future[dict[str, str]] = asyncio.get_running_loop().create_future()

    async def on_identity(data: dict[str, str]) -> None:
        if not identity.done():
            identity.set_result(data)

    client.on("identity", on_identity, namespace="/widget")
    await client.connect(
        url,
        namespaces=["/widget"],
        auth={"frame_token": token},
        transports=["websocket"],
        wait_timeout=60,  # the connect handshake, slow while hundreds connect at once
    )
    return client, (await asyncio.wait_for(identity, 30))["visitor_id"]


async def _in_batches(coroutines: list, size: int = 25) -> list:
    done = []
    for start in range(0, len(coroutines), size):
        done += await asyncio.gather(*coroutines[start : start + size])
    return done


async def drive(
    scenario: Scenario, urls: list[str], pids: list[int], workspace: Any, container: Any
) -> Result:
    result = Result(scenario)
    staff = socketio.AsyncClient(reconnection=False)

    async def on_conversation(data: dict) -> None:
        new = data.get("new_message")
        if new and new["direction"] == "in":
            result.received.setdefault(new["id"], time.perf_counter())

    staff.on("conversation", on_conversation, namespace="/inbox")
    await staff.connect(
        urls[0],
        namespaces=["/inbox"],
        headers={"Cookie": staff_cookie(urls[0])},
        transports=["websocket"],
        wait_timeout=60,
    )
    tokens = [frame_token(url, workspace.widget_key) for url in urls]
    visitors = await _in_batches(
        [
            connect_visitor(urls[n % len(urls)], tokens[n % len(urls)])
            for n in range(scenario.visitors)
        ]
    )

    async def hello(client: socketio.AsyncClient) -> None:
        ack = await client.call(
            "message", {"body": "Hello", "client_id": uuid.uuid4().hex}, namespace="/widget"
        )
        assert ack["ok"], ack

    await _in_batches([hello(client) for client, _ in visitors])
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        member = repo.team.all()[0]
        ids = [repo.conversations.by_thread("webchat", v).id for _, v in visitors]
    for conversation_id in ids:
        container.conversations.take_over(workspace.id, conversation_id, member.id)

    async def visit(client: socketio.AsyncClient, number: int, began: float) -> None:
        # Paced visitors start at evenly spread offsets within one interval.
        offset = scenario.interval * number / scenario.visitors
        for n in range(scenario.messages):
            due = began + offset + n * scenario.interval
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            body = f"{TIMED} {n + 1} from visitor {number}: is Thursday at 3pm free?"
            sent = time.perf_counter()
            try:
                ack = await client.call(
                    "message",
                    {"body": body, "client_id": uuid.uuid4().hex},
                    namespace="/widget",
                    timeout=60,
                )
            except socketio.exceptions.TimeoutError:
                ack = {"error": "no acknowledgement in 60 s"}
            if ack.get("ok"):
                result.sent[ack["message"]["id"]] = sent
            else:
                result.failures.append(ack.get("error", "no ack"))

    server_cpu, client_cpu = _cpu_seconds(pids), _own_cpu()
    began = time.perf_counter()
    await asyncio.gather(*(visit(c, n, began) for n, (c, _) in enumerate(visitors)))
    result.elapsed = time.perf_counter() - began
    result.server_cpu = _cpu_seconds(pids) - server_cpu
    result.client_cpu = _own_cpu() - client_cpu
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not set(result.sent) <= set(result.received):
        await asyncio.sleep(0.05)
    await asyncio.gather(
        *(c.disconnect() for c in [staff, *(c for c, _ in visitors)]), return_exceptions=True
    )
    return result


def run(scenario: Scenario, data_dir: Path, redis_url: str) -> Result:
    settings = Settings.from_values({"data_dir": data_dir}).ensure_data_dir()
    container = build(settings, redis_url=redis_url)
    container.migrate()
    admin = NewMember(name="Bench Staff", email=EMAIL, password=PASSWORD, role="admin")
    workspace = container.workspaces.create({"name": "Bench Co", "country": "US"}, admin)
    started = servers(scenario.server, scenario.servers, data_dir, redis_url, scenario.processes)
    with started as (urls, pids):
        result = asyncio.run(drive(scenario, urls, pids, workspace, container))
    with container.engine.connect() as db:
        result.stored = db.execute(
            text("SELECT count(*) FROM message WHERE body LIKE :timed"), {"timed": f"{TIMED} %"}
        ).scalar_one()
    container.engine.dispose()
    return result


def report(result: Result) -> bool:
    s = result.scenario
    expected = s.visitors * s.messages
    pace = f"every {s.interval:g} s" if s.interval else "closed loop"
    server = "production server (gunicorn + gevent)" if s.server == "gevent" else "threaded server"
    each = f", {s.processes} processes on its port" if s.processes > 1 else ""
    print(
        f"\n{s.name}: {s.visitors:,} visitors x {s.messages} messages, {pace}, "
        f"{s.servers} x {server}{each}"
    )
    print(f"  sent in {result.elapsed:.2f} s ({result.rate:,.0f} msg/s)")
    if result.sent:
        per = 1000 / len(result.sent)
        print(
            f"  CPU while timed: web {result.server_cpu / result.elapsed:.0%} of a core"
            f" ({result.server_cpu * per:.1f} ms a message), clients"
            f" {result.client_cpu / result.elapsed:.0%} ({result.client_cpu * per:.1f} ms)"
        )
    latencies = result.latencies
    p95 = float("inf")
    if latencies:
        p50, p95, p99 = (percentile(latencies, p) * 1000 for p in (50, 95, 99))
        print(
            f"  visitor send -> staff receive: p50 {p50:.1f} ms  p95 {p95:.1f} ms"
            f"  p99 {p99:.1f} ms  max {max(latencies) * 1000:.1f} ms"
        )
    refused = f" (refused: {sorted(set(result.failures))})" if result.failures else ""
    print(f"  lost: {result.lost}{refused}; stored: {result.stored:,} (expected {expected:,})")
    intact = result.lost == 0 and result.stored == expected
    if s.name.startswith("burst"):
        ok, goal = intact and result.rate >= 400, ">= 400 msg/s"
    else:
        ok, goal = intact and p95 < 200, "p95 < 200 ms"
    verdict = "met" if ok else "NOT met"
    if not s.target:
        print(f"  (for comparison, no target) {goal}, 0 lost, {expected:,} stored: {verdict}")
        return True
    print(f"  target {goal}, 0 lost, {expected:,} stored: {verdict}")
    return ok


SCENARIOS = {
    "paced": [
        Scenario("paced (baseline)", "threaded", 200, 5, 1.0, target=False),
        Scenario("paced", "gevent", 200, 5, 1.0),
        Scenario("paced, 2 processes", "gevent", 200, 5, 1.0, processes=2),
    ],
    "burst": [
        Scenario("burst", "gevent", 200, 9, 0.0, target=False),  # one core's worth
        Scenario("burst, 2 processes", "gevent", 200, 9, 0.0, processes=2),
    ],
    "fanout": [Scenario("fanout", "gevent", 1000, 3, 10.0, servers=2)],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenario", choices=["all", *SCENARIOS], default="all")
    parser.add_argument("--redis-url", default="", help="a Redis server (default: embedded)")
    args = parser.parse_args()
    chosen = [s for name, group in SCENARIOS.items() for s in group]
    if args.scenario != "all":
        chosen = SCENARIOS[args.scenario]
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        redis_url = args.redis_url
        if not redis_url:
            redis = EmbeddedRedis(Path(tmp) / "redis")
            redis_url = redis.start()
            stack.callback(redis.stop)
        outcomes = []
        for number, scenario in enumerate(chosen):
            if args.redis_url:
                import redis as redis_client

                redis_client.Redis.from_url(redis_url).flushdb()
            outcomes.append(report(run(scenario, Path(tmp) / f"run{number}", redis_url)))
        print(f"\nall targets met: {all(outcomes)}")


if __name__ == "__main__":
    main()
