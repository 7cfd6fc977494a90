"""LangGraph checkpointers: SQLite next to the database by default, PostgreSQL with it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from langgraph.checkpoint.base import BaseCheckpointSaver
from sqlalchemy.engine import make_url


def make_checkpointer(sqlalchemy_url: str, data_dir: Path) -> BaseCheckpointSaver:
    url = make_url(sqlalchemy_url)
    if url.get_backend_name() == "postgresql":
        import psycopg
        from langgraph.checkpoint.postgres import PostgresSaver
        from psycopg.rows import dict_row

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        connection = psycopg.connect(
            conninfo, autocommit=True, prepare_threshold=0, row_factory=dict_row
        )
        saver = PostgresSaver(connection)
    else:
        from langgraph.checkpoint.sqlite import SqliteSaver

        path = data_dir / "checkpoints.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA busy_timeout=30000")
        saver = SqliteSaver(connection)
    saver.setup()
    return saver
