"""Privacy requests: a contact's data exported as JSON, or erased with their files, each
written to the audit log; from the contact page (admins only) and the command line.

Data is made the way the channels make it: messages through the conversation service,
files through the attachment store the SMS and email channels use, the AI's memory
through the real LangGraph checkpointer.
"""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.errors import NotFound
from agent.core.models import AuditEntry
from agent.core.workspaces import NewMember
from agent.graph.runner import thread_id
from agent.storage.checkpoints import make_checkpointer
from frontdesk.cli import main
from tests.conftest import make_workspace
from tests.test_inbox import PASSWORD, login, web  # noqa: F401  (web is a fixture)


def customer(container, workspace_id, thread, *, phone, email="", first="Jane", files=()):
    """A customer writes by SMS (with files, as the SMS channel stores them) and on the web
    chat, then leaves details: (contact id, [conversation ids], [stored file names])."""
    stored = [container.attachments.save(workspace_id, name, data) for name, data in files]
    meta = {
        "attachments": [
            {"name": name, "content_type": "image/jpeg", "size": len(data), "stored": s}
            for (name, data), s in zip(files, stored, strict=True)
        ]
    }
    sms = container.conversations.receive(
        workspace_id,
        Inbound(
            channel="sms",
            body="Here is the photo of the broken tooth",
            thread_id=phone,
            sender=ContactDetails(phone=phone),
            meta=meta,
        ),
    )
    contact, _ = container.conversations.record_contact(
        workspace_id, sms.conversation.id, ContactDetails(first_name=first, email=email)
    )
    chat = container.conversations.receive(
        workspace_id, Inbound(channel="webchat", body="Do you open on Saturday?", thread_id=thread)
    )
    container.conversations.record_contact(
        workspace_id, chat.conversation.id, ContactDetails(phone=phone)
    )
    return contact.id, [sms.conversation.id, chat.conversation.id], stored


def remembered(container, workspace_id, conversation_id) -> bool:
    """Whether the agent's checkpointer holds the conversation (written by the real runner)."""
    saver = make_checkpointer(container.settings.sqlalchemy_url, container.settings.data_dir)
    config = {"configurable": {"thread_id": thread_id(workspace_id, conversation_id)}}
    try:
        return saver.get_tuple(config) is not None
    finally:
        saver.conn.close()


def audit(container, workspace_id) -> list[AuditEntry]:
    with container.uow() as uow:
        return list(uow.workspace(workspace_id).audit_log.recent())


def test_export_holds_the_contact_their_messages_and_files(app_container):
    container = app_container
    workspace, _ = make_workspace(container)
    contact_id, conversations, stored = customer(
        container,
        workspace.id,
        "v1",
        phone="+16045550101",
        email="jane@example.com",
        files=[("tooth.jpg", b"\xff\xd8 jpeg bytes")],
    )
    other, _, _ = customer(container, workspace.id, "v2", phone="+16045550199", first="Omar")

    document = container.privacy.export(workspace.id, contact_id, actor="dana@bayside.example")

    json.dumps(document)  # plain JSON values only
    assert document["format"] == "frontdesk contact export"
    assert document["contact"]["email"] == "jane@example.com"
    assert document["contact"]["phone"] == "+16045550101"
    assert sorted(c["id"] for c in document["conversations"]) == sorted(conversations)
    bodies = [m["body"] for c in document["conversations"] for m in c["messages"]]
    assert "Here is the photo of the broken tooth" in bodies
    assert "Do you open on Saturday?" in bodies
    assert all(c["contact_id"] == contact_id for c in document["conversations"])
    files = [a for c in document["conversations"] for m in c["messages"] for a in m["attachments"]]
    assert files == [
        {"name": "tooth.jpg", "content_type": "image/jpeg", "size": 13, "stored": stored[0]}
    ]
    assert "Omar" not in json.dumps(document)
    [entry] = audit(container, workspace.id)
    assert (entry.actor, entry.action, entry.subject) == (
        "dana@bayside.example",
        "contact.exported",
        f"contact:{contact_id}",
    )
    assert entry.detail == {"conversations": 2, "messages": len(bodies)}
    assert other != contact_id


