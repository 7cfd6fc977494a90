"""The command line, run as a user would (click's runner in-process, `up` as a real process)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner

from agent.config import Settings
from frontdesk.cli import main
from frontdesk.wiring import build
from tests.test_crawl import DISGUISED_LOOPBACK

COMMANDS = [
    "init",
    "demo",
    "up",
    "serve",
    "worker",
    "db",
    "db upgrade",
    "db current",
    "jobs",
    "jobs failed",
]
COMMANDS += ["eval", "eval run", "eval init", "knowledge", "chat", "smtp"]


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "data"))
    for var in ("DATABASE_URL", "REDIS_URL", "FRONTDESK_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def invoke(*args, input=None):
        return runner.invoke(main, list(args), input=input, catch_exceptions=False)

    return invoke


def workspaces(tmp_path):
    container = build(Settings.from_values({"data_dir": tmp_path / "data"}))
    try:
        return container.workspaces.all()
    finally:
        container.engine.dispose()


def test_help_lists_every_command(run):
    result = run("--help")
    assert result.exit_code == 0
    for name in ("init", "demo", "up", "worker", "db", "jobs"):
        assert f"  {name} " in result.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(run, command):
    result = run(*command.split(), "--help")
    assert result.exit_code == 0 and "Usage: " in result.output


def test_init_creates_a_workspace_and_admin(run, tmp_path):
    result = run(
        "init",
        "--workspace",
        "Acme Dental",
        "--admin-email",
        "dana@acme.example",
        "--admin-password",
        "a long enough passphrase",
        "--timezone",
        "Europe/Dublin",
        "--country",
        "IE",
    )
    assert result.exit_code == 0, result.output
    assert "Created workspace 'Acme Dental'" in result.output
    (ws,) = workspaces(tmp_path)
    assert (ws.name, ws.timezone, ws.country) == ("Acme Dental", "Europe/Dublin", "IE")


def test_init_prompts_for_missing_values(run, tmp_path):
    password = "very long passphrase here"
    answers = f"Prompted Co\nadmin@prompted.example\n{password}\n{password}\n"
    result = run("init", input=answers)
    assert result.exit_code == 0, result.output
    assert [w.name for w in workspaces(tmp_path)] == ["Prompted Co"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--admin-password", "short"], "password: must be at least 10 characters long"),
        (["--admin-password", "password123"], "too easy to guess"),
        (
            ["--admin-password", "long enough pass", "--timezone", "Moon/Base"],
            "not a known time zone",
        ),
        (["--admin-password", "long enough pass", "--admin-email", "nope"], "not a valid email"),
    ],
)
def test_init_refuses_bad_input_clearly_and_stores_nothing(run, tmp_path, args, message):
    base = {"--workspace": "Acme", "--admin-email": "dana@acme.example"}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    flat = [item for pair in base.items() for item in pair]
    result = run("init", *flat)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert workspaces(tmp_path) == []


def test_demo_creates_a_useful_workspace_once(run, tmp_path):
    result = run("demo", "--admin-password", "demo passphrase 2026")
    assert result.exit_code == 0, result.output
    assert "Log in as admin@demo.example" in result.output
    (ws,) = workspaces(tmp_path)
    assert ws.name == "Spoke & Sprocket Cycle Repairs" and ws.links and ws.hours["tue"]
    container = build(Settings.from_values({"data_dir": tmp_path / "data"}))
    with container.uow() as uow:
        sources = uow.workspace(ws.id).knowledge.all()
    container.engine.dispose()
    kinds = [s.kind for s in sources]
    assert kinds.count("qa") >= 5 and kinds.count("file") >= 6 and "profile" in kinds
    assert not any(s.uri == "staff.html" for s in sources)  # the internal page is not knowledge
    assert (tmp_path / "data" / "uploads" / str(ws.id) / "pricing.html").exists()
    again = run("demo", "--if-empty")
    assert again.exit_code == 0 and "already exists" in again.output
    assert len(workspaces(tmp_path)) == 1


@pytest.mark.parametrize("allowed", [False, True], ids=["public-only", "private-allowed"])
def test_knowledge_add_refuses_private_addresses_in_disguise(
    run, tmp_path, monkeypatch, redis_url, redis_conn, allowed
):
    """2130706433, 0x7f000001, 127.1... are 127.0.0.1: refused when added, with the
    crawler's words, unless FRONTDESK_ALLOW_PRIVATE_URLS is on (tests only)."""
    monkeypatch.setenv("REDIS_URL", redis_url)
    if allowed:
        monkeypatch.setenv("FRONTDESK_ALLOW_PRIVATE_URLS", "1")
    admin = ["--admin-email", "a@acme.example", "--admin-password", "a long enough passphrase"]
    assert run("init", "--workspace", "Acme", *admin).exit_code == 0
    for url in DISGUISED_LOOPBACK:
        result = run("knowledge", "add", url)
        if allowed:
            assert result.exit_code == 0, result.output
            continue
        assert result.exit_code == 1, result.output
        crawler = f"{url} points to a loopback address; frontdesk only fetches public websites"
        assert crawler in result.output and "Traceback" not in result.output
    container = build(Settings.from_values({"data_dir": tmp_path / "data"}))
    try:
        (ws,) = container.workspaces.all()
        added = [s.uri for s in container.knowledge.sources(ws.id) if s.kind == "website"]
    finally:
        container.engine.dispose()
    assert added == (DISGUISED_LOOPBACK if allowed else [])


