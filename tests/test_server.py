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


SQLITE_PROBE = """
from gevent import monkey

monkey.patch_all()
import subprocess, sys, time
import gevent
from sqlalchemy import text
from agent.storage.database import make_engine

HOLD = '''
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
c.execute("INSERT INTO t VALUES (0)")
print("held", flush=True)
time.sleep(0.6)
c.execute("COMMIT")
'''
mode, path = sys.argv[1], sys.argv[2]
offload = gevent.get_hub().threadpool.apply if mode == "offload" else None
engine = make_engine(f"sqlite:///{path}", offload=offload)
with engine.begin() as connection:
    connection.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
holder = subprocess.Popen([sys.executable, "-c", HOLD, path], stdout=subprocess.PIPE, text=True)
assert holder.stdout.readline().strip() == "held"  # another process has the write lock
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
with engine.begin() as connection:  # BEGIN IMMEDIATE: waits for the lock
    connection.execute(text("INSERT INTO t VALUES (1)"))
waited = time.perf_counter() - began
gevent.sleep(0.05)
ticker.kill()
holder.wait()
with engine.connect() as connection:
    rows = connection.execute(text("SELECT x FROM t ORDER BY x")).scalars().all()
print(f"{max(gaps):.4f} {waited:.4f} {rows}")
"""


def _sqlite_stall(mode: str, tmp_path: Path) -> tuple[float, float, str]:
    done = subprocess.run(
        [sys.executable, "-c", SQLITE_PROBE, mode, str(tmp_path / f"{mode}.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    gap, waited, rows = done.stdout.split(maxsplit=2)
    return float(gap), float(waited), rows.strip()


def test_a_sqlite_write_waiting_for_the_lock_leaves_the_event_loop_free(tmp_path):
    """Another process holds SQLite's write lock for 0.6 s: a web request's write waits
    for it. On the loop itself every connection of the process waits too; with the
    offload frontdesk.wsgi sets up, only that request does."""
    blocked_gap, blocked_waited, rows = _sqlite_stall("inline", tmp_path)
    assert blocked_waited >= 0.3 and blocked_gap >= 0.3, (blocked_gap, blocked_waited)
    assert rows == "[0, 1]"
    free_gap, free_waited, rows = _sqlite_stall("offload", tmp_path)
    assert free_waited >= 0.3  # the write still waited for the lock, then went in
    assert rows == "[0, 1]"
    assert free_gap < 0.15, free_gap


def test_sqlite_and_knowledge_searches_go_through_the_containers_offload(sqlite_settings):
    """What frontdesk.wsgi hands the container under gevent carries every SQLite call and
    every knowledge search (here a recording runner on this thread)."""
    ran: list[str] = []

    def run(function, args):  # type: ignore[no-untyped-def]
        ran.append(getattr(function, "__name__", repr(function)))
        return function(*args)

    container = build(sqlite_settings.ensure_data_dir(), redis_url="", offload=run)
    workspace, _ = make_workspace(container)
    container.knowledge.add_qa(workspace.id, "Do you see cats?", "Yes, cats and dogs.")
    drain_ingestion(container)
    assert {"execute", "commit"} <= set(ran)  # SQLite's statements and commits
    ran.clear()
    [passage] = container.index.search(workspace.id, "do you treat cats", k=1)
    assert "cats and dogs" in passage.text
    assert ran == ["_search"]
    container.engine.dispose()


WRITERS_PROBE = """
from gevent import monkey

monkey.patch_all()
import sys, time
import gevent
from sqlalchemy import text
from agent.storage.database import make_engine

engine = make_engine(f"sqlite:///{sys.argv[1]}", offload=gevent.get_hub().threadpool.apply)
with engine.begin() as connection:
    connection.execute(text("CREATE TABLE t (writer INTEGER, n INTEGER)"))

def writer(number):
    for n in range(5):
        with engine.begin() as connection:  # BEGIN IMMEDIATE ... COMMIT
            connection.execute(text("INSERT INTO t VALUES (:w, :n)"), {"w": number, "n": n})
            gevent.sleep(0.001)  # paused mid-transaction: the others must wait their turn
            connection.execute(text("INSERT INTO t VALUES (:w, :n)"), {"w": -number, "n": n})

began = time.perf_counter()
gevent.joinall([gevent.spawn(writer, w) for w in range(1, 41)], raise_error=True)
took = time.perf_counter() - began
with engine.connect() as connection:
    rows = connection.execute(text("SELECT count(*) FROM t")).scalar()
print(rows, f"{took:.2f}")
"""


def test_offloaded_writers_in_one_process_take_turns(tmp_path):
    """40 greenlets each write 5 transactions that pause halfway (more writers than the
    pool has connections or the thread pool has threads): all land, promptly, none
    meets "database is locked"."""
    done = subprocess.run(
        [sys.executable, "-c", WRITERS_PROBE, str(tmp_path / "writers.db")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert done.returncode == 0, done.stderr
    rows, took = done.stdout.split()
    assert int(rows) == 40 * 5 * 2
    assert float(took) < 20, took
