"""The web app factory and its health check."""

from __future__ import annotations

import pytest

from inbox.app import create_app


@pytest.fixture
def client(container):
    app, _ = create_app(container, testing=True)
    return app.test_client()


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_reports_an_unmigrated_database(tmp_path, clock):
    from agent.settings import Settings
    from agent.wiring import build

    container = build(Settings.from_values({"data_dir": tmp_path}).ensure_data_dir(), clock=clock)
    app, _ = create_app(container, testing=True)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == "needs migration"


def test_healthz_reports_an_unreachable_queue(settings, clock, tmp_path):
    from agent.wiring import build

    container = build(
        settings.ensure_data_dir(), redis_url=f"unix://{tmp_path}/none.sock", clock=clock
    )
    app, _ = create_app(container, testing=True)
    response = app.test_client().get("/healthz")
    assert response.status_code == 503 and response.json["checks"]["queue"].startswith("error")
