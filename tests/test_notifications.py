"""Team notifications over real SMTP (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import socket
from dataclasses import replace

import pytest
from aiosmtpd.controller import Controller

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.workspaces import NewMember
from frontdesk.wiring import build
from tests.conftest import make_workspace


class Inbox:
    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append(envelope)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


def test_new_lead_is_emailed_once_to_members_who_want_it(settings, clock, dispatcher, smtp):
    inbox, url = smtp
    container = build(
        replace(settings, smtp_url=url, mail_from="desk@bayside.example").ensure_data_dir(),
        clock=clock,
        dispatcher_override=dispatcher,
    )
    workspace, _ = make_workspace(container)
    quiet = container.workspaces.add_member(
        workspace.id,
        NewMember(name="Q", email="quiet@bayside.example", password="silent partner 77"),
    )
    with container.uow() as uow:
        uow.workspace(workspace.id).team.get(quiet.id).notify = "off"
        uow.commit()
    conv = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="hi", thread_id="v")
    ).conversation.id
    svc = container.conversations
    svc.record_contact(workspace.id, conv, ContactDetails(first_name="Priya", phone="250 555 0110"))
    svc.record_contact(workspace.id, conv, ContactDetails(email="priya@example.com"))
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.mail_from == "desk@bayside.example"
    assert envelope.rcpt_tos == ["dana@bayside-dental.example"]
    text = envelope.content.decode()
    assert "Subject: New lead: Priya" in text and "+12505550110" in text
    with container.uow() as uow:
        (note,) = uow.workspace(workspace.id).notifications.all()
    assert note.kind == "new_lead" and note.status == "sent" and note.sent_at is not None
    container.engine.dispose()


def test_a_mail_server_outage_is_recorded_not_raised(settings, clock, dispatcher):
    container = build(
        replace(settings, smtp_url=f"smtp://127.0.0.1:{_free_port()}").ensure_data_dir(),
        clock=clock,
        dispatcher_override=dispatcher,
    )
    workspace, _ = make_workspace(container)
    conv = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="hi", thread_id="v")
    ).conversation.id
    contact, lead = container.conversations.record_contact(
        workspace.id, conv, ContactDetails(first_name="Sam", email="sam@patel.example")
    )
    assert lead and contact.email == "sam@patel.example"
    with container.uow() as uow:
        (note,) = uow.workspace(workspace.id).notifications.all()
    assert note.status == "failed" and "Connection" in note.error
    container.engine.dispose()
