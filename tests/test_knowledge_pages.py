"""Settings > Knowledge over HTTP and Socket.IO: add, ingest, search, refresh, remove, isolation.

Real database, real Chroma and the offline embedder; ingestion is queued to a
``DeferredIngestQueue`` and run inline by ``drain``, as a worker would run it.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import replace
from urllib.parse import urlsplit

import pytest

from agent.core.errors import NotFound
from agent.core.events import KnowledgeSourceUpdated
from agent.core.models import SourceStatus
from agent.core.workspaces import NewMember
from frontdesk.web import create_app
from frontdesk.wiring import build
from ingestion.document import IngestError
from ingestion.jobs import DeferredIngestQueue
from ingestion.uploads import add_upload
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_crawl import DISGUISED_LOOPBACK
from tests.test_inbox import PASSWORD, login
from tests.test_knowledge import drain
from tests.test_parse import lying_zip
from web.context import EXTENSION

PAGE = "/settings/knowledge"
ADMIN = "dana@bayside-dental.example"
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def deferred():
    return DeferredIngestQueue()


def _container(settings, clock, deferred):
    return build(
        settings.ensure_data_dir(),
        clock=clock,
        ingest_queue_override=deferred,
        dispatcher_override=RecordingDispatcher(),
    )


@pytest.fixture
def kc(settings, clock, deferred):
    container = _container(settings, clock, deferred)
    yield container
    container.engine.dispose()


@pytest.fixture
def web(kc):
    return create_app(kc, testing=True)


@pytest.fixture
def bayside(kc, deferred):
    workspace, _ = make_workspace(kc)
    kc.workspaces.add_member(workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD))
    drain(kc, deferred)  # the business profile
    return workspace


@pytest.fixture
def admin(web, bayside):
    client = web[0].test_client()
    _, token = login(client, ADMIN)
    return client, token


def sources(container, workspace_id):
    return {s.title: s for s in container.knowledge.sources(workspace_id)}


def row_status(page: str, source_id: int) -> str:
    match = re.search(rf'<tr data-source-id="{source_id}" data-status="(\w+)"', page)
    assert match, f"no row for source {source_id}"
    return match.group(1)


def uploaded_files(container, workspace_id):
    folder = container.settings.uploads_path / str(workspace_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_only_admins_reach_the_knowledge_pages(web, bayside):
    app = web[0]
    anonymous = app.test_client()
    response = anonymous.get(PAGE)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert anonymous.get("/api/knowledge/search?q=hours").status_code == 401

    staff = app.test_client()
    _, token = login(staff, "sam@bayside.example")
    assert staff.get(PAGE).status_code == 403
    assert staff.get("/api/knowledge/search?q=hours").status_code == 403
    assert staff.get("/api/knowledge/sources").status_code == 403
    refused = staff.post(f"{PAGE}/qa", data={"question": "Q?", "answer": "A", "csrf_token": token})
    assert refused.status_code == 403
    assert list(sources(web[0].extensions[EXTENSION], bayside.id)) == ["Business profile"]


def test_qa_and_text_are_ingested_then_shown_ready_and_retrieved(admin, kc, deferred, bayside):
    client, token = admin
    added = client.post(
        f"{PAGE}/qa",
        data={
            "question": "Do you see children?",
            "answer": "Yes, from age three.",
            "csrf_token": token,
        },
    )
    assert added.status_code == 302
    client.post(
        f"{PAGE}/text",
        data={"title": "Parking", "body": "Free parking behind the clinic.", "csrf_token": token},
    )
    qa, text = sources(kc, bayside.id)["Do you see children?"], sources(kc, bayside.id)["Parking"]
    page = client.get(PAGE).get_data(as_text=True)
    assert "Added “Parking”: it is queued for ingestion." in page
    assert row_status(page, qa.id) == "queued" and "waiting for a worker" in page

    drain(kc, deferred)
    page = client.get(PAGE).get_data(as_text=True)
    assert row_status(page, qa.id) == "ready" and row_status(page, text.id) == "ready"
    assert "1 document added · 1 passage added" in page  # the last run's change summary
    assert "2026-03-02 10:00 PST" in page  # last refresh, in the workspace's timezone

    found = client.get("/api/knowledge/search?q=do you treat kids").json
    top = found["passages"][0]
    assert top["citation"] == "Q&A: Do you see children?" and "age three" in top["text"]
    assert 0 < top["similarity"] <= 1 and top["source_id"] == qa.id
    parking = client.get("/api/knowledge/search?q=where can I park").json["passages"][0]
    assert parking["citation"] == "Parking" and "behind the clinic" in parking["text"]
    listed = client.get("/api/knowledge/sources").json["sources"]
    assert {s["title"]: s["status"] for s in listed}["Parking"] == "ready"


def test_search_needs_a_question(admin):
    client, _ = admin
    empty = client.get("/api/knowledge/search?q=%20")
    assert empty.status_code == 400 and "Type a question" in empty.json["error"]
    assert client.get("/api/knowledge/search?q=" + "x" * 501).status_code == 400


def test_bad_text_and_qa_are_explained_and_kept_in_the_form(admin, kc, bayside, deferred):
    client, token = admin
    response = client.post(
        f"{PAGE}/qa", data={"question": "Are you open late?", "answer": "  ", "csrf_token": token}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and "Answer: is empty" in page
    assert 'value="Are you open late?"' in page  # what the admin typed is still there
    response = client.post(f"{PAGE}/text", data={"title": "", "body": "x", "csrf_token": token})
    assert response.status_code == 400 and "Title:" in response.get_data(as_text=True)
    assert list(sources(kc, bayside.id)) == ["Business profile"] and deferred.pending == []


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "only http and https websites can be added"),
        ("http://127.0.0.1/", "points to a loopback address"),
        ("http://localhost:8000/admin", "loopback address"),
        ("http://10.0.0.5/", "private network address"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("https://user:pw@bayside.example/", "not a website address"),
    ],
)
def test_unsafe_websites_are_refused_and_nothing_stored(admin, kc, bayside, deferred, url, message):
    client, token = admin
    response = client.post(
        f"{PAGE}/website", data={"url": url, "interval": "24", "csrf_token": token}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Website address:" in page and message in page
    assert list(sources(kc, bayside.id)) == ["Business profile"] and deferred.pending == []


@pytest.mark.parametrize("url", DISGUISED_LOOPBACK)
def test_private_addresses_in_disguise_are_refused_when_added(admin, kc, bayside, deferred, url):
    """2130706433, 0x7f000001, 127.1... are 127.0.0.1: refused now, as the crawl would."""
    client, token = admin
    response = client.post(f"{PAGE}/website", data={"url": url, "csrf_token": token})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    crawler = f"{url} points to a loopback address; frontdesk only fetches public websites"
    assert f"Website address: {crawler}" in page
    assert list(sources(kc, bayside.id)) == ["Business profile"] and deferred.pending == []


def test_private_addresses_are_allowed_where_the_settings_allow_them(settings, clock, deferred):
    container = _container(replace(settings, allow_private_urls=True), clock, deferred)
    try:
        workspace, _ = make_workspace(container)
        client = create_app(container, testing=True)[0].test_client()
        _, token = login(client, ADMIN)
        response = client.post(
            f"{PAGE}/website", data={"url": "http://127.0.0.1:8000/", "csrf_token": token}
        )
        assert response.status_code == 302
        assert "127.0.0.1" in sources(container, workspace.id)
        for url in DISGUISED_LOOPBACK:
            added = client.post(f"{PAGE}/website", data={"url": url, "csrf_token": token})
            assert added.status_code == 302, url
        hosts = {urlsplit(url).hostname for url in DISGUISED_LOOPBACK}
        assert hosts <= set(sources(container, workspace.id))
    finally:
        container.engine.dispose()


def test_websites_and_their_refresh_interval(admin, kc, bayside, deferred, web):
    client, token = admin
    response = client.post(
        f"{PAGE}/website",
        data={
            "url": "bayside.example/#top",
            "interval": "168",
            "max_pages": "50",
            "csrf_token": token,
        },
    )
    assert response.status_code == 302
    site = sources(kc, bayside.id)["bayside.example"]
    assert site.uri == "https://bayside.example/" and site.refresh_interval_hours == 168
    assert site.config["max_pages"] == 50 and deferred.pending == [("ingest", bayside.id, site.id)]
    page = client.get(PAGE).get_data(as_text=True)
    assert '<option value="168" selected>Weekly</option>' in page

    def set_interval(source_id: int, **form: str):
        return client.post(f"{PAGE}/{source_id}/interval", data={**form, "csrf_token": token})

    def interval() -> int | None:
        return sources(kc, bayside.id)["bayside.example"].refresh_interval_hours

    assert set_interval(site.id, interval="1").status_code == 302 and interval() == 1
    assert set_interval(site.id, interval="24", hours="6").status_code == 302 and interval() == 6
    assert "Automatic refresh of “bayside.example”: every 6 hours." in client.get(PAGE).get_data(
        as_text=True
    )
    assert set_interval(site.id, interval="0").status_code == 302 and interval() is None
    for form, message in [
        ({"hours": "soon"}, "Refresh interval: &#39;soon&#39; is not a whole number"),
        ({"hours": "-5"}, "Refresh interval: must be between 1 hour and a year"),
        ({"hours": "9000"}, "Refresh interval: must be between 1 hour and a year"),
    ]:
        refused = set_interval(site.id, **form)
        assert refused.status_code == 400 and message in refused.get_data(as_text=True)
    assert interval() is None
    profile = sources(kc, bayside.id)["Business profile"]
    refused = set_interval(profile.id, interval="24")
    assert refused.status_code == 400
    assert "only websites are re-crawled" in refused.get_data(as_text=True)

    bad = client.post(
        f"{PAGE}/website", data={"url": "bayside.example", "hours": "0.5", "csrf_token": token}
    )
    assert bad.status_code == 400 and "is not a whole number" in bad.get_data(as_text=True)


def test_text_and_markdown_uploads_are_stored_and_ingested(admin, kc, bayside, deferred):
    client, token = admin
    for name, body in [
        ("parking.txt", b"Parking\n\nPark free in the three spots behind the building.\n"),
        ("hours.md", b"# Holidays\n\nWe close on Boxing Day and New Year's Day.\n"),
    ]:
        response = client.post(
            f"{PAGE}/file",
            data={"file": (io.BytesIO(body), name), "csrf_token": token},
            content_type="multipart/form-data",
        )
        assert response.status_code == 302, response.get_data(as_text=True)
    added = sources(kc, bayside.id)
    stored = uploaded_files(kc, bayside.id)
    assert len(stored) == 2 and {added["parking.txt"].uri, added["hours.md"].uri} == set(stored)
    drain(kc, deferred)
    page = client.get(PAGE).get_data(as_text=True)
    assert row_status(page, added["parking.txt"].id) == "ready"
    assert row_status(page, added["hours.md"].id) == "ready"
    park = client.get("/api/knowledge/search?q=where do I park").json["passages"][0]
    assert park["citation"].startswith(added["parking.txt"].uri) and "three spots" in park["text"]
    holiday = client.get("/api/knowledge/search?q=are you open on boxing day").json["passages"]
    assert any("Boxing Day" in p["text"] and p["citation"].endswith("Holidays") for p in holiday)


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        ("prices.pdf", b"MZ\x90\x00" + b"\x00" * 200, "prices.pdf is not a PDF"),
        ("tool.bin", b"\x7fELF" + b"\x00" * 100, "it looks like a Linux program"),
        ("notes.txt", b"", "notes.txt is empty"),
    ],
)
def test_unsupported_uploads_are_refused_and_nothing_stored(
    admin, kc, bayside, deferred, name, body, message
):
    client, token = admin
    response = client.post(
        f"{PAGE}/file",
        data={"file": (io.BytesIO(body), name), "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    assert list(sources(kc, bayside.id)) == ["Business profile"] and deferred.pending == []
    assert uploaded_files(kc, bayside.id) == []


def test_a_zip_bomb_lying_about_its_size_is_refused_and_nothing_stored(
    admin, kc, bayside, deferred, tmp_path
):
    """Its header claims 0 bytes; it really inflates to 400 MB: measured, not believed."""
    bomb = lying_zip(tmp_path / "price list.docx", "word/document.xml", 400 * 1024 * 1024)
    client, token = admin
    response = client.post(
        f"{PAGE}/file",
        data={"file": (io.BytesIO(bomb.read_bytes()), bomb.name), "csrf_token": token},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400, page
    assert "price list.docx expands to more than 300 MB; refusing a possible zip bomb" in page
    assert list(sources(kc, bayside.id)) == ["Business profile"] and deferred.pending == []
    assert uploaded_files(kc, bayside.id) == []


def test_an_upload_form_without_a_file_says_so(admin):
    client, token = admin
    response = client.post(
        f"{PAGE}/file", data={"csrf_token": token}, content_type="multipart/form-data"
    )
    assert response.status_code == 400 and "choose a file" in response.get_data(as_text=True)


def test_an_oversized_upload_is_refused_and_nothing_stored(settings, clock, deferred):
    container = _container(replace(settings, max_upload_mb=1), clock, deferred)
    try:
        workspace, _ = make_workspace(container)
        drain(container, deferred)
        client = create_app(container, testing=True)[0].test_client()
        _, token = login(client, ADMIN)
        big = b"The same line of text, again and again.\n" * 40_000  # 1.6 MB
        response = client.post(
            f"{PAGE}/file",
            data={"file": (io.BytesIO(big), "manual.txt"), "csrf_token": token},
            content_type="multipart/form-data",
        )
        page = response.get_data(as_text=True)
        assert response.status_code == 413
        assert "The file is larger than the 1 MB upload limit; nothing was stored." in page
        assert list(sources(container, workspace.id)) == ["Business profile"]
        assert deferred.pending == [] and uploaded_files(container, workspace.id) == []
        # The same limit in the shared upload code the CLI uses (checked while copying).
        with pytest.raises(IngestError, match=re.escape("manual.txt is 1.5 MB; the limit is 1 MB")):
            add_upload(
                container.knowledge,
                container.settings.uploads_path,
                workspace.id,
                io.BytesIO(big),
                "manual.txt",
                max_bytes=1024 * 1024,
            )
        assert uploaded_files(container, workspace.id) == []
    finally:
        container.engine.dispose()


def test_refresh_now_requeues_the_source(admin, kc, bayside, deferred):
    client, token = admin
    client.post(f"{PAGE}/text", data={"title": "Parking", "body": "Behind.", "csrf_token": token})
    drain(kc, deferred)
    text = sources(kc, bayside.id)["Parking"]
    response = client.post(f"{PAGE}/{text.id}/refresh", data={"csrf_token": token})
    assert response.status_code == 302
    assert sources(kc, bayside.id)["Parking"].status == SourceStatus.QUEUED
    assert deferred.pending == [("ingest", bayside.id, text.id)]


def test_removing_asks_first_then_drops_the_source_from_the_index(admin, kc, bayside, deferred):
    client, token = admin
    client.post(
        f"{PAGE}/qa",
        data={
            "question": "Do you do gas fitting?",
            "answer": "Yes, certified.",
            "csrf_token": token,
        },
    )
    drain(kc, deferred)
    qa = sources(kc, bayside.id)["Do you do gas fitting?"]
    hits = client.get("/api/knowledge/search?q=gas lines for a barbecue").json["passages"]
    assert hits[0]["source_id"] == qa.id

    confirm = client.get(f"{PAGE}/{qa.id}/remove").get_data(as_text=True)
    assert "Remove this source?" in confirm and "Do you do gas fitting?" in confirm
    assert f'action="{PAGE}/{qa.id}/remove"' in confirm
    assert qa.id in {s.id for s in kc.knowledge.sources(bayside.id)}  # nothing happened yet

    assert client.post(f"{PAGE}/{qa.id}/remove", data={"csrf_token": token}).status_code == 302
    assert deferred.pending == [("purge", bayside.id, qa.id)]
    drain(kc, deferred)
    hits = client.get("/api/knowledge/search?q=gas lines for a barbecue").json["passages"]
    assert all(p["source_id"] != qa.id for p in hits)
    page = client.get(PAGE).get_data(as_text=True)
    assert "Removed “Do you do gas fitting?”" in page and f'data-source-id="{qa.id}"' not in page


def test_another_workspaces_sources_are_not_found(admin, kc, bayside, deferred):
    client, token = admin
    other, _ = make_workspace(kc, "Harbour Vets")
    theirs = kc.knowledge.add_qa(other.id, "Secret question?", "Secret answer.")
    drain(kc, deferred)
    form = {"csrf_token": token}
    assert client.get(f"{PAGE}/{theirs.id}/remove").status_code == 404
    assert client.post(f"{PAGE}/{theirs.id}/remove", data=form).status_code == 404
    assert client.post(f"{PAGE}/{theirs.id}/refresh", data=form).status_code == 404
    for interval in ("24", "soon"):
        response = client.post(f"{PAGE}/{theirs.id}/interval", data={**form, "hours": interval})
        assert response.status_code == 404
    assert "Secret question?" not in client.get(PAGE).get_data(as_text=True)
    hits = client.get("/api/knowledge/search?q=secret question").json["passages"]
    assert all(p["source_id"] != theirs.id for p in hits)
    survivor = kc.knowledge.sources(other.id)
    assert theirs.id in {s.id for s in survivor}
    assert next(s for s in survivor if s.id == theirs.id).status == SourceStatus.READY


def test_hostile_titles_are_escaped(admin, kc, bayside, deferred):
    client, token = admin
    client.post(f"{PAGE}/text", data={"title": HOSTILE, "body": HOSTILE, "csrf_token": token})
    client.post(f"{PAGE}/qa", data={"question": HOSTILE, "answer": "fine", "csrf_token": token})
    page = client.get(PAGE).get_data(as_text=True)
    drain(kc, deferred)
    text = next(s for s in kc.knowledge.sources(bayside.id) if s.kind == "text")
    confirm = client.get(f"{PAGE}/{text.id}/remove").get_data(as_text=True)
    refused = client.post(
        f"{PAGE}/qa", data={"question": HOSTILE, "answer": "", "csrf_token": token}
    ).get_data(as_text=True)
    for html in (page, confirm, refused):
        assert HOSTILE not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    hits = client.get("/api/knowledge/search?q=img onerror").json["passages"]
    assert any(HOSTILE in p["text"] for p in hits)  # JSON data, inserted as text by the page


def test_the_ingestor_publishes_each_status_change(kc, bayside, deferred):
    seen: list[KnowledgeSourceUpdated] = []
    kc.events.subscribe(KnowledgeSourceUpdated, seen.append)
    qa = kc.knowledge.add_qa(bayside.id, "Do you see children?", "Yes.")
    missing = kc.knowledge.add_file(bayside.id, "prices.pdf", "not-uploaded.pdf")
    drain(kc, deferred)
    assert [(e.source_id, e.status) for e in seen] == [
        (qa.id, "running"),
        (qa.id, "ready"),
        (missing.id, "running"),
        (missing.id, "failed"),
    ]
    kc.knowledge.remove(bayside.id, qa.id)
    drain(kc, deferred)
    assert (seen[-1].source_id, seen[-1].status) == (qa.id, "")  # gone


def test_live_status_reaches_the_workspace_and_no_other(web, kc, bayside, deferred, admin):
    app, socketio = web
    client, token = admin
    make_workspace(kc, "Harbour Vets")
    drain(kc, deferred)
    live = socketio.test_client(app, namespace="/inbox", flask_test_client=client)
    outsider_http = app.test_client()
    login(outsider_http, "dana@harbour-vets.example")
    outsider = socketio.test_client(app, namespace="/inbox", flask_test_client=outsider_http)
    assert live.is_connected("/inbox") and outsider.is_connected("/inbox")
    live.get_received("/inbox")
    outsider.get_received("/inbox")

    client.post(f"{PAGE}/qa", data={"question": HOSTILE, "answer": "Yes.", "csrf_token": token})
    qa = sources(kc, bayside.id)[HOSTILE]
    drain(kc, deferred)
    updates = [e["args"][0] for e in live.get_received("/inbox") if e["name"] == "knowledge"]
    assert [u["status"] for u in updates] == ["running", "ready"]
    assert all(u["id"] == qa.id for u in updates)
    assert updates[-1]["title"] == HOSTILE  # data: the page inserts it with textContent
    assert updates[-1]["last_run_text"] == "1 document added · 1 passage added"
    assert updates[-1]["last_refreshed_text"] == "2026-03-02 10:00 PST"
    assert outsider.get_received("/inbox") == []

    client.post(f"{PAGE}/{qa.id}/remove", data={"csrf_token": token})
    drain(kc, deferred)
    removed = [e["args"][0] for e in live.get_received("/inbox") if e["name"] == "knowledge"]
    assert removed == [{"id": qa.id, "removed": True}]
    assert outsider.get_received("/inbox") == []
    with pytest.raises(NotFound), kc.uow() as uow:
        uow.workspace(bayside.id).knowledge.get(qa.id)


def test_a_crawl_reports_page_progress_live_at_a_few_updates_a_second(
    settings, clock, deferred, bayview_url
):
    container = _container(replace(settings, allow_private_urls=True), clock, deferred)
    try:
        workspace, _ = make_workspace(container)
        drain(container, deferred)
        app, socketio = create_app(container, testing=True)
        client = app.test_client()
        _, token = login(client, ADMIN)
        live = socketio.test_client(app, namespace="/inbox", flask_test_client=client)
        live.get_received("/inbox")
        form = {"url": bayview_url, "interval": "0", "csrf_token": token}
        assert client.post(f"{PAGE}/website", data=form).status_code == 302

        started = time.monotonic()
        drain(container, deferred)
        elapsed = time.monotonic() - started
        updates = [e["args"][0] for e in live.get_received("/inbox") if e["name"] == "knowledge"]
        assert updates[0]["status"] == "running" and updates[-1]["status"] == "ready"
        counting = [u for u in updates if u["status"] == "running" and u["progress_total"]]
        assert counting and all(
            re.fullmatch(r"\d+ / \d+ pages", u["progress_text"]) for u in counting
        )
        assert len(updates) <= 4 + 2 * elapsed  # progress is throttled to one per 0.5 s
        assert "pages added" in updates[-1]["last_run_text"]
        site = next(s for s in container.knowledge.sources(workspace.id) if s.kind == "website")
        assert row_status(client.get(PAGE).get_data(as_text=True), site.id) == "ready"
    finally:
        container.engine.dispose()
