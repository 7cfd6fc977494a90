"""The contacts and appointments pages: listing, search, editing, cancelling, isolation.

Data is made the way production makes it: visitors write through the conversation
service, details are recorded by the same call the agent uses, and appointments are
booked by the booking service against real opening hours.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.workspaces import NewMember
from tests.conftest import make_workspace
from tests.test_inbox import PASSWORD, login, web  # noqa: F401  (web is a fixture)

HOSTILE = "<img src=x onerror=alert(1)>"
ESCAPED = "&lt;img src=x onerror=alert(1)&gt;"
VANCOUVER = ZoneInfo("America/Vancouver")
HOURS = {day: "09:00-17:00" for day in ("mon", "tue", "wed", "thu", "fri")}
# The frozen clock says Monday 2 March 2026, 10:00 in Vancouver.
TUESDAY_10 = datetime(2026, 3, 3, 10, 0, tzinfo=VANCOUVER)
WEDNESDAY_14 = datetime(2026, 3, 4, 14, 0, tzinfo=VANCOUVER)


@pytest.fixture
def clinic(app_container):
    """A workspace open on weekdays, with a staff member (not an admin)."""
    workspace, _ = make_workspace(app_container, hours=HOURS)
    app_container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    return workspace


@pytest.fixture
def client(web, clinic):  # noqa: F811
    client = web[0].test_client()
    _, token = login(client, "sam@bayside.example")
    client.token = token
    return client


def lead(container, workspace_id, thread, channel="webchat", **details):
    """A visitor writes, then leaves details: returns (conversation id, contact id)."""
    received = container.conversations.receive(
        workspace_id, Inbound(channel=channel, body="Hello there", thread_id=thread)
    )
    conversation_id = received.conversation.id
    contact, _ = container.conversations.record_contact(
        workspace_id, conversation_id, ContactDetails(**details)
    )
    return conversation_id, contact.id


def book(container, workspace_id, conversation_id, start):
    result = container.booking.book(workspace_id, conversation_id, start)
    assert result.booked, result.explanation
    return result.appointment_id


def contact_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-contact-id="(\d+)"', page)]


def appointment_status(container, workspace_id, appointment_id) -> str:
    with container.uow() as uow:
        return str(uow.workspace(workspace_id).appointments.get(appointment_id).status)


def test_pages_need_a_signed_in_member(web, clinic, app_container):  # noqa: F811
    conversation_id, contact_id = lead(
        app_container, clinic.id, "v1", first_name="Jane", email="jane@example.com"
    )
    appointment_id = book(app_container, clinic.id, conversation_id, TUESDAY_10)
    anonymous = web[0].test_client()
    for path in ("/contacts", f"/contacts/{contact_id}", "/appointments"):
        response = anonymous.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/login")
    assert anonymous.post(f"/appointments/{appointment_id}/cancel").status_code == 400
    assert anonymous.post(f"/contacts/{contact_id}", data={"first_name": "X"}).status_code == 400
    assert appointment_status(app_container, clinic.id, appointment_id) == "booked"


def test_staff_see_both_pages_in_the_top_bar(client):
    page = client.get("/").get_data(as_text=True)
    assert '<a href="/contacts">Contacts</a>' in page
    assert '<a href="/appointments">Appointments</a>' in page


def test_contacts_are_listed_newest_first_fifty_a_page(client, clinic, app_container):
    ids = [
        lead(
            app_container,
            clinic.id,
            f"p{i}@example.com",
            channel="email",
            first_name=f"Person {i:02d}",
            email=f"p{i}@example.com",
        )[1]
        for i in range(55)
    ]
    first = client.get("/contacts")
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "55 contacts" in page
    assert contact_ids(page) == ids[::-1][:50]
    assert "Page 1 of 2" in page and 'href="/contacts?page=2"' in page
    second = client.get("/contacts?page=2").get_data(as_text=True)
    assert contact_ids(second) == ids[4::-1]
    assert "Person 00" in second and "<td>Email</td>" in second  # the source channel
    assert contact_ids(client.get("/contacts?page=99").get_data(as_text=True)) == ids[4::-1]
    assert contact_ids(client.get("/contacts?page=nope").get_data(as_text=True)) == ids[::-1][:50]


def test_search_by_name_email_or_phone(client, clinic, app_container):
    jane = lead(
        app_container, clinic.id, "a", first_name="Jane", last_name="Doe", phone="604 555 0142"
    )[1]
    omar = lead(app_container, clinic.id, "b", first_name="Omar", email="Omar.K@Example.com")[1]
    percent = lead(app_container, clinic.id, "c", first_name="100%", email="pct@example.com")[1]

    def found(query: str) -> list[int]:
        return contact_ids(
            client.get("/contacts", query_string={"q": query}).get_data(as_text=True)
        )

    assert found("JANE DOE") == [jane]
    assert found("doe") == [jane]
    assert found("omar.k@example") == [omar]
    assert found("+1604555") == [jane]
    assert found("(604) 555-0142") == [jane]  # typed the way people write numbers
    assert found("100%") == [percent]
    assert found("%") == [percent]  # the one contact with a literal percent sign
    assert found("_") == []  # LIKE wildcards are escaped, not matched
    assert found("nobody") == []
    page = client.get("/contacts?q=nobody").get_data(as_text=True)
    assert "No contact matches that search." in page


def test_search_pages_keep_the_query(client, clinic, app_container):
    for i in range(52):
        lead(app_container, clinic.id, f"t{i}", first_name=f"Match {i}", email=f"m{i}@x.example")
    lead(app_container, clinic.id, "other", first_name="Someone", email="s@else.example")
    page = client.get("/contacts?q=match").get_data(as_text=True)
    assert "52 contacts matching" in page
    assert 'href="/contacts?q=match&amp;page=2"' in page
    assert len(contact_ids(client.get("/contacts?q=match&page=2").get_data(as_text=True))) == 2


def test_contact_page_shows_details_conversations_and_appointments(client, clinic, app_container):
    chat, contact_id = lead(
        app_container,
        clinic.id,
        "v1",
        first_name="Jane",
        last_name="Doe",
        email="jane@example.com",
        phone="604 555 0142",
        address="12 Harbour Rd",
    )
    # The same person writes by email later: the service attaches it to the same contact.
    emailed = app_container.conversations.receive(
        clinic.id,
        Inbound(
            channel="email",
            body="About my visit",
            thread_id="mail-1",
            sender=ContactDetails(email="jane@example.com"),
        ),
    ).conversation.id
    app_container.conversations.close(clinic.id, emailed)
    tuesday = book(app_container, clinic.id, chat, TUESDAY_10)
    wednesday = book(app_container, clinic.id, chat, WEDNESDAY_14)
    app_container.booking.cancel(clinic.id, wednesday)

    response = client.get(f"/contacts/{contact_id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Jane Doe", "jane@example.com", "+16045550142", "12 Harbour Rd", "Web chat"):
        assert text in page
    assert "2026-03-02 10:00" in page  # created, on the business's clock
    conversations = page.split('id="contact-conversations"')[1].split("</table>")[0]
    assert f'href="/?conversation={chat}"' in conversations
    assert f'href="/?conversation={emailed}"' in conversations
    assert "Email" in conversations and "Closed" in conversations and "AI" in conversations
    appointments = page.split('id="contact-appointments"')[1].split("</ul>")[0]
    assert "Tuesday 3 March 2026, 10:00-11:00" in appointments
    assert "Wednesday 4 March 2026, 14:00-15:00" in appointments
    assert f'action="/appointments/{tuesday}/cancel"' in appointments
    assert f'action="/appointments/{wednesday}/cancel"' not in appointments  # already cancelled
    assert "Cancelled" in appointments


def test_staff_edit_a_contact(client, clinic, app_container):
    conversation_id, contact_id = lead(
        app_container, clinic.id, "v1", first_name="jane", email="jane@example.com"
    )
    form = {
        "first_name": "  Jane ",
        "last_name": "Doe",
        "email": "Jane.Doe@Example.COM",
        "phone": "(604) 555-0199",
        "address": "12 Harbour Rd",
        "csrf_token": client.token,
    }
    response = client.post(f"/contacts/{contact_id}", data=form)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/contacts/{contact_id}"
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert "Saved: first name, last name, email, phone, address." in page
    with app_container.uow() as uow:
        contact = uow.workspace(clinic.id).contacts.get(contact_id)
    assert (contact.first_name, contact.last_name) == ("Jane", "Doe")
    assert (contact.email, contact.phone) == ("jane.doe@example.com", "+16045550199")
    assert contact.address == "12 Harbour Rd"
    # The inbox shows the new name too.
    listed = client.get("/api/conversations").json["conversations"]
    assert [c["contact_name"] for c in listed if c["id"] == conversation_id] == ["Jane Doe"]

    again = client.post(f"/contacts/{contact_id}", data=form, follow_redirects=True)
    assert "Nothing changed." in again.get_data(as_text=True)
    cleared = client.post(
        f"/contacts/{contact_id}", data={**form, "address": ""}, follow_redirects=True
    )
    assert "Saved: address." in cleared.get_data(as_text=True)


def test_invalid_details_are_explained_and_nothing_changes(client, clinic, app_container):
    _, contact_id = lead(app_container, clinic.id, "v1", first_name="Jane", email="j@example.com")
    form = {
        "first_name": "Janet",
        "last_name": "",
        "email": "not-an-email",
        "phone": "12",
        "address": "",
        "csrf_token": client.token,
    }
    response = client.post(f"/contacts/{contact_id}", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Nothing was saved" in page
    assert re.search(r'id="error-email">Email: .*not-an-email.* is not a valid email', page)
    assert re.search(r'id="error-phone">Phone: .*12.* is not a valid phone number for CA', page)
    assert 'value="Janet"' in page and 'value="not-an-email"' in page  # what was typed stays
    with app_container.uow() as uow:
        contact = uow.workspace(clinic.id).contacts.get(contact_id)
    assert (contact.first_name, contact.email, contact.phone) == ("Jane", "j@example.com", "")

    too_long = client.post(
        f"/contacts/{contact_id}", data={**form, "email": "", "phone": "", "last_name": "x" * 101}
    )
    assert too_long.status_code == 400
    assert "Last name: is longer than 100 characters" in too_long.get_data(as_text=True)
    forged = client.post(f"/contacts/{contact_id}", data={**form, "csrf_token": "forged"})
    assert forged.status_code == 400
    with app_container.uow() as uow:
        assert uow.workspace(clinic.id).contacts.get(contact_id).first_name == "Jane"


def test_an_email_or_phone_of_another_contact_is_refused(client, clinic, app_container):
    _, jane = lead(app_container, clinic.id, "a", first_name="Jane", email="jane@example.com")
    _, omar = lead(app_container, clinic.id, "b", first_name="Omar", phone="+16045550142")
    response = client.post(
        f"/contacts/{jane}",
        data={
            "first_name": "Jane",
            "email": "jane@example.com",  # her own: fine
            "phone": "604-555-0142",  # Omar's
            "csrf_token": client.token,
        },
    )
    assert response.status_code == 400
    assert f"+16045550142 already belongs to Omar (contact #{omar})" in response.get_data(
        as_text=True
    )
    with app_container.uow() as uow:
        assert uow.workspace(clinic.id).contacts.get(jane).phone == ""


def test_hostile_names_are_escaped_everywhere(client, clinic, app_container):
    conversation_id, contact_id = lead(
        app_container, clinic.id, "v1", first_name=HOSTILE, email="x@example.com"
    )
    book(app_container, clinic.id, conversation_id, TUESDAY_10)
    pages = {
        "list": client.get("/contacts").get_data(as_text=True),
        "search": client.get("/contacts", query_string={"q": HOSTILE}).get_data(as_text=True),
        "detail": client.get(f"/contacts/{contact_id}").get_data(as_text=True),
        "appointments": client.get("/appointments").get_data(as_text=True),
    }
    for name, page in pages.items():
        assert HOSTILE not in page, name
        assert ESCAPED in page, name
    rejected = client.post(
        f"/contacts/{contact_id}", data={"email": HOSTILE, "csrf_token": client.token}
    )
    assert rejected.status_code == 400
    assert HOSTILE not in rejected.get_data(as_text=True)


def test_appointments_by_day_on_the_business_clock(client, clinic, app_container, clock):
    first, jane = lead(app_container, clinic.id, "a", first_name="Jane", email="j@example.com")
    second, omar = lead(app_container, clinic.id, "b", first_name="Omar", phone="+16045550142")
    book(app_container, clinic.id, second, WEDNESDAY_14)
    book(app_container, clinic.id, first, TUESDAY_10)

    page = client.get("/appointments").get_data(as_text=True)
    assert "Times are shown in America/Vancouver." in page
    days = re.findall(r'<h2 class="day">([^<]+)</h2>', page)
    assert days == ["Tuesday 3 March 2026", "Wednesday 4 March 2026"]
    tuesday, wednesday = page.split('<h2 class="day">')[1:]
    assert "10:00-11:00" in tuesday and f'href="/contacts/{jane}">Jane</a>' in tuesday
    assert "14:00-15:00" in wednesday and f'href="/contacts/{omar}">Omar</a>' in wednesday
    assert "Booked" in tuesday
    past = client.get("/appointments?when=past").get_data(as_text=True)
    assert "No past appointments." in past

    clock.advance(days=1, hours=2)  # Tuesday noon: Tuesday's visit is over
    upcoming = client.get("/appointments").get_data(as_text=True)
    assert re.findall(r'<h2 class="day">([^<]+)</h2>', upcoming) == ["Wednesday 4 March 2026"]
    past = client.get("/appointments?when=past").get_data(as_text=True)
    assert re.findall(r'<h2 class="day">([^<]+)</h2>', past) == ["Tuesday 3 March 2026"]
    assert "/cancel" not in past  # what is over cannot be cancelled


def test_cancel_an_appointment_once_and_twice(client, clinic, app_container):
    conversation_id, _ = lead(
        app_container, clinic.id, "a", first_name="Jane", last_name="Doe", email="j@example.com"
    )
    appointment_id = book(app_container, clinic.id, conversation_id, TUESDAY_10)
    path = f"/appointments/{appointment_id}/cancel"
    page = client.get("/appointments").get_data(as_text=True)
    assert f'action="{path}"' in page and 'name="back" value="upcoming"' in page
    assert 'data-confirm="Cancel the appointment on Tuesday 3 March 2026 at 10:00' in page
    assert client.post(path).status_code == 400  # no CSRF token
    assert appointment_status(app_container, clinic.id, appointment_id) == "booked"

    response = client.post(path, data={"csrf_token": client.token})
    assert response.status_code == 302 and response.headers["Location"] == "/appointments"
    page = client.get("/appointments").get_data(as_text=True)
    assert "Cancelled the appointment on 2026-03-03 10:00 with Jane Doe." in page
    assert "Cancelled</span>" in page and f'action="{path}"' not in page
    assert appointment_status(app_container, clinic.id, appointment_id) == "cancelled"

    again = client.post(path, data={"csrf_token": client.token}, follow_redirects=True)
    assert again.status_code == 200
    assert "was already cancelled; nothing changed." in again.get_data(as_text=True)
    assert appointment_status(app_container, clinic.id, appointment_id) == "cancelled"
    # The slot is free again.
    assert app_container.booking.book(clinic.id, conversation_id, TUESDAY_10).booked


def test_cancel_from_the_contact_page_returns_there(client, clinic, app_container):
    conversation_id, contact_id = lead(
        app_container, clinic.id, "a", first_name="Jane", email="j@example.com"
    )
    appointment_id = book(app_container, clinic.id, conversation_id, TUESDAY_10)
    page = client.get(f"/contacts/{contact_id}").get_data(as_text=True)
    assert 'name="back" value="contact"' in page
    response = client.post(
        f"/appointments/{appointment_id}/cancel",
        data={"csrf_token": client.token, "back": "contact"},
    )
    assert response.headers["Location"] == f"/contacts/{contact_id}"
    assert "Cancelled the appointment" in client.get(f"/contacts/{contact_id}").get_data(
        as_text=True
    )


def test_another_workspace_is_not_found(client, clinic, app_container):
    other, _ = make_workspace(app_container, "Harbour Vets", hours=HOURS)
    conversation_id, theirs = lead(
        app_container, other.id, "v1", first_name="Secret", email="secret@example.com"
    )
    appointment_id = book(app_container, other.id, conversation_id, TUESDAY_10)

    assert client.get(f"/contacts/{theirs}").status_code == 404
    edited = client.post(
        f"/contacts/{theirs}", data={"first_name": "Hacked", "csrf_token": client.token}
    )
    assert edited.status_code == 404
    cancelled = client.post(
        f"/appointments/{appointment_id}/cancel", data={"csrf_token": client.token}
    )
    assert cancelled.status_code == 404
    assert "Secret" not in client.get("/contacts").get_data(as_text=True)
    assert "Secret" not in client.get("/contacts?q=secret").get_data(as_text=True)
    assert "No upcoming appointments." in client.get("/appointments").get_data(as_text=True)
    with app_container.uow() as uow:
        assert uow.workspace(other.id).contacts.get(theirs).first_name == "Secret"
    assert appointment_status(app_container, other.id, appointment_id) == "booked"


# -- in a real browser: the inbox link and the cancel confirmation ---------------------


@pytest.fixture
def live(sqlite_settings):
    """The real app on a local port (SQLite, no Redis), frozen at the suite's NOW."""
    from agent.core.clock import FixedClock
    from frontdesk.web import create_app
    from frontdesk.wiring import build
    from tests.browser import LiveServer
    from tests.conftest import NOW, RecordingDispatcher

    container = build(
        sqlite_settings,
        redis_url="",
        clock=FixedClock(NOW),
        dispatcher_override=RecordingDispatcher(),
    )
    app, _ = create_app(container)
    workspace, _ = make_workspace(container, hours=HOURS)
    container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    with LiveServer(app) as server:
        yield server.url, container, workspace.id
    container.engine.dispose()


