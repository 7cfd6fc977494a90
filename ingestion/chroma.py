"""The Chroma client the knowledge index talks to: a server, or embedded files on disk."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import chromadb
from chromadb.config import Settings as ChromaSettings


class ChromaConnection:
    """A Chroma client that stays consistent when several processes share one data dir.

    With a Chroma server (``url``, from CHROMA_URL) every process sees every write.
    With embedded files, a client caches index segments in memory and would not see
    another process's writes, so every write bumps a generation file and a reader whose
    client predates the current generation reopens it (a ``stat`` per search).
    """

    def __init__(self, path: str = "", url: str = "") -> None:
        self._path = Path(path) if path else None
        self._url = url
        self._settings = ChromaSettings(anonymized_telemetry=False)
        self._client: chromadb.ClientAPI | None = None
        self._generation = ""
        self._lock = threading.RLock()

    @property
    def _generation_file(self) -> Path | None:
        return None if self._url or self._path is None else self._path / "frontdesk.generation"

    def _read_generation(self) -> str:
        file = self._generation_file
        try:
            return file.read_text() if file is not None else ""
        except FileNotFoundError:
            return ""

    def client(self) -> chromadb.ClientAPI:
        with self._lock:
            generation = self._read_generation()
            if self._client is not None and generation == self._generation:
                return self._client
            if self._client is not None:
                self._client.clear_system_cache()
            self._client = self._open()
            self._generation = generation
            return self._client

    def _open(self) -> chromadb.ClientAPI:
        if self._url:
            parts = urlsplit(self._url)
            return chromadb.HttpClient(
                host=parts.hostname or "localhost",
                port=parts.port or (443 if parts.scheme == "https" else 8000),
                ssl=parts.scheme == "https",
                settings=self._settings,
            )
        assert self._path is not None
        self._path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(self._path), settings=self._settings)

    def heartbeat(self) -> None:
        """Raise unless Chroma answers (the server's heartbeat, or the files opening)."""
        self.client().heartbeat()

    def stamp(self) -> str | None:
        """Changes whenever any process writes embedded files; None for a server."""
        return None if self._generation_file is None else self._read_generation()

    def wrote(self) -> None:
        """Record a write by this process: others reopen, this client is already current."""
        file = self._generation_file
        if file is None:
            return
        with self._lock:
            generation = uuid.uuid4().hex
            tmp = file.with_suffix(".tmp")
            tmp.write_text(generation)
            tmp.replace(file)
            self._generation = generation
