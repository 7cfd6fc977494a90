"""`frontdesk up`'s supervisor: dead workers are reaped and restarted, with backoff."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from frontdesk.supervisor import Backoff, Supervisor

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
QUITTER = [sys.executable, "-c", "raise SystemExit(3)"]


def _gone_or_reaped(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return not stat.exists()  # a zombie would still have its /proc entry


def _wait(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_backoff_doubles_up_to_its_cap():
    backoff = Backoff(first=1, cap=60)
    assert [backoff.delay(n) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]


def test_a_killed_worker_is_reaped_and_restarted(caplog):
    supervisor = Supervisor([SLEEPER, SLEEPER], os.environ, backoff=Backoff(first=0.2), every=0.05)
    supervisor.start()
    try:
        victim, survivor = supervisor.pids
        os.kill(victim, signal.SIGKILL)
        assert _wait(lambda: victim not in supervisor.pids and len(supervisor.pids) == 2)
        assert _gone_or_reaped(victim)
        assert survivor in supervisor.pids
        assert f"worker {victim}" in caplog.text and "restarted as" in caplog.text
    finally:
        pids = supervisor.pids
        supervisor.stop(timeout=5)
    assert all(_wait(lambda p=p: _gone_or_reaped(p)) for p in pids)


def test_quick_failures_wait_longer_each_time():
    now = [0.0]
    supervisor = Supervisor([QUITTER], os.environ, backoff=Backoff(first=1), clock=lambda: now[0])
    try:
        delays = []
        for _ in range(3):
            first = supervisor.pids[0]
            assert _wait(lambda: supervisor._children[0].proc.poll() is not None)
            supervisor.check()  # noticed: restart scheduled
            scheduled = supervisor._children[0].restart_at
            delays.append(scheduled - now[0])
            now[0] = scheduled - 0.01
            supervisor.check()
            assert supervisor.pids == [first]  # not yet
            now[0] = scheduled
            supervisor.check()
            assert supervisor.pids != [first]  # restarted on time
        assert delays == [1, 2, 4]
    finally:
        supervisor.stop(timeout=5)


def test_a_worker_that_stays_up_resets_the_backoff():
    now = [0.0]
    supervisor = Supervisor(
        [SLEEPER], os.environ, backoff=Backoff(first=1, stable=60), clock=lambda: now[0]
    )
    try:
        child = supervisor._children[0]
        child.failures = 5
        now[0] = 59
        supervisor.check()
        assert child.failures == 5
        now[0] = 61
        supervisor.check()
        assert child.failures == 0
    finally:
        supervisor.stop(timeout=5)
