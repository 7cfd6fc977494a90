"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from agent.storage.tables import map_models

READ_ONLY = "frontdesk_read_only"  # execution option: a transaction that only reads


def make_engine(url: str) -> Engine:
    """An engine tuned for the backend: WAL and write-ahead transactions on SQLite.

    SQLite's calls stay on the caller's thread, event loop included: sending them to
    native threads under gevent was measured (benchmarks/realtime.py, 2026-12-04) to cost
    a quarter more CPU a message, and with two web processes sharing the file the p95
    went from 124 ms to 11 s (GIL hand-offs, and the busy handler's backoff while the
    loop kept taking more). What did stall the loop was waiting for another process's
    write lock inside SQLite's busy handler: writers wait at the ``WriterGate`` instead
    (two processes, 100 msg/s: p95 115 → 24 ms). A deployment busier than one file's
    writer belongs on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    gate = WriterGate()

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling defers it badly).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock up front, so two never deadlock on a lock upgrade;
        # readers (WAL) take no lock at all and never wait for a writer.
        if connection.get_execution_options().get(READ_ONLY, False):
            connection.exec_driver_sql("BEGIN")
        else:
            record = connection.connection
            gate.begin(record.dbapi_connection, record.info)

    def _written(connection):  # type: ignore[no-untyped-def]
        gate.end(connection.connection.info)

    # Also when a connection goes back to the pool (or is dropped) mid-transaction.
    @event.listens_for(engine.pool, "reset")
    def _reset(_dbapi_connection, record, _state):  # type: ignore[no-untyped-def]
        gate.end(record.info)

    @event.listens_for(engine.pool, "invalidate")
    def _invalidated(_dbapi_connection, record, _error):  # type: ignore[no-untyped-def]
        gate.end(record.info)

    event.listen(engine, "commit", _written)
    event.listen(engine, "rollback", _written)

    return engine


BUSY_TIMEOUT_MS = 30_000  # what any other statement may wait for a lock
WRITE_WAIT = 30.0  # seconds a writer may wait for the write lock
_WRITING = "frontdesk_writing"  # connection record info: this connection holds the gate


class WriterGate:
    """SQLite's one writer at a time, waited for in Python instead of in SQLite's C.

    SQLite's busy handler sleeps inside C, where an event loop (the gevent web server)
    runs nothing else: with two processes on one file, each stalled its whole loop while
    the other wrote. Here writers of this process queue on a lock (gevent makes it
    cooperative), and only the head of the queue asks SQLite, without waiting there
    (busy timeout 0), backing off with ``time.sleep`` (cooperative too) while another
    process writes. Under threads it is the wait SQLite's handler did."""

    def __init__(self, wait: float = WRITE_WAIT, sleep: Callable[[float], None] | None = None):
        self._lock = threading.Lock()  # made after gevent's patching: cooperative there
        self._wait = wait
        self._sleep = sleep

    def begin(self, dbapi_connection: sqlite3.Connection, info: dict[str, Any]) -> None:
        deadline = time.monotonic() + self._wait
        if not self._lock.acquire(timeout=self._wait):
            raise sqlite3.OperationalError("database is locked (waited for this process)")
        info[_WRITING] = True
        try:
            self._begin_immediate(dbapi_connection, deadline)
        except BaseException:
            self.end(info)
            raise

    def end(self, info: dict[str, Any]) -> None:
        """After the transaction (committed, rolled back, or its connection returned)."""
        if info.pop(_WRITING, False):
            self._lock.release()

    def _begin_immediate(self, dbapi_connection: sqlite3.Connection, deadline: float) -> None:
        delay = 0.00025
        dbapi_connection.execute("PRAGMA busy_timeout=0")
        try:
            while True:
                try:
                    dbapi_connection.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() + delay > deadline:
                        raise
                (self._sleep or time.sleep)(delay)  # looked up late: gevent patches it
                delay = min(delay * 2, 0.001)  # short: the other writer holds it ~1.5 ms
        finally:
            dbapi_connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def make_session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    map_models()
    if not read_only:
        return sessionmaker(engine, expire_on_commit=False, autoflush=False)
    readers = sessionmaker(
        engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, autoflush=False
    )

    @event.listens_for(readers, "before_flush")
    def _refuse_writes(session, _context, _instances):  # type: ignore[no-untyped-def]
        raise RuntimeError("a read-only unit of work tried to write; open a writing one")

    return readers