def test_db_upgrade_and_current(run):
    assert "empty" in run("db", "current").output
    assert run("db", "upgrade").exit_code == 0
    assert "up to date" in run("db", "current").output


def test_jobs_failed_when_none(run):
    result = run("jobs", "failed")
    assert result.exit_code == 0 and "No failed jobs." in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _worker_pids(up: int) -> list[int]:
    """The worker processes `up` (pid ``up``) runs: its children that are workers."""
    found = subprocess.run(["pgrep", "-f", "frontdesk.cli worker"], capture_output=True, text=True)
    pids = []
    for pid in map(int, found.stdout.split()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == up:  # the parent pid field
            pids.append(pid)
    return pids


def test_up_serves_and_stops_cleanly_on_ctrl_c(tmp_path):
    """`frontdesk up` on embedded defaults: web, workers and Redis start; a worker killed
    with SIGKILL is reaped and replaced; Ctrl-C stops them all, even when another signal
    follows at once."""
    port = _free_port()
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env["FRONTDESK_DATA_DIR"] = str(data)
    proc = subprocess.Popen(
        [sys.executable, "-m", "frontdesk.cli", "up", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        status, body = 0, b""
        while time.monotonic() < deadline:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz")
                if status == 200:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        assert status == 200, proc.stdout.read() if proc.poll() is not None else "timed out"
        assert json.loads(body) == {
            "status": "ok",
            "checks": {"database": "ok", "queue": "ok", "workers": "ok", "knowledge": "ok"},
            "workers": {"turns": 1, "default": 1, "ingest": 1},
        }
        assert (data / "redis" / "redis.sock").exists()
        # A worker killed outright is replaced, and health shows the gap meanwhile.
        victim = _worker_pids(proc.pid)[0]
        os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (
            victim in _worker_pids(proc.pid) or len(_worker_pids(proc.pid)) < 2
        ):
            time.sleep(0.2)
        assert victim not in _worker_pids(proc.pid) and len(_worker_pids(proc.pid)) == 2
        assert not Path(f"/proc/{victim}").exists()  # reaped, not a zombie
        while time.monotonic() < deadline and _get(f"http://127.0.0.1:{port}/healthz")[0] != 200:
            time.sleep(0.2)
        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
        workers = _worker_pids(proc.pid)
        proc.send_signal(signal.SIGINT)
        seen = []
        while not seen or "Stopping workers" not in seen[-1]:
            seen.append(proc.stdout.readline())
            assert seen[-1], "".join(seen)
        proc.send_signal(signal.SIGTERM)  # a supervisor's second signal, mid-shutdown
        output, _ = proc.communicate(timeout=60)
        output = "".join(seen) + output
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert f"frontdesk is up: open http://127.0.0.1:{port}/" in output
    assert "frontdesk stopped." in output
    assert "development server" not in output  # the web runs on gunicorn (frontdesk.server)
    assert not (data / "redis" / "redis.sock").exists()
    for pid in workers:
        stat = Path(f"/proc/{pid}/stat")
        assert not stat.exists() or stat.read_text().split()[2] == "Z"  # gone, or a zombie


def test_up_refuses_a_busy_port(run):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run("up", "--port", str(port))
    assert result.exit_code == 1 and "is in use" in result.output


def test_an_unreachable_database_is_waited_for_then_a_clear_error(run, monkeypatch):
    """A database that is not up yet (or never comes): the command says so and tries
    again with a backoff, then stops with a clear error, never a traceback."""
    from frontdesk.cli import context

    slept: list[float] = []
    monkeypatch.setattr(context, "DB_WAIT_SECONDS", 6.0)
    monkeypatch.setattr(context.time, "sleep", slept.append)
    monkeypatch.setenv("DATABASE_URL", "postgresql://frontdesk:hunter2@127.0.0.1:1/frontdesk")
    runner = CliRunner()
    result = runner.invoke(main, ["knowledge", "list"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert slept == [1.0, 2.0, 4.0]  # 7 s waited, more than the 6 allowed
    assert "is not reachable" in result.output and "trying again in 1 s" in result.output
    assert "Check DATABASE_URL" in result.output
    assert "hunter2" not in result.output  # the password is never shown


def test_up_and_serve_pass_the_web_processes_to_the_server():
    """`--web-processes N` becomes gunicorn's worker count; --help names the setting."""
    from frontdesk.cli.run import _web_command

    command = _web_command("0.0.0.0", 8000, "INFO", 2)
    assert command[1:3] == ["-m", "frontdesk.server"]
    assert command[command.index("--processes") + 1] == "2"
    assert command[command.index("--bind") + 1] == "0.0.0.0:8000"
    assert _web_command("::", 8000, "INFO", 1)[-3] == "[::]:8000"
    for name in ("up", "serve"):
        shown = CliRunner().invoke(main, [name, "--help"]).output
        assert "--web-processes" in shown and "FRONTDESK_WEB_PROCESSES" in shown
