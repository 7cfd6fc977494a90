"""The web app factory and its health check."""

from __future__ import annotations

import time

import pytest

from frontdesk.web import create_app


@pytest.fixture
def client(container):
    app, _ = create_app(container, testing=True)
    return app.test_client()


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok", "knowledge": "ok"}}


def test_healthz_reports_an_unmigrated_database(tmp_path, clock):
    from agent.config import Settings
    from frontdesk.wiring import build

    container = build(Settings.from_values({"data_dir": tmp_path}).ensure_data_dir(), clock=clock)
    app, _ = create_app(container, testing=True)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "needs migration"


def test_healthz_reports_an_unreachable_queue(settings, clock, tmp_path):
    from frontdesk.wiring import build

    container = build(
        settings.ensure_data_dir(), redis_url=f"unix://{tmp_path}/none.sock", clock=clock
    )
    app, _ = create_app(container, testing=True)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["checks"]["queue"].startswith("error")


def test_healthz_counts_live_workers_per_queue(settings, clock, redis_conn, redis_url):
    """Ready only when every queue has a worker that beat recently; a dead one drops out."""
    from agent.queue.workers import heartbeat
    from frontdesk.wiring import build

    container = build(settings.ensure_data_dir(), redis_url=redis_url, clock=clock)
    container.migrate()
    client = create_app(container, testing=True)[0].test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["workers"] == "none for turns, default, ingest"
    assert response.json["workers"] == {"turns": 0, "default": 0, "ingest": 0}
    with heartbeat(redis_conn, "w1", ["turns", "default"], every=0.1):
        with heartbeat(redis_conn, "w2", ["ingest"], every=0.1):
            response = client.get("/healthz")
            assert response.status_code == 200, response.json
            assert response.json["workers"] == {"turns": 1, "default": 1, "ingest": 1}
        response = client.get("/healthz")
        assert response.json["checks"]["workers"] == "none for ingest"
    # A worker killed outright stops beating: its key expires on its own.
    redis_conn.set("frontdesk:worker:dead", '{"queues": ["turns"]}', px=50)
    time.sleep(0.1)
    assert client.get("/healthz").json["workers"]["turns"] == 0
    container.engine.dispose()


def test_the_wsgi_entry_point_serves_the_app_from_the_environment(tmp_path, monkeypatch):
    """`frontdesk.wsgi:app` builds and migrates from the environment, like every command."""
    import importlib
    import sys

    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "data"))
    for var in ("DATABASE_URL", "REDIS_URL", "CHROMA_URL", "FRONTDESK_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delitem(sys.modules, "frontdesk.wsgi", raising=False)
    wsgi = importlib.import_module("frontdesk.wsgi")
    try:
        response = wsgi.app.test_client().get("/healthz")
        assert response.status_code == 200
        assert response.json["checks"] == {"database": "ok", "knowledge": "ok"}
        assert wsgi.app.test_client().get("/login").status_code == 200  # the inbox's pages
        assert (tmp_path / "data").is_dir()
    finally:
        wsgi._container.engine.dispose()
        sys.modules.pop("frontdesk.wsgi", None)
