"""Faults the product survives, on PostgreSQL and a real Redis, with real worker processes.

- a worker killed (SIGKILL) in the middle of the model call: the sweep of another worker
  runs the turn again, and exactly one AI reply is stored;
- Redis restarted (without persistence, so its queue is lost) while `frontdesk up` runs:
  pages keep serving, the visitor's socket gets the answers, nothing accepted is lost or
  stored twice, and the sweep answers what the lost queue held;
- "Refresh now" while one ingest worker crawls a site: the other worker skips the run,
  and every page is fetched once;
- a turn that outlives its lock's ttl keeps it, and a second turn of the conversation
  waits and fails with LockTimeout; when the lock is lost anyway, one reply is stored.

The processes run with FRONTDESK_SWEEP_SECONDS=1, so what the sweep recovers is recovered
in seconds rather than the production default's minute.

Covered elsewhere: a database unreachable at start-up (tests/test_cli.py::
test_an_unreachable_database_is_waited_for_then_a_clear_error), a full disk during an
upload (tests/test_upload_disk_full.py), a webhook delivered twice (tests/test_service.py::
test_retried_webhook_never_duplicates and test_concurrent_redeliveries_store_one_message,
tests/test_webhook_intake.py), a widget message resent (tests/test_widget_server.py::
test_a_resent_message_is_stored_once; here again across a Redis outage).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import replace
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import redis
import socketio as socketio_pkg
from rq.job import Job, JobStatus

from agent.config import Settings
from agent.core.conversations import Inbound
from agent.core.models import AuthorKind, SourceStatus
from agent.core.turns import TurnOutcome, TurnRunner
from agent.queue.locks import LockTimeout, RedisLocks
from frontdesk.wiring import Container, build
from tests.conftest import EchoResponder, make_workspace
from tests.openai_server import FakeOpenAI, Reply
from widget.identity import frame_token

pytestmark = pytest.mark.postgres
ON_POSTGRES = pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
SITE = "https://www.bayside.example"
NS = "/widget"


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    """Poll until ``condition`` returns something truthy; fail saying what never happened."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(0.05)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ai_replies(container: Container, workspace_id: int, conversation_id: int) -> list[Any]:
    """The AI's answers in a conversation (not the web chat's welcome message)."""
    with container.uow() as uow:
        thread = uow.workspace(workspace_id).messages.for_conversation(conversation_id)
    return [m for m in thread if m.author_kind == AuthorKind.AI and not m.meta.get("welcome")]


def process_env(settings: Settings, redis_url: str, **extra: str) -> dict[str, str]:
    """The environment of a frontdesk process sharing this test's database and data dir;
    one sweep a second, so a lost turn is retried within seconds."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "CHROMA_URL", "FRONTDESK_CONFIG")
        and not k.startswith("OPENAI_")
    }
    env.update(
        FRONTDESK_DATA_DIR=str(settings.data_dir),
        DATABASE_URL=settings.database_url,
        REDIS_URL=redis_url,
        FRONTDESK_SWEEP_SECONDS="1",
        FRONTDESK_LOG_LEVEL="WARNING",
        **extra,
    )
    return env


class Processes:
    """Child processes with their output in log files, killed at the end of the test."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self.started: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = (self._directory / f"{name}.log").open("wb")
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)
        self.started[name] = proc
        return proc

    def output(self) -> str:
        return "\n".join(
            f"--- {name} ---\n" + (self._directory / f"{name}.log").read_text()[-3000:]
            for name in self.started
        )

    def stop(self) -> None:
        for proc in self.started.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.started.values():
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    started = Processes(tmp_path)
    try:
        yield started
    finally:
        started.stop()


@pytest.fixture
def fd(settings: Settings, redis_url: str, redis_conn: redis.Redis) -> Iterator[Container]:
    """This test's own container on PostgreSQL and the test Redis database (flushed)."""
    container = build(settings.ensure_data_dir(), redis_url=redis_url)
    yield container
    container.engine.dispose()


def _stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command name (state, parent, ...)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def alive(pid: int) -> bool:
    """Running: neither gone nor a zombie waiting to be reaped."""
    fields = _stat(pid)
    return fields is not None and fields[0] != "Z"