@pytest.fixture
def page(browser, live):
    context = browser.new_context(base_url=live[0])
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.errors = []
    page.on(
        "console",
        lambda msg: (
            page.errors.append(f"{msg.text} {msg.location}") if msg.type == "error" else None
        ),
    )
    page.goto("/login")
    page.get_by_label("Email").fill("sam@bayside.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/$"))
    yield page
    context.close()


def test_browser_contact_page_opens_the_conversation_in_the_inbox(page, live):
    from playwright.sync_api import expect

    _, container, workspace_id = live
    other, _ = make_workspace(container, "Harbour Vets")
    theirs = lead(container, other.id, "x", first_name="Secret", email="s@example.com")[0]
    conversation_id, contact_id = lead(
        container, workspace_id, "v1", first_name="Jane", last_name="Doe", email="j@example.com"
    )
    page.goto("/contacts")
    page.get_by_role("link", name="Jane Doe").click()
    expect(page).to_have_url(re.compile(rf"/contacts/{contact_id}$"))
    page.get_by_role("link", name="Open in inbox").click()
    expect(page).to_have_url(re.compile(rf"/\?conversation={conversation_id}$"))
    expect(page.locator("#thread")).to_be_visible()
    expect(page.locator("#thread-title")).to_have_text("Jane Doe")
    expect(page.locator("#messages > li").last.locator(".body")).to_have_text("Hello there")

    page.goto(f"/?conversation={theirs}")  # another workspace's id: refused, nothing shown
    expect(page.locator(".toast")).to_have_text("Not found.")
    expect(page.locator("#thread")).to_be_hidden()
    # The one failed request is that refused API call; nothing else went wrong.
    assert [e for e in page.errors if "favicon.ico" not in e] == [
        e for e in page.errors if f"/api/conversations/{theirs}'" in e
    ]


