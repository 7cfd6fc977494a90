"""Team, invites, message templates, the account page and email notification preferences.

Everything runs over HTTP against the real app and databases; email goes through a real
SMTP server (aiosmtpd on 127.0.0.1).
"""

from __future__ import annotations

import email
import email.policy
import re
import time
from dataclasses import replace
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from aiosmtpd.controller import Controller

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.errors import Conflict
from agent.core.invites import InviteService
from agent.core.notifications import NotificationService
from agent.core.team import TeamService
from agent.core.workspaces import NewMember
from agent.mail import SmtpSender
from frontdesk.cli.run import _start_refresh_scheduler
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests.conftest import make_workspace
from tests.test_inbox import PASSWORD, csrf, login
from tests.test_notifications import Inbox, _free_port

HOSTILE = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture
def mailbox():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield inbox, f"smtp://127.0.0.1:{controller.port}"
    controller.stop()


@pytest.fixture
def mail_container(settings, clock, dispatcher, mailbox):
    """A container whose notifications and invites go out through the test SMTP server."""
    container = build(
        replace(settings, smtp_url=mailbox[1], mail_from="desk@bayside.example").ensure_data_dir(),
        clock=clock,
        dispatcher_override=dispatcher,
    )
    yield container
    container.engine.dispose()


def _team(container):
    workspace, admin = make_workspace(container)
    staff = container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    return workspace, admin, staff


@pytest.fixture
def site(app_container):
    """The app without email, a workspace with an admin and a staff member, and a rival."""
    app, _ = create_app(app_container, testing=True)
    workspace, admin, staff = _team(app_container)
    other, other_admin = make_workspace(app_container, "Harbour Physio")
    return app, workspace, admin, staff, other, other_admin


def _admin(app, address: str = "dana@bayside-dental.example"):
    client = app.test_client()
    response, token = login(client, address)
    assert response.status_code == 302
    return client, token


def _member(container, workspace_id: int, email_address: str):
    with container.uow() as uow:
        return uow.workspace(workspace_id).team.by_email(email_address)


def _text(envelope) -> tuple[str, str]:
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    return str(message["Subject"]), message.get_content()


def _invite_path(body: str) -> str:
    link = re.search(r"(https?://\S+/invite/\S+)", body).group(1)
    return urlsplit(link).path


def _shared_link(page: str) -> str:
    """The invite link the team page shows when it could not be emailed."""
    return urlsplit(re.search(r'id="invite-link"[^>]*value="([^"]+)"', page).group(1)).path


# -- who may use what ------------------------------------------------------------------


def test_staff_get_403_on_admin_pages_but_manage_their_own_account(site, app_container):
    app, workspace, *_ = site
    assert app.test_client().get("/account").headers["Location"].startswith("/login")
    client, token = _admin(app, "sam@bayside.example")
    for path in ("/settings/team", "/settings/templates"):
        assert client.get(path).status_code == 403
    assert client.post("/settings/team/invite", data={"csrf_token": token}).status_code == 403
    assert client.post("/settings/templates", data={"csrf_token": token}).status_code == 403
    page = client.get("/account")
    assert page.status_code == 200 and "sam@bayside.example" in page.get_data(as_text=True)
    assert 'href="/account"' in client.get("/").get_data(as_text=True)  # in the top bar

    saved = client.post(
        "/account",
        data={
            "csrf_token": token,
            "name": "Sam Rivera",
            "avatar_url": "https://cdn.example/sam.png",
            "notify": "digest",
        },
    )
    assert saved.status_code == 302
    assert "were saved" in client.get("/account").get_data(as_text=True)
    member = _member(app_container, workspace.id, "sam@bayside.example")
    assert (member.name, member.avatar_url, member.notify) == (
        "Sam Rivera",
        "https://cdn.example/sam.png",
        "digest",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("avatar_url", "javascript:alert(1)", "must be an http:// or https:// address"),
        ("notify", "hourly", "choose instant, digest or off"),
        ("name", "   ", "is required"),
    ],
)
def test_account_refuses_bad_values_and_says_why(site, app_container, field, value, message):
    app, workspace, *_ = site
    client, token = _admin(app, "sam@bayside.example")
    form = {"csrf_token": token, "name": "Sam", "avatar_url": "", "notify": "off", field: value}
    page = client.post("/account", data=form)
    assert page.status_code == 400 and message in page.get_data(as_text=True)
    member = _member(app_container, workspace.id, "sam@bayside.example")
    assert (member.name, member.notify, member.avatar_url) == ("Sam Staff", "instant", "")


