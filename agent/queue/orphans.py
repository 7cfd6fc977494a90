"""Forked children of a worker end when the worker does, even when it is killed outright.

rq runs its scheduler in a process forked from the worker, looping until it gets a signal,
and never checking on its parent. A worker killed with SIGKILL (the OOM killer, ``kill
-9``) would leave that scheduler running on its own, forever, still holding the
scheduler's lock in Redis.
"""

from __future__ import annotations

import os
import signal
import threading
import time

CHECK_SECONDS = 1.0
GRACE_SECONDS = 10.0  # after SIGTERM, for the scheduler to release its lock and exit


def stop_forks_when_orphaned() -> None:
    """From now on, every process forked from this one stops once this one is gone."""
    os.register_at_fork(after_in_child=_watch_parent)


def _watch_parent() -> None:
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(CHECK_SECONDS)
        os.kill(os.getpid(), signal.SIGTERM)  # rq's scheduler stops cleanly on SIGTERM
        time.sleep(GRACE_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
