"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from agent.offload import Runner
from agent.storage.tables import map_models

READ_ONLY = "frontdesk_read_only"  # execution option: a transaction that only reads


def make_engine(url: str, *, offload: Runner | None = None) -> Engine:
    """An engine tuned for the backend: WAL and write-ahead transactions on SQLite.

    ``offload``: on an event loop (the gevent web server), SQLite's calls run through it, on
    native threads, so a write waiting for the lock another process holds (up to the 30 s
    busy timeout) stalls only its own request. PostgreSQL's driver cooperates with gevent
    by itself."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": 30}
    if offload is not None:
        connect_args["factory"] = offloaded_connection(offload)
    engine = create_engine(url, connect_args=connect_args)

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own handling defers it badly).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):  # type: ignore[no-untyped-def]
        # Writers take the write lock up front, so two never deadlock on a lock upgrade;
        # readers (WAL) take no lock at all and never wait for a writer.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


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


def offloaded_connection(run: Runner) -> type[sqlite3.Connection]:
    """A ``sqlite3.Connection`` class whose calls that may wait go through ``run``: taking
    the write lock (BEGIN IMMEDIATE, which waits while another process writes) and
    COMMIT (the WAL write and its checkpoints). The rest (reads, which never wait in WAL
    mode, and a writer's statements once it holds the lock) run in place: a thread hop
    per statement would double the CPU a message costs.

    Write transactions take turns within the process (a lock taken in the caller's
    greenlet before BEGIN IMMEDIATE, released at COMMIT or ROLLBACK), so a writer paused
    mid-transaction never has others waiting for SQLite's lock on every native thread it
    needs to finish."""
    writing = threading.Lock()  # gevent's cooperative lock once threading is patched

    class Cursor(sqlite3.Cursor):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            connection = self.connection
            if isinstance(connection, Connection) and sql.lstrip()[:15].upper() == (
                "BEGIN IMMEDIATE"
            ):
                connection.writer_turn()
                return run(super().execute, (sql, *args))
            return super().execute(sql, *args)

    class Connection(sqlite3.Connection):
        holds_turn = False

        def writer_turn(self) -> None:
            if not self.holds_turn:
                writing.acquire()
                self.holds_turn = True

        def _end_turn(self) -> None:
            if self.holds_turn:
                self.holds_turn = False
                writing.release()

        def cursor(self, factory: Any = Cursor) -> sqlite3.Cursor:  # type: ignore[override]
            return super().cursor(factory)

        def commit(self) -> None:
            try:
                if self.in_transaction:
                    run(super().commit, ())
            finally:
                self._end_turn()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._end_turn()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._end_turn()

    return Connection