def children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid``."""
    pids = (int(path.name) for path in Path("/proc").glob("[0-9]*"))
    return [child for child in pids if alive(child) and (_stat(child) or ["", "0"])[1] == str(pid)]


def worker_args(name: str, queues: str = "turns,default") -> list[str]:
    """A `frontdesk worker` process; those serving turns also sweep for lost ones."""
    return [sys.executable, "-m", "frontdesk.cli", "worker", "--queues", queues, "--name", name]


# -- a worker killed mid-turn -------------------------------------------------------------


class SlowFirstAnswer:
    """The scripted model: its first call hangs until released (the worker is killed
    meanwhile); every later call answers at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict[str, Any]]) -> Reply:
        with self._lock:
            self.calls += 1
            first = self.calls == 1
        if first:
            self.release.wait(60)
        return Reply("We open at nine tomorrow.")


@ON_POSTGRES
def test_a_worker_killed_mid_turn_is_replaced_by_another_and_one_reply_is_stored(
    fd, settings, redis_url, processes
):
    brain = SlowFirstAnswer()
    with FakeOpenAI(brain) as model:
        env = process_env(
            settings,
            redis_url,
            FRONTDESK_MODEL="openai:test-model",
            OPENAI_BASE_URL=model.base_url,
            OPENAI_API_KEY="test",
        )
        victim = processes.start("wa", worker_args("wa"), env)
        workspace, _ = make_workspace(fd)
        inbound = Inbound(channel="webchat", body="When do you open?", thread_id="v1")
        received = fd.conversations.receive(workspace.id, inbound)
        conversation_id, message_id = received.conversation.id, received.message.id
        try:
            wait_for(lambda: model.requests, 60, "the worker to call the model")
            processes.start("wb", worker_args("wb"), env)  # the one left once wa is killed
            assert fd.turn_locks.held(f"conversation:{conversation_id}")
            forked = children(victim.pid)  # rq's scheduler process
            assert forked
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
            brain.release.set()  # the dead worker's request ends unanswered
            (reply,) = wait_for(
                lambda: ai_replies(fd, workspace.id, conversation_id),
                30,
                "the other worker to answer",
            )
        except BaseException:
            print(processes.output())
            raise
    assert reply.body == "We open at nine tomorrow." and reply.reply_to_id == message_id
    assert brain.calls == 2  # the killed attempt, then the retry
    # Nothing left to redeliver, and a late retry of the first job changes nothing.
    assert fd.sweeper.sweep() == []
    assert fd.turns.run(workspace.id, conversation_id, message_id) is TurnOutcome.ALREADY_ANSWERED
    assert len(ai_replies(fd, workspace.id, conversation_id)) == 1
    # The dead worker's scheduler did not stay behind on its own.
    try:
        wait_for(
            lambda: not any(alive(pid) for pid in forked), 15, "the dead worker's scheduler to end"
        )
    finally:
        for pid in forked:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


# -- "Refresh now" while another ingest worker crawls ----------------------------------------


class SlowSite:
    """A small website counting requests per path; the first request hangs until
    released, so a crawl is held in progress as long as the test needs."""

    def __init__(self, directory: Path) -> None:
        (directory / "index.html").write_text(
            "<html><head><title>Harbour Plumbing</title></head><body><main>"
            "<h1>Harbour Plumbing</h1><p>Blocked drains cleared the same day.</p>"
            '<a href="prices.html">Prices</a></main></body></html>'
        )
        (directory / "prices.html").write_text(
            "<html><head><title>Prices</title></head><body><main><h1>Prices</h1>"
            "<p>A call-out costs 80 dollars, then 30 dollars for each quarter hour.</p>"
            "</main></body></html>"
        )
        self.release = threading.Event()
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        site = self

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(directory), **kwargs)

            def do_GET(self) -> None:
                with site._lock:
                    site.hits[self.path] = site.hits.get(self.path, 0) + 1
                    first = sum(site.hits.values()) == 1
                if first:
                    site.release.wait(30)
                super().do_GET()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()


def status(container: Container, workspace_id: int, source_id: int) -> str:
    return next(s.status for s in container.knowledge.sources(workspace_id) if s.id == source_id)