def test_hostile_member_names_are_escaped_on_the_team_page(site):
    app, *_ = site
    staff, token = _admin(app, "sam@bayside.example")
    form = {"csrf_token": token, "name": HOSTILE, "avatar_url": "", "notify": "off"}
    assert staff.post("/account", data=form).status_code == 302
    admin, _ = _admin(app)
    page = admin.get("/settings/team").get_data(as_text=True)
    assert ESCAPED in page and HOSTILE not in page
    assert "sam@bayside.example" in page and "dana@bayside-dental.example" in page


# -- invites --------------------------------------------------------------------------


def test_invite_by_email_end_to_end(mail_container, mailbox):
    inbox, _ = mailbox
    app, _ = create_app(mail_container, testing=True)
    workspace, _, _ = _team(mail_container)
    admin, token = _admin(app)
    sent = admin.post(
        "/settings/team/invite",
        data={"csrf_token": token, "email": "Lee@Bayside.example", "role": "staff"},
    )
    assert sent.status_code == 302
    page = admin.get("/settings/team").get_data(as_text=True)
    assert "Invite emailed to lee@bayside.example" in page and "Pending invites" in page

    (envelope,) = inbox.messages
    assert envelope.rcpt_tos == ["lee@bayside.example"]
    assert envelope.mail_from == "desk@bayside.example"
    subject, body = _text(envelope)
    assert subject == "Dana Admin invited you to Bayside Dental on frontdesk"
    assert "works once, for 7 days" in body
    path = _invite_path(body)

    guest = app.test_client()
    form_page = guest.get(path)
    text = form_page.get_data(as_text=True)
    assert form_page.status_code == 200
    assert "Join Bayside Dental" in text and "lee@bayside.example" in text
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
    weak = guest.post(
        path,
        data={"csrf_token": csrf_token, "name": "Lee", "password": "qwerty", "confirm": "qwerty"},
    )
    assert weak.status_code == 400
    assert "must be at least 10 characters long" in weak.get_data(as_text=True)
    typo = {"name": "Lee", "password": "tidal harbour lights", "confirm": "tidal harbor lights"}
    mismatch = guest.post(path, data={"csrf_token": csrf_token, **typo})
    assert mismatch.status_code == 400 and "passwords are different" in mismatch.get_data(
        as_text=True
    )
    assert _member(mail_container, workspace.id, "lee@bayside.example") is None

    good = {"name": "Lee Chen", "password": "tidal harbour lights", "confirm": ""}
    good["confirm"] = good["password"]
    joined = guest.post(path, data={"csrf_token": csrf_token, **good})
    assert joined.status_code == 302 and joined.headers["Location"] == "/"
    home = guest.get("/")
    assert home.status_code == 200 and "Lee Chen" in home.get_data(as_text=True)  # signed in
    member = _member(mail_container, workspace.id, "lee@bayside.example")
    assert (member.name, member.role) == ("Lee Chen", "staff")

    again = app.test_client().get(path)
    assert again.status_code == 410 and "already accepted" in again.get_data(as_text=True)
    stranger = app.test_client()
    reuse = stranger.post(path, data={"csrf_token": csrf(stranger), **good})
    assert reuse.status_code == 410
    team = admin.get("/settings/team").get_data(as_text=True)
    assert "Lee Chen" in team and "Pending invites" not in team
    login_again, _ = login(app.test_client(), "lee@bayside.example", good["password"])
    assert login_again.status_code == 302


