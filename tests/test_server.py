"""`frontdesk serve`: the web process alone, on gunicorn with a gevent worker.

Run as a user runs it (a real process on a real port, the shared Redis of the tests):
pages and health answer, Socket.IO upgrades to a websocket (simple-websocket on gevent),
the serving process is gunicorn's, and SIGTERM stops it cleanly.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import redis
import requests
import socketio

from agent.config import Settings
from agent.core.errors import ValidationError
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests.conftest import make_workspace
from tests.test_cli import _free_port
from tests.test_settings_pages import drain_ingestion


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _children(pid: int) -> list[str]:
    """Command lines of the processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append((stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError, IndexError):
            continue
    return found


def _serve(tmp_path, redis_url: str, *args: str) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHROMA_URL")}
    env.update(FRONTDESK_DATA_DIR=str(tmp_path / "data"), REDIS_URL=redis_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontdesk.cli", "serve", "--port", str(port), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if _status(f"{base}/login") == 200:
                break
        except OSError:
            time.sleep(0.2)
    return proc, base


def test_serve_runs_the_production_server(tmp_path, redis_url):
    proc, base = _serve(tmp_path, redis_url)
    port = int(base.rsplit(":", 1)[1])
    client = socketio.Client(reconnection=False)
    try:
        assert _status(f"{base}/login") == 200
        # No worker runs beside `serve`: health says so instead of pretending.
        assert _status(f"{base}/healthz") == 503
        client.connect(base, transports=["websocket"], wait_timeout=10)
        assert client.transport() == "websocket"
        client.disconnect()
        children = _children(proc.pid)
        assert any("frontdesk.server" in line and f":{port}" in line for line in children)
        assert _listening(port) == 1  # the master's socket: it outlives a replaced worker
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, output
    assert f"frontdesk web serving on 127.0.0.1:{port}" in output
    assert "frontdesk web stopped." in output
    assert "development server" not in output and "Traceback" not in output


def test_two_web_processes_share_the_port_over_websocket_only(tmp_path, redis_url):
    """`serve --web-processes 2`: two gevent workers on one port; every visitor's message
    reaches every socket of theirs, whichever process holds it (through Redis); pages
    tell the browsers to use WebSocket, and a long-polling handshake is refused plainly."""
    settings = Settings.from_values({"data_dir": tmp_path / "data"}).ensure_data_dir()
    container = build(settings, redis_url=redis_url)
    container.migrate()
    workspace, _ = make_workspace(container)
    site = "https://bayside.example"
    container.workspaces.update_profile(workspace.id, {"widget": {"allowed_origins": [site]}})
    container.engine.dispose()
    queue = redis.Redis.from_url(redis_url)
    listening_before = _subscribers(queue)  # other tests' servers may still be leaving
    fresh_widget_limits(queue)
    proc, base = _serve(tmp_path, redis_url, "--web-processes", "2")
    sockets: list[socketio.Client] = []
    try:
        assert _status(f"{base}/login") == 200
        [master] = [line for line in _children(proc.pid) if "frontdesk.server" in line]
        assert "--processes 2" in master
        master_pid = next(
            int(stat.parent.name)
            for stat in Path("/proc").glob("[0-9]*/stat")
            if _parent(stat) == proc.pid
        )
        deadline = time.monotonic() + 20  # the first worker may serve before the second
        while len(_children(master_pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(_children(master_pid)) == 2  # gunicorn's two workers
        # Each listens on a socket of its own (SO_REUSEPORT): the kernel spreads visitors.
        assert _listening(int(base.rsplit(":", 1)[1])) == 2
        login = urllib.request.urlopen(f"{base}/login", timeout=5).read().decode()
        assert '<meta name="socket-transports" content="websocket">' in login
        polling = f"{base}/socket.io/?EIO=4&transport=polling"
        try:
            urllib.request.urlopen(polling, timeout=5)
            raise AssertionError("long-polling was accepted")
        except urllib.error.HTTPError as refused:
            assert refused.code == 400 and b"Invalid transport" in refused.read()
        frame = (
            urllib.request.urlopen(
                f"{base}/widget/v1/{workspace.widget_key}/frame?host={site}", timeout=5
            )
            .read()
            .decode()
        )
        boot = json.loads(re.search(r'id="frontdesk-frame">(.*?)</script>', frame, re.S)[1])
        assert boot["transports"] == ["websocket"]
        # Staff watch the workspace from one process; visitors connect until both
        # processes hold sockets (a process subscribes to the queue at its first), so
        # some visitor's message must cross between them to reach staff.
        staff = socketio.Client(reconnection=False)
        sockets.append(staff)
        seen: list[str] = []
        staff.on(
            "conversation",
            lambda data: (
                (data.get("new_message") or {}).get("direction") == "in"
                and seen.append(data["preview"])
            ),
            namespace="/inbox",
        )
        staff.connect(
            base,
            namespaces=["/inbox"],
            headers={"Cookie": _signed_in(base, "dana@bayside-dental.example")},
            transports=["websocket"],
            wait_timeout=10,
        )
        visitors: list[socketio.Client] = []
        while len(_subscribers(queue) - listening_before) < 2:
            # (Fewer than the 30 messages an address may send a minute.)
            assert len(visitors) < 25, "every connection reached the same process"
            client = socketio.Client(reconnection=False)
            sockets.append(client)
            client.connect(
                base,
                namespaces=["/widget"],
                auth={"frame_token": boot["frame_token"]},
                transports=["websocket"],
                wait_timeout=10,
            )
            visitors.append(client)
            if len(visitors) >= 2:
                time.sleep(0.5)  # the other worker may still be loading the app
        for n, client in enumerate(visitors):
            ack = client.call(
                "message",
                {"body": f"Question {n}", "client_id": f"two-processes-{n:04d}"},
                namespace="/widget",
                timeout=10,
            )
            assert ack["ok"], ack
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and len(seen) < len(visitors):
            time.sleep(0.05)
        assert sorted(seen) == sorted(f"Question {n}" for n in range(len(visitors)))
    finally:
        for client in sockets:
            client.disconnect()
        proc.send_signal(signal.SIGTERM)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "(2 processes, WebSocket only)" in output and "Traceback" not in output


def _listening(port: int) -> int:
    """Listening TCP sockets on the port (IPv4, from the kernel's table)."""
    rows = Path("/proc/net/tcp").read_text().splitlines()[1:]
    fields = (row.split() for row in rows)
    return sum(1 for f in fields if f[1].endswith(f":{port:04X}") and f[3] == "0A")


def _subscribers(queue: redis.Redis) -> set[str]:
    """Redis clients subscribed to a channel: a web process joins the Socket.IO queue at
    its first connection (and nothing else in these tests subscribes)."""
    return {c["id"] for c in queue.client_list() if int(c.get("sub", 0)) > 0}


def fresh_widget_limits(queue: redis.Redis) -> None:
    """Every test's visitors come from 127.0.0.1: start with its widget counters at 0."""
    stale = list(queue.scan_iter("frontdesk:widget:*"))
    if stale:
        queue.delete(*stale)


def _signed_in(base: str, email: str) -> str:
    """Sign in over HTTP like a browser; the session cookie authenticates a socket."""
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=5).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page)[1]
    form = {"email": email, "password": "a long enough passphrase", "csrf_token": token}
    http.post(f"{base}/login", data=form, allow_redirects=False, timeout=5).raise_for_status()
    return "; ".join(f"{name}={value}" for name, value in http.cookies.items())


def _parent(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


OFFLOAD_PROBE = """
from gevent import monkey

monkey.patch_all()
import sys, time
import gevent
from ingestion.embed import MiniLMEmbedder

embedder = MiniLMEmbedder()
texts = ["How much is a standard service for an electric bike, and when can I bring it in?"] * 64
embedder.embed(texts[:8])  # warm up
if sys.argv[1] == "offload":
    embedder.offload(gevent.get_hub().threadpool.apply)
gaps, last = [], time.perf_counter()

def tick():
    global last
    while True:
        gevent.sleep(0.005)
        now = time.perf_counter()
        gaps.append(now - last)
        last = now

ticker = gevent.spawn(tick)
gevent.sleep(0.05)
began = time.perf_counter()
embedder.embed(texts)
took = time.perf_counter() - began
gevent.sleep(0.05)  # the ticker wakes and records the gap the embedding left
ticker.kill()
print(f"{max(gaps):.4f} {took:.4f}")
"""


def _longest_stall(mode: str) -> tuple[float, float]:
    done = subprocess.run(
        [sys.executable, "-c", OFFLOAD_PROBE, mode],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    gap, took = map(float, done.stdout.split())
    return gap, took


def test_embedding_on_the_thread_pool_leaves_the_event_loop_free():
    """Under gevent, the model's batches run on native threads (what frontdesk.wsgi sets
    up): other greenlets keep running every few milliseconds meanwhile, whereas on the
    loop itself the whole embedding is one stall."""
    blocked_gap, blocked_took = _longest_stall("inline")
    free_gap, _ = _longest_stall("offload")
    assert blocked_gap >= blocked_took * 0.9  # the whole embedding was one stall
    assert free_gap < blocked_gap / 2, (free_gap, blocked_gap)


def test_knowledge_searches_go_through_the_containers_offload(sqlite_settings):
    """What frontdesk.wsgi hands the container under gevent carries every knowledge search
    (here a recording runner on this thread), and nothing else."""
    ran: list[str] = []

    def run(function, args):  # type: ignore[no-untyped-def]
        ran.append(getattr(function, "__name__", repr(function)))
        return function(*args)

    container = build(sqlite_settings.ensure_data_dir(), redis_url="", offload=run)
    workspace, _ = make_workspace(container)
    container.knowledge.add_qa(workspace.id, "Do you see cats?", "Yes, cats and dogs.")
    drain_ingestion(container)
    assert ran == []  # SQLite's calls stay where they are (see agent.storage.database)
    [passage] = container.index.search(workspace.id, "do you treat cats", k=1)
    assert "cats and dogs" in passage.text
    assert ran == ["_search"]
    container.engine.dispose()


def test_several_web_processes_need_redis_and_accept_websocket_only(tmp_path, redis_url):
    def app_for(processes: int, redis: str):  # type: ignore[no-untyped-def]
        values = {"data_dir": tmp_path / f"p{processes}", "web_processes": processes}
        container = build(Settings.from_values(values).ensure_data_dir(), redis_url=redis)
        container.migrate()
        return create_app(container)

    app, socketio_server = app_for(1, "")
    assert socketio_server.server.eio.transports == ["websocket", "polling"]
    assert app.jinja_env.globals["socket_transports"] == ["websocket", "polling"]
    app, socketio_server = app_for(2, redis_url)
    assert socketio_server.server.eio.transports == ["websocket"]
    with pytest.raises(ValidationError, match="needs Redis"):
        app_for(2, "")
    environ = {"FRONTDESK_WEB_PROCESSES": "3", "FRONTDESK_DATA_DIR": str(tmp_path)}
    assert Settings.load(environ).web_processes == 3
    with pytest.raises(ValidationError, match="between 1 and 32"):
        Settings.load({**environ, "FRONTDESK_WEB_PROCESSES": "0"})


def test_the_wsgi_module_freezes_what_start_up_built(tmp_path):
    """The app and container live as long as the process: out of the collector's view,
    so its full collections (pauses of every connection under gevent) stay short."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHROMA_URL")}
    env.update(FRONTDESK_DATA_DIR=str(tmp_path / "data"), REDIS_URL="")
    probe = "import gc, frontdesk.wsgi; print(gc.get_freeze_count())"
    done = subprocess.run(
        [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000
