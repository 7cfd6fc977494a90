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

from tests.test_cli import _free_port


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
