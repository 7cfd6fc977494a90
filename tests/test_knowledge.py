"""Knowledge sources end to end: service rules, the ingestion pipeline, status and refresh."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.core.errors import NotFound, ValidationError
from agent.core.models import SourceStatus
from ingestion.jobs import DeferredIngestQueue
from tests.conftest import make_workspace


@pytest.fixture
def deferred():
    return DeferredIngestQueue()


@pytest.fixture
def kc(settings, clock, deferred):
    """A container whose ingestion work is collected, then run inline by `drain`."""
    from frontdesk.wiring import build

    container = build(settings.ensure_data_dir(), clock=clock, ingest_queue_override=deferred)
    yield container
    container.engine.dispose()


def drain(container, deferred):
    while deferred.pending:
        action, workspace_id, source_id = deferred.pending.pop(0)
        if action == "ingest":
            container.ingestor.run(workspace_id, source_id)
        else:
            container.ingestor.purge(workspace_id, source_id)


def source(container, workspace_id, source_id):
    with container.uow() as uow:
        return uow.workspace(workspace_id).knowledge.get(source_id)


def test_profile_is_knowledge_and_follows_profile_changes(kc, deferred):
    workspace, _ = make_workspace(
        kc,
        hours={"mon": "08:00-17:00", "sat": "09:00-13:00"},
        address="12 Harbour Rd",
        links={"booking": "https://bayside.example/book"},
    )
    drain(kc, deferred)
    (profile,) = kc.knowledge.sources(workspace.id)
    assert profile.kind == "profile" and profile.status == SourceStatus.READY
    hit = kc.index.search(workspace.id, "are you open on saturday", 1)[0]
    assert "Saturday: 09:00 to 13:00" in hit.text and hit.uri == "business-profile"
    hours = {"mon": "08:00-17:00", "sat": "closed"}
    kc.workspaces.update_profile(workspace.id, {"hours": hours})
    drain(kc, deferred)
    assert len(kc.knowledge.sources(workspace.id)) == 1  # regenerated, not duplicated
    hit = kc.index.search(workspace.id, "are you open on saturday", 1)[0]
    assert "Saturday: closed" in hit.text


def test_text_and_qa_sources(kc, deferred):
    workspace, _ = make_workspace(kc)
    text = kc.knowledge.add_text(workspace.id, "Parking", "Free parking behind the clinic.")
    qa = kc.knowledge.add_qa(workspace.id, "Do you see children?", "Yes, from age three.")
    assert source(kc, workspace.id, text.id).status == SourceStatus.QUEUED
    drain(kc, deferred)
    assert source(kc, workspace.id, qa.id).status == SourceStatus.READY
    assert source(kc, workspace.id, qa.id).config["last_run"]["chunks_added"] == 1
    top = kc.index.search(workspace.id, "do you treat kids", 1)[0]
    assert top.kind == "qa" and "age three" in top.text
    kc.knowledge.remove(workspace.id, qa.id)
    drain(kc, deferred)
    assert all(p.source_id != qa.id for p in kc.index.search(workspace.id, "children", 5))
    with pytest.raises(NotFound):
        source(kc, workspace.id, qa.id)


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda k, w: k.add_website(w, "ftp://files.example/"), "url"),
        (lambda k, w: k.add_website(w, "javascript:alert(1)"), "url"),
        (lambda k, w: k.add_website(w, "https://user:pw@site.example/"), "url"),
        (
            lambda k, w: k.add_website(w, "https://site.example/", refresh_hours=-5),
            "refresh_interval_hours",
        ),
        (lambda k, w: k.add_text(w, "Empty", "   "), "body"),
        (lambda k, w: k.add_qa(w, "", "answer"), "question"),
        (lambda k, w: k.add_qa(w, "Q?", "x" * 5001), "answer"),
    ],
)
def test_bad_sources_are_refused_and_nothing_stored(kc, deferred, call, field):
    workspace, _ = make_workspace(kc)
    before = len(kc.knowledge.sources(workspace.id))
    with pytest.raises(ValidationError) as info:
        call(kc.knowledge, workspace.id)
    assert info.value.field == field
    assert len(kc.knowledge.sources(workspace.id)) == before


def test_website_urls_are_normalised():
    from agent.core.knowledge import website_url

    assert website_url("bayside.example/#top") == "https://bayside.example/"
    assert website_url("http://bayside.example/a?b=1") == "http://bayside.example/a?b=1"


def test_refresh_schedule(kc, deferred, clock):
    workspace, _ = make_workspace(kc)
    drain(kc, deferred)
    site = kc.knowledge.add_website(workspace.id, "https://bayside.example/", refresh_hours=24)
    deferred.pending.clear()
    assert kc.knowledge.due_for_refresh() == []  # queued, not due
    with kc.uow() as uow:
        s = uow.workspace(workspace.id).knowledge.get(site.id)
        s.status, s.last_refreshed_at = SourceStatus.READY, clock()
        uow.commit()
    assert kc.knowledge.due_for_refresh(clock() + timedelta(hours=23)) == []
    assert kc.knowledge.due_for_refresh(clock() + timedelta(hours=25)) == [(workspace.id, site.id)]
    kc.knowledge.set_refresh_interval(workspace.id, site.id, None)
    assert kc.knowledge.due_for_refresh(clock() + timedelta(days=400)) == []
    clock.advance(hours=25)
    kc.knowledge.set_refresh_interval(workspace.id, site.id, 24)
    assert kc.knowledge.refresh_due() == [(workspace.id, site.id)]
    assert deferred.pending == [("ingest", workspace.id, site.id)]


def test_a_failed_source_explains_itself_and_leaves_no_chunks(kc, deferred):
    workspace, _ = make_workspace(kc)
    drain(kc, deferred)
    missing = kc.knowledge.add_file(workspace.id, "prices.pdf", "does-not-exist.pdf")
    drain(kc, deferred)
    failed = source(kc, workspace.id, missing.id)
    assert failed.status == SourceStatus.FAILED
    assert "prices.pdf is missing" in failed.error
    assert all(p.source_id != missing.id for p in kc.index.search(workspace.id, "prices", 5))


def test_requeue_after_a_crash(kc, deferred):
    workspace, _ = make_workspace(kc)
    drain(kc, deferred)
    text = kc.knowledge.add_text(workspace.id, "Parking", "Free parking behind the clinic.")
    with kc.uow() as uow:
        uow.workspace(workspace.id).knowledge.get(text.id).status = SourceStatus.RUNNING
        uow.commit()
    deferred.pending.clear()
    assert kc.knowledge.requeue_pending() == 1
    drain(kc, deferred)
    count = kc.index.count(workspace.id)
    kc.knowledge.refresh(workspace.id, text.id)
    drain(kc, deferred)  # running it again is harmless: no duplicate chunks
    assert source(kc, workspace.id, text.id).status == SourceStatus.READY
    assert kc.index.count(workspace.id) == count


def test_profile_without_opening_hours_does_not_claim_closed_all_week():
    from agent.core.models import Workspace
    from ingestion.profile import profile_markdown

    unset = profile_markdown(Workspace(name="X", hours={d: [] for d in ("mon", "tue")}))
    assert "Opening hours" not in unset and "closed" not in unset
    some = profile_markdown(Workspace(name="X", hours={"mon": ["09:00-17:00"], "sun": []}))
    assert "- Monday: 09:00 to 17:00" in some and "- Sunday: closed" in some