def test_delete_erases_the_contact_their_messages_files_and_memory(container):
    workspace, _ = make_workspace(container)
    contact_id, conversations, stored = customer(
        container,
        workspace.id,
        "v1",
        phone="+16045550101",
        email="jane@example.com",
        files=[("tooth.jpg", b"jpeg"), ("x-ray.png", b"png")],
    )
    kept_id, kept_conversations, kept_files = customer(
        container, workspace.id, "v2", phone="+16045550199", first="Omar", files=[("a.pdf", b"%")]
    )
    paths = [container.attachments.path(workspace.id, name) for name in stored]
    assert all(p is not None and p.is_file() for p in paths)
    # The container answers inline with the real agent, which checkpoints each conversation.
    assert remembered(container, workspace.id, conversations[1])
    assert remembered(container, workspace.id, kept_conversations[1])

    count = "SELECT count(*) FROM message WHERE conversation_id IN (:a, :b)"
    with container.engine.connect() as connection:
        held = connection.execute(
            text(count), {"a": conversations[0], "b": conversations[1]}
        ).scalar()

    removed = container.privacy.delete(workspace.id, contact_id, actor="cli")

    assert held >= 4  # both messages, and the AI's answers
    assert (removed.conversations, removed.messages, removed.files) == (2, held, 2)
    with container.uow() as uow:
        scope = uow.workspace(workspace.id)
        with pytest.raises(NotFound):
            scope.contacts.get(contact_id)
        assert list(scope.conversations.for_contact(contact_id)) == []
        for conversation_id in conversations:
            with pytest.raises(NotFound):
                scope.conversations.get(conversation_id)
        assert scope.contacts.get(kept_id).first_name == "Omar"
    with container.engine.connect() as connection:
        left = connection.execute(
            text(count), {"a": conversations[0], "b": conversations[1]}
        ).scalar()
        kept = connection.execute(
            text("SELECT count(*) FROM message WHERE conversation_id = :a"),
            {"a": kept_conversations[0]},
        ).scalar()
    assert left == 0 and kept >= 1
    assert not any(p.exists() for p in paths)
    assert container.attachments.path(workspace.id, kept_files[0]) is not None
    assert not remembered(container, workspace.id, conversations[1])
    assert remembered(container, workspace.id, kept_conversations[1])

    [entry] = audit(container, workspace.id)
    assert (entry.actor, entry.action, entry.subject) == (
        "cli",
        "contact.deleted",
        f"contact:{contact_id}",
    )
    assert entry.detail["messages"] == held and entry.detail["files"] == 2
    line = json.dumps([entry.actor, entry.subject, entry.detail])
    for personal in ("jane", "Jane", "+16045550101", "tooth", "broken"):
        assert personal not in line


def test_a_contact_of_another_workspace_is_not_found_and_nothing_changes(app_container):
    container = app_container
    bayside, _ = make_workspace(container)
    other, _ = make_workspace(container, "Harbour Physio")
    contact_id, _, stored = customer(
        container, bayside.id, "v1", phone="+16045550101", files=[("a.jpg", b"1")]
    )
    with pytest.raises(NotFound):
        container.privacy.delete(other.id, contact_id, actor="cli")
    with pytest.raises(NotFound):
        container.privacy.export(other.id, contact_id, actor="cli")
    assert container.attachments.path(bayside.id, stored[0]) is not None
    with container.uow() as uow:
        assert uow.workspace(bayside.id).contacts.get(contact_id).phone == "+16045550101"
    assert audit(container, other.id) == []


# -- the contact page ----------------------------------------------------------------------


@pytest.fixture
def clinic(app_container):
    workspace, admin = make_workspace(app_container)
    app_container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    contact_id, _, stored = customer(
        app_container, workspace.id, "v1", phone="+16045550101", files=[("t.jpg", b"jpeg")]
    )
    return workspace, admin, contact_id, stored


def signed_in(web, email):  # noqa: F811
    client = web[0].test_client()
    _, token = login(client, email)
    client.token = token
    return client