@ON_POSTGRES
def test_refresh_now_during_a_crawl_in_one_worker_starts_none_in_another(
    settings, redis_url, redis_conn, processes, request, tmp_path
):
    site = SlowSite(tmp_path)
    request.addfinalizer(site.close)
    settings = replace(settings, allow_private_urls=True).ensure_data_dir()
    fd = build(settings, redis_url=redis_url)
    request.addfinalizer(fd.engine.dispose)
    env = process_env(settings, redis_url, FRONTDESK_ALLOW_PRIVATE_URLS="1")
    for name in ("ingest-a", "ingest-b"):
        processes.start(name, worker_args(name, "ingest"), env)
    offline = build(settings, redis_url="")  # its profile is not queued: workers stay free
    workspace, _ = make_workspace(offline)
    offline.engine.dispose()
    source = fd.knowledge.add_website(workspace.id, site.url)
    job_id = f"ingest-{workspace.id}-{source.id}"
    try:
        wait_for(lambda: site.hits, 30, "a worker to start crawling")
        crawler = Job.fetch(job_id, connection=fd.redis).worker_name
        fd.knowledge.refresh(workspace.id, source.id)  # "Refresh now", mid-crawl
        job = wait_for(
            lambda: (
                (j := Job.fetch(job_id, connection=fd.redis)).get_status() == JobStatus.FINISHED
                and j
            ),
            30,
            "the other worker to take the refresh",
        )
        assert job.worker_name != crawler and job.return_value() is None  # skipped
        site.release.set()
        wait_for(
            lambda: status(fd, workspace.id, source.id) == SourceStatus.READY,
            60,
            "the crawl to finish",
        )
    except BaseException:
        print(processes.output())
        raise
    assert "/prices.html" in site.hits, site.hits  # the crawl went past the start page
    assert max(site.hits.values()) == 1, site.hits  # every page fetched once: one crawl


# -- a turn stuck past its lock's ttl -------------------------------------------------------


@ON_POSTGRES
def test_a_turn_longer_than_its_lock_ttl_keeps_the_lock_and_a_second_turn_waits(fd, redis_url):
    responder = EchoResponder(delay=1.5)  # five times the lock's ttl
    responder.service, responder.uow = fd.conversations, fd.uow
    workspace, _ = make_workspace(fd)
    received = fd.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Hello?", thread_id="v1")
    )
    ids = (workspace.id, received.conversation.id, received.message.id)

    def runner(wait: float) -> TurnRunner:  # each worker with its own Redis connection
        return TurnRunner(
            fd.uow, RedisLocks(redis.Redis.from_url(redis_url), ttl=0.3, wait=wait), responder
        )

    first = threading.Thread(target=runner(wait=1).run, args=ids)
    first.start()
    wait_for(lambda: responder.calls, 10, "the first turn to start")
    with pytest.raises(LockTimeout):
        runner(wait=0.9).run(*ids)  # three ttls: an unrenewed lock would have expired
    first.join()
    assert responder.calls == 1
    assert set(responder.max_active_per_conversation.values()) == {1}
    # rq retries the failed job later: it finds the message answered.
    assert runner(wait=1).run(*ids) is TurnOutcome.ALREADY_ANSWERED
    assert [m.body for m in ai_replies(fd, workspace.id, ids[1])] == [f"echo {ids[2]}"]


@ON_POSTGRES
def test_a_lost_turn_lock_still_stores_one_reply(fd, redis_conn):
    """Redis flushed mid-turn (restarted without persistence): the lock is gone, so a
    second turn of the same message runs alongside the first; only one reply is stored."""
    responder = EchoResponder(delay=1.0)
    responder.service, responder.uow = fd.conversations, fd.uow
    workspace, _ = make_workspace(fd)
    received = fd.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Hello?", thread_id="v1")
    )
    ids = (workspace.id, received.conversation.id, received.message.id)
    turns = TurnRunner(fd.uow, fd.turn_locks, responder)  # the product's Redis locks
    first = threading.Thread(target=turns.run, args=ids)
    first.start()
    wait_for(lambda: responder.calls, 10, "the first turn to start")
    redis_conn.flushdb()  # the lock with it
    turns.run(*ids)
    first.join()
    assert responder.max_active_per_conversation[ids[1]] == 2  # they did run alongside
    assert [m.body for m in ai_replies(fd, workspace.id, ids[1])] == [f"echo {ids[2]}"]


# -- Redis restarted under `frontdesk up` ---------------------------------------------------