def test_browser_cancel_asks_first(page, live):
    from playwright.sync_api import expect

    _, container, workspace_id = live
    conversation_id, _ = lead(
        container, workspace_id, "v1", first_name=HOSTILE, email="j@example.com"
    )
    appointment_id = book(container, workspace_id, conversation_id, TUESDAY_10)
    questions = []

    def answer(dialog, accept):
        questions.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.goto("/appointments")
    button = page.get_by_role("button", name="Cancel appointment")
    page.once("dialog", lambda dialog: answer(dialog, False))
    button.click()
    expect(button).to_be_visible()
    assert questions == [
        f"Cancel the appointment on Tuesday 3 March 2026 at 10:00-11:00 with {HOSTILE}?"
    ]
    assert appointment_status(container, workspace_id, appointment_id) == "booked"

    page.once("dialog", lambda dialog: answer(dialog, True))
    button.click()
    expect(page.locator(".flash")).to_have_text(
        f"Cancelled the appointment on 2026-03-03 10:00 with {HOSTILE}."
    )
    expect(page.locator(".appointment-status")).to_have_text("Cancelled")
    expect(button).to_have_count(0)
    assert appointment_status(container, workspace_id, appointment_id) == "cancelled"
    assert [e for e in page.errors if "favicon.ico" not in e] == []  # no CSP violation