def test_without_email_the_admin_gets_the_link_to_copy(site, app_container):
    app, workspace, *_ = site
    admin, token = _admin(app)
    form = {"csrf_token": token, "email": "ana@bayside.example", "role": "admin"}
    assert admin.post("/settings/team/invite", data=form).status_code == 302
    page = admin.get("/settings/team").get_data(as_text=True)
    assert "email is not configured" in page
    path = _shared_link(page)
    assert path.startswith("/invite/")
    assert 'id="invite-link"' not in admin.get("/settings/team").get_data(as_text=True)

    guest = app.test_client()
    text = guest.get(path).get_data(as_text=True)
    assert "invited as <strong>admin</strong>" in text
    csrf_token = re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)
    words = "quiet morning tide pools"
    data = {"csrf_token": csrf_token, "name": "Ana", "password": words, "confirm": words}
    assert guest.post(path, data=data).status_code == 302
    assert _member(app_container, workspace.id, "ana@bayside.example").role == "admin"


def test_invite_links_expire_after_seven_days(site, clock):
    app, *_ = site
    admin, token = _admin(app)
    form = {"csrf_token": token, "email": "kim@bayside.example", "role": "staff"}
    admin.post("/settings/team/invite", data=form)
    path = _shared_link(admin.get("/settings/team").get_data(as_text=True))
    clock.advance(days=6, hours=23)
    assert app.test_client().get(path).status_code == 200
    clock.advance(hours=2)
    expired = app.test_client().get(path)
    assert expired.status_code == 410
    assert "This invite link has expired" in expired.get_data(as_text=True)
    assert "Pending invites" not in admin.get("/settings/team").get_data(as_text=True)


def test_tampered_forged_and_cross_workspace_tokens_are_refused(site, app_container):
    app, workspace, _, _, other, _ = site
    admin, token = _admin(app)
    form = {"csrf_token": token, "email": "kim@bayside.example", "role": "staff"}
    admin.post("/settings/team/invite", data=form)
    path = _shared_link(admin.get("/settings/team").get_data(as_text=True))
    guest = app.test_client()

    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    page = guest.get(tampered)
    assert page.status_code == 400 and "not valid" in page.get_data(as_text=True)
    assert guest.get("/invite/not-a-token").status_code == 400

    def signed(key: str, payload: dict) -> str:
        service = InviteService(
            app_container.uow, app_container.clock, app_container.workspaces, key, None
        )
        return "/invite/" + service._tokens.dumps(payload)

    (entry,) = [n for n in _log(app_container, workspace.id) if n.kind == "invite"]
    forged = signed(
        "another secret key",
        {"w": workspace.id, "e": "kim@bayside.example", "r": "admin", "i": entry.id},
    )
    assert guest.get(forged).status_code == 400
    # Correctly signed, but naming this invite in the other workspace: not found there.
    secret = app_container.settings.secret_key
    crossed = signed(
        secret, {"w": other.id, "e": "kim@bayside.example", "r": "staff", "i": entry.id}
    )
    assert guest.get(crossed).status_code == 400
    escalated = signed(
        secret, {"w": workspace.id, "e": "kim@bayside.example", "r": "owner", "i": entry.id}
    )
    assert guest.get(escalated).status_code == 400


def _log(container, workspace_id: int):
    with container.uow() as uow:
        return list(uow.workspace(workspace_id).notifications.all())


def test_inviting_a_member_or_a_bad_address_is_refused_clearly(site):
    app, *_ = site
    admin, token = _admin(app)
    member = admin.post(
        "/settings/team/invite",
        data={"csrf_token": token, "email": "SAM@bayside.example", "role": "staff"},
    )
    text = member.get_data(as_text=True)
    assert member.status_code == 400
    assert "sam@bayside.example is already a member of Bayside Dental." in text
    hostile = admin.post(
        "/settings/team/invite",
        data={"csrf_token": token, "email": HOSTILE, "role": "staff"},
    )
    text = hostile.get_data(as_text=True)
    assert hostile.status_code == 400 and "is not a valid email address" in text
    assert HOSTILE not in text
    bad_role = admin.post(
        "/settings/team/invite",
        data={"csrf_token": token, "email": "x@bayside.example", "role": "owner"},
    )
    assert bad_role.status_code == 400 and "is not a role" in bad_role.get_data(as_text=True)
    assert "Pending invites" not in admin.get("/settings/team").get_data(as_text=True)


