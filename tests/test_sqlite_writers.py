"""SQLite's one writer at a time, waited for in Python (``agent.storage.database``).

The web server runs on an event loop (gevent): a wait inside SQLite's C busy handler
stalls every visitor of that process, so writers queue on a lock and back off with
``time.sleep``, which gevent makes cooperative. Real SQLite files, real threads.
"""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text

from agent.storage import database
from agent.storage.database import BUSY_TIMEOUT_MS, WriterGate, make_engine


def _connect(path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    connection.execute("PRAGMA journal_mode=WAL")
    return connection


@pytest.fixture
def db_file(tmp_path):
    path = tmp_path / "gate.db"
    with _connect(path) as connection:
        connection.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    return path


def test_a_writer_waits_for_another_connections_lock_in_python_sleeps(db_file):
    holder, waiter = _connect(db_file), _connect(db_file)
    holder.execute("BEGIN IMMEDIATE")
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) == 4:
            holder.execute("COMMIT")  # the other writer is done

    gate, info = WriterGate(sleep=sleep), {}
    gate.begin(waiter, info)
    assert slept == [0.00025, 0.0005, 0.001, 0.001]  # backing off, in Python, not in C
    assert waiter.in_transaction
    assert waiter.execute("PRAGMA busy_timeout").fetchone()[0] == BUSY_TIMEOUT_MS
    waiter.execute("INSERT INTO t (v) VALUES ('written')")
    waiter.execute("COMMIT")
    gate.end(info)
    assert holder.execute("SELECT v FROM t").fetchall() == [("written",)]


def test_a_writer_gives_up_after_its_wait_and_leaves_the_gate_open(db_file):
    holder, waiter = _connect(db_file), _connect(db_file)
    holder.execute("BEGIN IMMEDIATE")
    gate = WriterGate(wait=0.01, sleep=lambda seconds: time.sleep(seconds))
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        gate.begin(waiter, {})
    assert not waiter.in_transaction
    holder.execute("COMMIT")
    info: dict = {}
    gate.begin(waiter, info)  # nobody holds the gate after the failure
    waiter.execute("COMMIT")
    gate.end(info)


def test_writers_of_one_engine_queue_on_the_gate_and_never_see_sqlite_busy(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'queue.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    inside, release = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t (v) VALUES ('first')"))
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inside.wait(5)
    asked: list[float] = []
    original = database.WriterGate._begin_immediate

    def counting(self, connection, deadline):  # type: ignore[no-untyped-def]
        asked.append(time.monotonic())
        return original(self, connection, deadline)

    database.WriterGate._begin_immediate = counting  # type: ignore[method-assign]
    try:
        threading.Timer(0.2, release.set).start()
        began = time.monotonic()
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t (v) VALUES ('second')"))
    finally:
        database.WriterGate._begin_immediate = original  # type: ignore[method-assign]
    thread.join(5)
    # The second writer asked SQLite once, after the first had finished: it waited on the
    # process's gate, not in SQLite's busy handler.
    assert len(asked) == 1 and asked[0] - began >= 0.15
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT v FROM t ORDER BY id")).scalars().all()
    assert rows == ["first", "second"]
    engine.dispose()


def test_the_gate_opens_after_a_rollback_and_after_a_connection_is_dropped(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'release.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)"))
    with pytest.raises(Exception, match="UNIQUE"), engine.begin() as connection:
        connection.execute(text("INSERT INTO t (v) VALUES ('same')"))
        connection.execute(text("INSERT INTO t (v) VALUES ('same')"))
    connection = engine.connect()
    connection.execute(text("INSERT INTO t (v) VALUES ('left open')"))
    connection.invalidate()  # dropped mid-transaction: nothing committed
    done = threading.Event()

    def write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO t (v) VALUES ('after')"))
        done.set()

    threading.Thread(target=write).start()
    assert done.wait(5), "a writer still waits on the gate"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT v FROM t")).scalars().all() == ["after"]
    engine.dispose()
