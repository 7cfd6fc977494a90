"""The knowledge index on a real Chroma server (CHROMA_URL), shared by separate processes.

The server is the `chroma run` the chromadb wheel ships. One container ingests a source
through the normal knowledge service; a second one, built separately with its own data
directory (another process, as a worker and the web app are), finds it at once, and
nothing is written to embedded Chroma files.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from agent.config import Settings
from frontdesk.wiring import Container, build
from tests.conftest import make_workspace


def on_server(settings: Settings, url: str, data_dir: Path) -> Container:
    """A container as a separate process would build it: CHROMA_URL from the environment,
    the shared database, its own data directory."""
    environ = {
        "FRONTDESK_DATA_DIR": str(data_dir),
        "DATABASE_URL": settings.sqlalchemy_url,
        "CHROMA_URL": url,
    }
    loaded = Settings.load(environ=environ)
    loaded = replace(loaded, secret_key=settings.secret_key).ensure_data_dir()
    return build(loaded, redis_url="")


def ingest(container: Container) -> None:
    """Run the queued ingestion here, as a worker would (no Redis: the queue is deferred)."""
    queue = container.ingest_queue
    while queue.pending:
        _action, workspace_id, source_id = queue.pending.pop(0)
        container.ingestor.run(workspace_id, source_id)


def test_knowledge_ingested_by_one_process_is_found_by_another(
    sqlite_settings, chroma_server, tmp_path
):
    chroma_url = chroma_server.url
    writer = on_server(sqlite_settings, chroma_url, tmp_path / "writer")
    reader = on_server(sqlite_settings, chroma_url, tmp_path / "reader")
    try:
        assert writer.settings.chroma_url == chroma_url
        workspace, _ = make_workspace(writer)
        other, _ = make_workspace(writer, "Harbour Plumbing")
        source = writer.knowledge.add_text(
            workspace.id, "Parking", "Free parking behind the clinic, off Elm Street."
        )
        ingest(writer)
        found = reader.index.search(workspace.id, "where can I park my car", 3)
        assert found and found[0].source_id == source.id
        assert "Elm Street" in found[0].text
        # A later write is seen too: the reader keeps no stale copy of the index.
        later = writer.knowledge.add_text(
            workspace.id, "Pets", "Guide dogs are welcome; other pets wait outside."
        )
        ingest(writer)
        found = reader.index.search(workspace.id, "can I bring my dog", 3)
        assert found and found[0].source_id == later.id
        elsewhere = reader.index.search(other.id, "where can I park my car", 3)
        assert all("Elm Street" not in p.text for p in elsewhere)  # workspaces stay apart
        for process in (writer, reader):  # everything went to the server
            assert not process.settings.chroma_path.exists()
    finally:
        writer.engine.dispose()
        reader.engine.dispose()