def test_staff_see_no_privacy_buttons_and_are_refused(web, clinic, app_container):  # noqa: F811
    workspace, _, contact_id, stored = clinic
    client = signed_in(web, "sam@bayside.example")
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "Delete contact and all their data" not in page
    assert "Download data (JSON)" not in page
    assert client.get(f"/contacts/{contact_id}/delete").status_code == 403
    for action in ("export", "delete"):
        response = client.post(
            f"/contacts/{contact_id}/{action}", data={"csrf_token": client.token, "confirm": "yes"}
        )
        assert response.status_code == 403
    with app_container.uow() as uow:
        assert uow.workspace(workspace.id).contacts.get(contact_id)
    assert app_container.attachments.path(workspace.id, stored[0]) is not None
    assert audit(app_container, workspace.id) == []


def test_an_admin_downloads_the_data_then_deletes_after_confirming(web, clinic, app_container):  # noqa: F811
    workspace, admin, contact_id, stored = clinic
    client = signed_in(web, admin.email)
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "Download data (JSON)" in page and "Delete contact and all their data" in page

    assert client.post(f"/contacts/{contact_id}/export").status_code == 400  # no CSRF token
    response = client.post(f"/contacts/{contact_id}/export", data={"csrf_token": client.token})
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="contact-{contact_id}.json"'
    )
    document = json.loads(response.get_data(as_text=True))
    assert document["contact"]["id"] == contact_id
    assert "Here is the photo of the broken tooth" in [
        m["body"] for c in document["conversations"] for m in c["messages"]
    ]

    confirm = client.get(f"/contacts/{contact_id}/delete").get_data(as_text=True)
    assert re.search(r"2 conversation\(s\) with \d+ message\(s\)", confirm)
    assert "1 attached file(s)" in confirm
    # Straight from the contact page, without the confirmation page's field: refused.
    refused = client.post(f"/contacts/{contact_id}/delete", data={"csrf_token": client.token})
    assert refused.status_code == 400
    response = client.post(
        f"/contacts/{contact_id}/delete", data={"csrf_token": client.token, "confirm": "yes"}
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/contacts")
    assert "Deleted" in client.get("/contacts").get_data(as_text=True)
    assert client.get(f"/contacts/{contact_id}").status_code == 404
    assert app_container.attachments.path(workspace.id, stored[0]) is None
    actions = [(e.actor, e.action) for e in audit(app_container, workspace.id)]
    assert actions == [(admin.email, "contact.deleted"), (admin.email, "contact.exported")]


# -- the command line ----------------------------------------------------------------------


def test_the_cli_exports_to_a_file_and_deletes_after_asking(
    tmp_path, monkeypatch, settings, app_container
):
    container = app_container
    workspace, _ = make_workspace(container)
    contact_id, _, stored = customer(
        container, workspace.id, "v1", phone="+16045550101", files=[("t.jpg", b"jpeg")]
    )
    monkeypatch.setenv("FRONTDESK_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    for var in ("REDIS_URL", "FRONTDESK_CONFIG", "CHROMA_URL"):
        monkeypatch.delenv(var, raising=False)
    runner = CliRunner()
    out = tmp_path / "jane.json"

    result = runner.invoke(main, ["contacts", "export", str(contact_id), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text())["contact"]["phone"] == "+16045550101"
    again = runner.invoke(main, ["contacts", "export", str(contact_id), "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output

    kept = runner.invoke(main, ["contacts", "delete", str(contact_id)], input="n\n")
    assert kept.exit_code == 1 and "with 2 conversation(s)" in kept.output
    assert container.attachments.path(workspace.id, stored[0]) is not None

    result = runner.invoke(main, ["contacts", "delete", str(contact_id), "--yes"])
    assert result.exit_code == 0, result.output
    assert "Deleted contact" in result.output and "1 file(s)" in result.output
    assert container.attachments.path(workspace.id, stored[0]) is None
    missing = runner.invoke(main, ["contacts", "delete", str(contact_id), "--yes"])
    assert missing.exit_code == 1 and f"contact {contact_id} not found" in missing.output
    assert [e.actor for e in audit(container, workspace.id)] == ["cli", "cli"]
