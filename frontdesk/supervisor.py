"""Keeps `frontdesk up`'s worker processes running.

A worker that exits (a crash, an out-of-memory kill, ``kill -9``) is reaped at once, so
it never lingers as a zombie, and started again after a backoff that doubles with each
quick failure (1 s, 2 s, 4 s ... at most a minute) and resets once a worker has run for
a minute. Every exit and restart is logged. Each worker leads its own process group, and
what a dead worker leaves behind (rq's scheduler process) is ended with it.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backoff:
    first: float = 1.0
    cap: float = 60.0
    stable: float = 60.0  # a worker that ran this long starts the count again

    def delay(self, failures: int) -> float:
        return min(self.cap, self.first * 2 ** max(0, failures - 1))


@dataclass
class _Child:
    command: list[str]
    proc: subprocess.Popen[bytes]
    started: float
    failures: int = 0
    restart_at: float | None = None


class Supervisor:
    def __init__(
        self,
        commands: Sequence[Sequence[str]],
        env: Mapping[str, str],
        *,
        backoff: Backoff = Backoff(),
        every: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._env = dict(env)
        self._backoff = backoff
        self._every = every
        self._clock = clock
        self._children = [_Child(list(c), self._spawn(c), clock()) for c in commands]
        self._stop = threading.Event()
        self._lock = threading.Lock()  # the monitor and stop() never touch a child at once
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)

    def _spawn(self, command: Sequence[str]) -> subprocess.Popen[bytes]:
        # Own session: a terminal's Ctrl-C reaches only `up`, which stops them in order.
        return subprocess.Popen(list(command), env=self._env, start_new_session=True)

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [c.proc.pid for c in self._children]

    def start(self) -> None:
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(self._every):
            self.check()

    def check(self) -> None:
        """Reap exited workers, schedule their restart, start those whose time has come."""
        with self._lock:
            if self._stop.is_set():
                return
            now = self._clock()
            for child in self._children:
                code = child.proc.poll()
                if code is None:
                    if child.failures and now - child.started >= self._backoff.stable:
                        child.failures = 0
                    continue
                if child.restart_at is None:
                    _end_group(child.proc.pid)  # e.g. rq's scheduler, forked by the worker
                    child.failures += 1
                    delay = self._backoff.delay(child.failures)
                    child.restart_at = now + delay
                    log.warning(
                        "worker %s (%s) exited with code %s; restarting in %.0f s",
                        child.proc.pid,
                        " ".join(child.command[-2:]),
                        code,
                        delay,
                    )
                elif now >= child.restart_at:
                    child.proc = self._spawn(child.command)
                    child.started, child.restart_at = now, None
                    log.warning("worker restarted as %s", child.proc.pid)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM every worker (rq finishes the current job), then wait; kill stragglers."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        with self._lock:
            procs = [c.proc for c in self._children]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            _end_group(proc.pid)


def _end_group(pgid: int) -> None:
    """Kill what a worker left behind: each worker leads a session (and group) of its own."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