def test_a_new_invite_replaces_the_old_and_withdrawn_links_stop_working(site, app_container):
    app, workspace, *_ = site
    admin, token = _admin(app)
    form = {"csrf_token": token, "email": "kim@bayside.example", "role": "staff"}
    admin.post("/settings/team/invite", data=form)
    first = _shared_link(admin.get("/settings/team").get_data(as_text=True))
    admin.post("/settings/team/invite", data=form)
    second = _shared_link(admin.get("/settings/team").get_data(as_text=True))
    assert first != second
    replaced = app.test_client().get(first)
    assert replaced.status_code == 410 and "withdrawn" in replaced.get_data(as_text=True)
    assert app.test_client().get(second).status_code == 200

    (pending,) = [n for n in _log(app_container, workspace.id) if n.kind == "invite"]
    # The invite's id, used from the other workspace, is not found there.
    other_client, other_token = _admin(app, "dana@harbour-physio.example")
    assert (
        other_client.post(
            f"/settings/team/invites/{pending.id}/withdraw", data={"csrf_token": other_token}
        ).status_code
        == 404
    )
    withdrawn = admin.post(
        f"/settings/team/invites/{pending.id}/withdraw", data={"csrf_token": token}
    )
    assert withdrawn.status_code == 302
    assert app.test_client().get(second).status_code == 410


# -- roles and removal ------------------------------------------------------------------


def test_role_changes_and_the_last_admin_guard(site, app_container):
    app, workspace, dana, sam, _, _ = site
    admin, token = _admin(app)

    def post(client, path, csrf, **form):
        return client.post(path, data={"csrf_token": csrf, **form})

    last = post(admin, f"/settings/team/{dana.id}/role", token, role="staff")
    assert last.status_code == 400
    assert "Dana Admin is the last admin" in last.get_data(as_text=True)
    gone = post(admin, f"/settings/team/{dana.id}/remove", token)
    assert gone.status_code == 400 and "last admin" in gone.get_data(as_text=True)

    assert post(admin, f"/settings/team/{sam.id}/role", token, role="admin").status_code == 302
    assert "Sam Staff is now admin" in admin.get("/settings/team").get_data(as_text=True)
    assert _member(app_container, workspace.id, sam.email).role == "admin"
    self_demote = post(admin, f"/settings/team/{dana.id}/role", token, role="staff")
    assert self_demote.status_code == 400
    assert "You cannot demote yourself" in self_demote.get_data(as_text=True)
    self_remove = post(admin, f"/settings/team/{dana.id}/remove", token)
    assert "You cannot remove yourself" in self_remove.get_data(as_text=True)
    bad = post(admin, f"/settings/team/{sam.id}/role", token, role="owner")
    assert bad.status_code == 400 and "is not a role" in bad.get_data(as_text=True)

    # Sam (now admin) demotes Dana; Dana's next request is a staff member's.
    sam_client, sam_token = _admin(app, sam.email)
    assert post(sam_client, f"/settings/team/{dana.id}/role", sam_token, role="staff").status_code
    assert _member(app_container, workspace.id, dana.email).role == "staff"
    assert admin.get("/settings/team").status_code == 403
    # A demoted admin cannot act any more, even through the service directly.
    team = TeamService(app_container.uow, app_container.clock)
    with pytest.raises(Conflict, match="Only admins"):
        team.change_role(workspace.id, dana.id, sam.id, "staff")
    with pytest.raises(Conflict, match="last admin"):
        team.remove(workspace.id, sam.id, sam.id)