class RedisServer:
    """A real redis-server on a free port, without persistence (a restart empties it)."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._directory = directory
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        args += ["--save", "", "--appendonly", "no", "--dir", str(self._directory)]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL)
        client = redis.Redis.from_url(self.url, socket_connect_timeout=0.5)

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.RedisError:
                return False

        wait_for(up, 10, "redis-server to start")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            self._proc.wait(timeout=10)


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def health(base: str) -> dict[str, Any] | None:
    try:
        return json.loads(get(f"{base}/healthz")[1])
    except OSError:
        return None


@ON_POSTGRES
def test_a_redis_restart_under_frontdesk_up_loses_no_message(
    settings, tmp_path, processes, request
):
    server = RedisServer(tmp_path)
    server.start()
    request.addfinalizer(server.stop)
    settings = settings.ensure_data_dir()
    container = build(settings, redis_url="")  # the test's view of the database only
    request.addfinalizer(container.engine.dispose)
    workspace, _ = make_workspace(container)
    container.workspaces.update_profile(workspace.id, {"widget": {"allowed_origins": [SITE]}})
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    up = [sys.executable, "-m", "frontdesk.cli", "up", "--port", str(port), "--workers", "1"]
    processes.start("up", up, process_env(settings, server.url))

    received: list[dict[str, Any]] = []
    identity: list[dict[str, Any]] = []
    client = socketio_pkg.Client()
    client.on("message", received.append, namespace=NS)
    client.on("identity", identity.append, namespace=NS)
    token = frame_token(settings.secret_key, workspace.id, SITE)

    def send(body: str, client_id: str) -> dict[str, Any]:
        return client.call("message", {"body": body, "client_id": client_id}, NS, timeout=15)

    def answered(message_id: int) -> list[dict[str, Any]]:
        return [m for m in received if m.get("role") == "ai" and m["id"] > message_id]

    try:
        wait_for(lambda: (health(base) or {}).get("status") == "ok", 60, "frontdesk up")
        client.connect(base, namespaces=[NS], auth={"frame_token": token}, wait_timeout=15)
        before = send("What are your opening hours?", "fault-before-1")
        assert before["ok"], before
        wait_for(lambda: answered(before["message"]["id"]), 60, "the answer before the restart")

        server.stop()
        wait_for(
            lambda: (health(base) or {}).get("checks", {}).get("queue", "").startswith("error"),
            10,
            "/healthz to report the queue down",
        )
        assert get(f"{base}/login")[0] == 200  # pages still serve
        during = send("Do you take walk-ins?", "fault-during-1")
        assert during["ok"], during  # stored; its turn waits for the queue
        again = send("Do you take walk-ins?", "fault-during-1")  # resent after a blip
        assert again == during

        server.start()  # empty: the queue and every lock are gone
        wait_for(lambda: (health(base) or {}).get("status") == "ok", 30, "health back to ok")
        # Its turn was never queued: the sweep finds it unanswered and dispatches it, and
        # the answer reaches the socket through the web process's new Redis subscription.
        wait_for(lambda: answered(during["message"]["id"]), 30, "the sweep to answer")
        after = send("Is there parking?", "fault-after-01")
        assert after["ok"], after
        wait_for(lambda: answered(after["message"]["id"]), 60, "answers after the restart")
        # A visitor coming back (a new socket, their saved credentials) sees it all once.
        back = socketio_pkg.Client()
        auth = {"frame_token": token, **identity[0]}
        back.connect(base, namespaces=[NS], auth=auth, wait_timeout=15)
        try:
            history = back.call("history", {}, NS, timeout=15)
        finally:
            back.disconnect()
    except BaseException:
        print(processes.output())
        raise
    finally:
        client.disconnect()
    ids = [m["id"] for m in history["messages"]]
    assert len(ids) == len(set(ids))
    assert [m["body"] for m in history["messages"] if m["role"] == "visitor"] == [
        "What are your opening hours?",
        "Do you take walk-ins?",
        "Is there parking?",
    ]
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        conversation = repo.conversations.by_thread("webchat", identity[0]["visitor_id"])
        thread = repo.messages.for_conversation(conversation.id)
    visitor = [m.body for m in thread if m.author_kind == AuthorKind.CONTACT]
    assert visitor == ["What are your opening hours?", "Do you take walk-ins?", "Is there parking?"]
    for message in (before, during, after):
        message_id = message["message"]["id"]
        replies = [m for m in thread if m.author_kind == AuthorKind.AI and m.reply_to_id]
        assert sum(1 for m in replies if m.reply_to_id == message_id) <= 1
        with container.uow() as uow:
            assert uow.workspace(workspace.id).messages.reply_to(message_id) is not None
