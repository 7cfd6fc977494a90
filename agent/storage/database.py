"""Engines and sessions for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

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
    loop kept taking more). A deployment that busy belongs on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

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