def test_removing_a_member_signs_them_out_and_ids_stay_in_their_workspace(site, app_container):
    app, workspace, _, sam, other, other_admin = site
    admin, token = _admin(app)
    sam_client, _ = _admin(app, sam.email)
    for path, form in (
        (f"/settings/team/{other_admin.id}/role", {"role": "staff"}),
        (f"/settings/team/{other_admin.id}/remove", {}),
    ):
        assert admin.post(path, data={"csrf_token": token, **form}).status_code == 404
    assert _member(app_container, other.id, other_admin.email).role == "admin"

    removed = admin.post(f"/settings/team/{sam.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 302
    assert "Sam Staff (sam@bayside.example) was removed" in admin.get("/settings/team").get_data(
        as_text=True
    )
    assert _member(app_container, workspace.id, sam.email) is None
    assert sam_client.get("/").status_code == 302  # signed out at once


# -- message templates ----------------------------------------------------------------------


def test_template_crud_with_validation_and_escaping(site, app_container):
    app, workspace, *_ = site
    admin, token = _admin(app)

    def create(name: str, body: str):
        return admin.post(
            "/settings/templates", data={"csrf_token": token, "name": name, "body": body}
        )

    assert create("Opening hours", "We are open 9 to 5, Monday to Friday.").status_code == 302
    assert create(HOSTILE, "Hello <b>there</b>").status_code == 302
    listed = admin.get("/settings/templates").get_data(as_text=True)
    assert "Opening hours" in listed and ESCAPED in listed and HOSTILE not in listed
    assert "Hello &lt;b&gt;there&lt;/b&gt;" in listed
    assert "Opening hours" in admin.get("/").get_data(as_text=True)  # in the composer's picker

    for name, body, message in (
        ("", "text", "is required"),
        ("Empty", "   ", "is required"),
        ("Long", "x" * 2_001, "is 2,001 characters; the limit is 2,000"),
        ("n" * 121, "text", "is longer than 120 characters"),
        ("OPENING HOURS", "dup", "A template named “Opening hours” already exists."),
    ):
        page = create(name, body)
        text = page.get_data(as_text=True)
        assert page.status_code == 400 and message in text, message
        assert 'aria-invalid="true"' in text or "already exists" in text
    assert create("Exactly", "y" * 2_000).status_code == 302

    templates = {t.name: t for t in _templates(app_container, workspace.id)}
    assert len(templates) == 3
    hours = templates["Opening hours"]
    edit = admin.get(f"/settings/templates/{hours.id}")
    assert edit.status_code == 200 and "We are open 9 to 5" in edit.get_data(as_text=True)
    clash = admin.post(
        f"/settings/templates/{hours.id}",
        data={"csrf_token": token, "name": "exactly", "body": "x"},
    )
    assert clash.status_code == 400 and "already exists" in clash.get_data(as_text=True)
    saved = admin.post(
        f"/settings/templates/{hours.id}",
        data={"csrf_token": token, "name": "Hours", "body": "Open 8 to 6 now."},
    )
    assert saved.status_code == 302
    updated = {t.name: t.body for t in _templates(app_container, workspace.id)}
    assert updated["Hours"] == "Open 8 to 6 now." and "Opening hours" not in updated

    deleted = admin.post(f"/settings/templates/{hours.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 302
    assert "Hours" not in {t.name for t in _templates(app_container, workspace.id)}
    assert admin.get(f"/settings/templates/{hours.id}").status_code == 404


def _templates(container, workspace_id: int):
    with container.uow() as uow:
        return list(uow.workspace(workspace_id).templates.all())


def test_another_workspaces_template_is_404(site, app_container):
    app, workspace, _, _, other, _ = site
    rival, rival_token = _admin(app, "dana@harbour-physio.example")
    rival.post(
        "/settings/templates",
        data={"csrf_token": rival_token, "name": "Private", "body": "Harbour only"},
    )
    (theirs,) = _templates(app_container, other.id)
    admin, token = _admin(app)
    assert admin.get(f"/settings/templates/{theirs.id}").status_code == 404
    edit = admin.post(
        f"/settings/templates/{theirs.id}",
        data={"csrf_token": token, "name": "Mine", "body": "stolen"},
    )
    assert edit.status_code == 404
    delete = admin.post(f"/settings/templates/{theirs.id}/delete", data={"csrf_token": token})
    assert delete.status_code == 404
    assert [(t.name, t.body) for t in _templates(app_container, other.id)] == [
        ("Private", "Harbour only")
    ]
    assert "Private" not in admin.get("/settings/templates").get_data(as_text=True)
    assert _templates(app_container, workspace.id) == []


# -- email notification preferences -------------------------------------------------------


def _preferences(container, workspace_id: int) -> dict[str, str]:
    """Dana (instant, the default) plus one member for each preference."""
    people = {"ivy": "instant", "dee": "digest", "otto": "off"}
    for name, notify in people.items():
        member = container.workspaces.add_member(
            workspace_id,
            NewMember(name.title(), f"{name}@bayside.example", "a long enough passphrase"),
        )
        with container.uow() as uow:
            uow.workspace(workspace_id).team.get(member.id).notify = notify
            uow.commit()
    return {name: f"{name}@bayside.example" for name in people}


def _a_busy_day(container, workspace_id: int) -> int:
    """A new conversation that becomes a lead and is handed to the team."""
    conversation = container.conversations.receive(
        workspace_id, Inbound(channel="webchat", body="Can I book a cleaning?", thread_id="v1")
    ).conversation.id
    details = ContactDetails(first_name="Priya", phone="250 555 0110")
    container.conversations.record_contact(workspace_id, conversation, details)
    container.notifications.handoff(workspace_id, conversation, "wants to talk to a person")
    return conversation


def test_instant_digest_and_off_preferences_over_real_smtp(mail_container, mailbox, clock):
    inbox, _ = mailbox
    workspace, _ = make_workspace(mail_container)
    people = _preferences(mail_container, workspace.id)
    conversation = _a_busy_day(mail_container, workspace.id)

    instant = ["dana@bayside-dental.example", people["ivy"]]
    assert [sorted(e.rcpt_tos) for e in inbox.messages] == [sorted(instant)] * 2
    subjects = [_text(e)[0] for e in inbox.messages]
    assert subjects == ["New lead: Priya", "A visitor is waiting for a person"]

    service = mail_container.notifications
    assert service.send_digests(clock.now) == 0  # today's digest is about yesterday: empty
    next_morning = clock.now + timedelta(days=1)  # 10:00 in Vancouver
    assert service.send_digests(next_morning - timedelta(hours=4)) == 0  # 06:00: too early
    assert service.send_digests(next_morning) == 1
    assert service.send_digests(next_morning + timedelta(hours=5)) == 0  # once a day
    assert len(inbox.messages) == 3
    digest = inbox.messages[-1]
    assert digest.rcpt_tos == [people["dee"]]
    subject, body = _text(digest)
    assert subject == (
        "Bayside Dental daily digest for Monday 2 March 2026: "
        "1 new lead, 1 handoff, 1 new conversation"
    )
    assert "New lead: Priya" in body and "+12505550110" in body
    assert "wants to talk to a person" in body
    assert f"#{conversation} Priya (webchat)" in body
    assert "10:00" in body  # workspace time, not UTC
    assert all(people["otto"] not in e.rcpt_tos for e in inbox.messages)

    with mail_container.uow() as uow:
        log = uow.workspace(workspace.id).notifications.all()
    digests = [n for n in log if n.kind == "digest"]
    assert [(n.recipient, n.status) for n in digests] == [(people["dee"], "sent")]
    # The day after: nothing happened on the 3rd, so no digest at all.
    assert service.send_digests(next_morning + timedelta(days=1)) == 0
    assert len(inbox.messages) == 3


def test_a_failed_digest_is_retried_and_recorded_once(mail_container, mailbox, clock):
    inbox, _ = mailbox
    workspace, _ = make_workspace(mail_container)
    people = _preferences(mail_container, workspace.id)
    _a_busy_day(mail_container, workspace.id)
    inbox.messages.clear()
    next_morning = clock.now + timedelta(days=1)
    down = SmtpSender(f"smtp://127.0.0.1:{_free_port()}", "desk@bayside.example", timeout=2)
    assert NotificationService(mail_container.uow, clock, down).send_digests(next_morning) == 0
    assert mail_container.notifications.send_digests(next_morning + timedelta(minutes=5)) == 1
    assert [e.rcpt_tos for e in inbox.messages] == [[people["dee"]]]
    with mail_container.uow() as uow:
        digests = [n for n in uow.workspace(workspace.id).notifications.all() if n.kind == "digest"]
    assert [(n.recipient, n.status, n.error) for n in digests] == [(people["dee"], "sent", "")]


def test_the_scheduler_sends_the_digests(mail_container, mailbox, clock):
    inbox, _ = mailbox
    workspace, _ = make_workspace(mail_container)
    people = _preferences(mail_container, workspace.id)
    _a_busy_day(mail_container, workspace.id)
    inbox.messages.clear()
    clock.advance(days=1)
    stop = _start_refresh_scheduler(
        mail_container.knowledge, mail_container.notifications, every=0.05
    )
    try:
        deadline = time.monotonic() + 10
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop()  # returns once the round in progress has finished writing
    assert [e.rcpt_tos for e in inbox.messages] == [[people["dee"]]]
