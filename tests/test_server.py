"""`frontdesk serve`: the web process alone, on gunicorn with a gevent worker.

Run as a user runs it (a real process on a real port, the shared Redis of the tests):
pages and health answer, Socket.IO upgrades to a websocket (simple-websocket on gevent),
the serving process is gunicorn's, and SIGTERM stops it cleanly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import socketio

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


def test_serve_runs_the_production_server(tmp_path, redis_url):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CHROMA_URL")}
    env.update(FRONTDESK_DATA_DIR=str(tmp_path / "data"), REDIS_URL=redis_url)
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontdesk.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    client = socketio.Client(reconnection=False)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if _status(f"{base}/login") == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert _status(f"{base}/login") == 200
        # No worker runs beside `serve`: health says so instead of pretending.
        assert _status(f"{base}/healthz") == 503
        client.connect(base, transports=["websocket"], wait_timeout=10)
        assert client.transport() == "websocket"
        client.disconnect()
        children = _children(proc.pid)
        assert any("frontdesk.server" in line and f":{port}" in line for line in children)
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
