"""Ingestion end to end: the bayview site through rq and a real worker, and the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from agent.core.errors import ValidationError
from agent.core.models import SourceStatus
from frontdesk.cli import main
from frontdesk.wiring import build
from tests.conftest import make_workspace


def test_website_is_crawled_by_a_worker_and_searchable(
    settings, clock, redis_conn, redis_url, bayview_url
):
    from dataclasses import replace

    container = build(
        replace(settings, allow_private_urls=True).ensure_data_dir(),
        redis_url=redis_url,
        clock=clock,
    )
    workspace, _ = make_workspace(container)
    site = container.knowledge.add_website(workspace.id, bayview_url)
    assert container.queue("ingest").count == 2  # the profile and the site
    container.worker(["ingest"]).work(burst=True)
    with container.uow() as uow:
        source = uow.workspace(workspace.id).knowledge.get(site.id)
    assert source.status == SourceStatus.READY, source.error
    assert source.last_refreshed_at == clock()
    assert source.config["last_run"]["pages_added"] >= 7
    uris = {p.uri for p in container.index.search(workspace.id, "staff portal door code", 10)}
    assert not any("staff-portal" in u for u in uris)
    hits = container.index.search(workspace.id, "how much do you charge to unclog a drain", 3)
    assert any(p.uri.endswith("pricing.html") and "$149" in p.text for p in hits)
    # A refresh of the unchanged site embeds nothing.
    container.knowledge.refresh(workspace.id, site.id)
    container.worker(["ingest"]).work(burst=True)
    with container.uow() as uow:
        last = uow.workspace(workspace.id).knowledge.get(site.id).config["last_run"]
    assert last["chunks_added"] == 0 and last["pages_changed"] == 0
    container.engine.dispose()


def test_private_addresses_are_refused_by_default(
    settings, clock, redis_conn, redis_url, bayview_url
):
    from dataclasses import replace

    settings = settings.ensure_data_dir()
    container = build(settings, redis_url=redis_url, clock=clock)
    workspace, _ = make_workspace(container)
    with pytest.raises(ValidationError, match="points to a loopback address"):
        container.knowledge.add_website(workspace.id, bayview_url)  # refused when added
    # One added while private addresses were allowed is refused when it is crawled.
    allowed = build(replace(settings, allow_private_urls=True), redis_url=redis_url, clock=clock)
    site = allowed.knowledge.add_website(workspace.id, bayview_url)
    allowed.engine.dispose()
    container.worker(["ingest"]).work(burst=True)
    with container.uow() as uow:
        source = uow.workspace(workspace.id).knowledge.get(site.id)
    assert source.status == SourceStatus.FAILED
    assert "loopback" in source.error or "private" in source.error
    assert container.index.search(workspace.id, "drain", 5) == [] or all(
        p.source_id != site.id for p in container.index.search(workspace.id, "drain", 5)
    )
    container.engine.dispose()


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("FRONTDESK_ALLOW_PRIVATE_URLS", "1")
    for var in ("DATABASE_URL", "REDIS_URL", "FRONTDESK_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result

    invoke(
        "init",
        "--workspace",
        "Bayview",
        "--admin-email",
        "a@bayview.example",
        "--admin-password",
        "long enough passphrase",
    )
    return invoke


def test_knowledge_cli(cli, tmp_path, bayview_url):
    added = cli("knowledge", "add", bayview_url, "--wait")
    assert added.exit_code == 0, added.output
    assert "ready" in added.output and "pages added:" in added.output
    qa = cli(
        "knowledge",
        "add",
        "--qa",
        "Do you do gas fitting?",
        "Yes, we are certified gas fitters.",
        "--wait",
    )
    assert qa.exit_code == 0, qa.output
    note = tmp_path / "parking.md"
    note.write_text("# Parking\nPark free in the three spots behind the building.\n")
    assert cli("knowledge", "add", str(note), "--wait").exit_code == 0
    listed = cli("knowledge", "list").output
    assert "website" in listed and "qa" in listed and "file" in listed
    found = json.loads(cli("knowledge", "search", "where do I park", "-k", "2", "--json").output)
    assert found[0]["uri"].endswith("parking.md") and "three spots" in found[0]["text"]
    human = cli("knowledge", "search", "gas lines for a barbecue").output
    assert "1. Q&A: Do you do gas fitting?" in human
    qa_id = next(line.split()[0][1:] for line in listed.splitlines() if " qa " in line)
    assert cli("knowledge", "remove", qa_id).exit_code == 0
    assert "Q&A" not in cli("knowledge", "search", "gas lines for a barbecue").output
    bad = cli("knowledge", "add", "ftp://files.example/", "--wait")
    assert bad.exit_code == 1 and "only http and https" in bad.output
    refreshed = cli("knowledge", "refresh", "--wait")
    assert refreshed.exit_code == 0 and "chunks added: 0" in refreshed.output


def test_knowledge_cli_refuses_a_disguised_file(cli, tmp_path):
    fake = tmp_path / "prices.pdf"
    fake.write_bytes(b"MZ\x90\x00" + b"\x00" * 200)
    result = cli("knowledge", "add", str(fake), "--wait")
    assert result.exit_code == 1
    assert "prices.pdf is not a PDF" in result.output


def test_terminal_chat_goes_through_the_service(cli):
    cli("knowledge", "add", "--text", "Parking", "Free parking behind the building.", "--wait")
    result = CliRunner().invoke(
        main, ["chat"], input="where can I park?\nI want to talk to a real person\nhello?\nquit\n"
    )
    assert result.exit_code == 0, result.output
    assert "AI: Free parking behind the building." in result.output
    assert "source: Parking" in result.output and "tool search_knowledge" in result.output
    assert "tool handoff_to_human" in result.output
    assert "(a person has taken over)" in result.output


def test_refresh_now_during_a_running_crawl_starts_no_second_crawl(
    settings, clock, redis_conn, redis_url, bayview_url
):
    """Another ingest worker is crawling the site (it holds the source's claim): a run
    of the same source here is skipped at once, and runs again once that crawl is over."""
    from dataclasses import replace

    from agent.queue.locks import RedisLocks

    container = build(
        replace(settings, allow_private_urls=True).ensure_data_dir(),
        redis_url=redis_url,
        clock=clock,
    )
    try:
        workspace, _ = make_workspace(container)
        site = container.knowledge.add_website(workspace.id, bayview_url)
        other_worker = RedisLocks(container.redis, ttl=30, wait=0)
        with other_worker.hold(f"ingest-source:{site.id}"):
            container.knowledge.refresh(workspace.id, site.id)  # "Refresh now"
            assert container.ingestor.run(workspace.id, site.id) is None  # skipped
            with container.uow() as uow:
                assert uow.workspace(workspace.id).knowledge.get(site.id).status == (
                    SourceStatus.QUEUED
                )  # untouched: the other crawl reports
            assert container.index.search(workspace.id, "unclog a drain", 3) == []
        stats = container.ingestor.run(workspace.id, site.id)  # the claim is free again
        assert stats is not None and stats.summary()["pages_added"] >= 7
    finally:
        container.engine.dispose()
