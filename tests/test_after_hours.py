"""After hours, with a frozen clock: when the team is back in plain words (the business's or
the visitor's time zone, across days, weekends, overnight hours and DST), a handoff outside
hours through the real service and the offline model, and each channel's away message."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from agent.core.after_hours import (
    AWAY,
    TIMEZONE,
    clean_away_message,
    clock_words,
    closed,
    place_name,
    visitor_zone,
)
from agent.core.contacts import ContactDetails
from agent.core.conversations import Inbound
from agent.core.errors import ValidationError
from agent.core.models import Direction, Mode
from agent.core.workspaces import WIDGET_DEFAULTS, NewMember
from frontdesk.web import create_app
from frontdesk.wiring import build
from tests.conftest import RecordingDispatcher, make_workspace
from tests.test_delivery import RecordingQueue
from tests.test_inbox import PASSWORD, login
from tests.test_widget_server import SITE, allow, events, frame_data, send, visitor

HALIFAX = ZoneInfo("America/Halifax")
LONDON = ZoneInfo("Europe/London")
TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS = {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}
HOURS = {**WEEKDAYS, "sat": ["10:00-14:00"]}
# A bar open late: Friday and Saturday evenings, past midnight.
BAR = {"fri": ["18:00-24:00"], "sat": ["00:00-02:00", "18:00-24:00"], "sun": ["00:00-02:00"]}


def hfx(day: int, hour: int, minute: int = 0) -> datetime:
    """March 2026 in Halifax (Monday the 2nd; DST starts Sunday the 8th at 2:00)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=HALIFAX)


def back(now: datetime, hours=HOURS, visitor: ZoneInfo | None = None) -> str | None:
    found = closed(now, hours, HALIFAX, visitor)
    return found.phrase if found else None


# -- when we are back, in words ---------------------------------------------------------


def test_open_now_or_no_hours_is_not_after_hours():
    assert back(hfx(2, 10)) is None
    assert back(hfx(2, 16, 59)) is None
    assert back(hfx(2, 20), hours={}) is None  # nothing to promise
    assert back(hfx(2, 20), hours={d: [] for d in WEEKDAYS}) is None


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (hfx(2, 7), "today at 9 am (Halifax time)"),
        (hfx(2, 17), "tomorrow at 9 am (Halifax time)"),  # the close itself is closed
        (hfx(2, 23, 59), "tomorrow at 9 am (Halifax time)"),
        (hfx(3, 0, 1), "today at 9 am (Halifax time)"),  # past midnight: a new day
        (hfx(6, 18), "tomorrow at 10 am (Halifax time)"),  # Friday evening: Saturday
        (hfx(7, 15), "Monday at 9 am (Halifax time)"),  # the weekend
        (hfx(8, 12), "tomorrow at 9 am (Halifax time)"),  # Sunday
    ],
)
def test_next_opening_in_the_business_time_zone_is_named(now, expected):
    assert back(now) == expected


def test_overnight_hours():
    assert back(hfx(7, 1), hours=BAR) is None  # Saturday 1 am: Friday night goes on
    assert back(hfx(7, 3), hours=BAR) == "today at 6 pm (Halifax time)"
    assert back(hfx(6, 12), hours=BAR) == "today at 6 pm (Halifax time)"
    # Sunday 3 am: nothing until Friday evening
    assert back(hfx(8, 3), hours=BAR) == "Friday at 6 pm (Halifax time)"


def test_a_week_away_gives_the_date():
    mondays = {"mon": ["09:30-12:00"]}
    assert back(hfx(2, 13), hours=mondays) == "Monday, March 9 at 9:30 am (Halifax time)"


def test_in_the_visitors_time_zone_without_a_name_and_by_their_calendar():
    # Monday 6 pm in Halifax is 10 pm in London and already Tuesday 7 am in Tokyo.
    assert back(hfx(2, 18), visitor=LONDON) == "tomorrow at 1 pm"
    assert back(hfx(2, 18), visitor=TOKYO) == "today at 10 pm"
    assert back(hfx(2, 18), visitor=HALIFAX) == "tomorrow at 9 am"  # theirs: no name


def test_dst_change_between_now_and_the_opening():
    # Saturday 8 pm (AST, UTC-4) to Monday 9 am (ADT, UTC-3): 12:00 UTC, noon in London
    # (still on GMT); a fixed offset would say 1 pm.
    assert back(hfx(7, 20), hours=WEEKDAYS) == "Monday at 9 am (Halifax time)"
    sunday_midnight = datetime(2026, 3, 8, 0, 0, tzinfo=LONDON)  # Saturday 8 pm in Halifax
    assert closed(sunday_midnight, WEEKDAYS, HALIFAX, LONDON).phrase == "tomorrow at noon"
    # An opening in the spring-forward gap opens at the first minute that exists.
    early = {"sun": ["02:00-05:00"]}
    assert back(hfx(7, 23), hours=early) == "tomorrow at 3 am (Halifax time)"
    found = closed(hfx(7, 23), early, HALIFAX)
    assert found.back.astimezone(UTC) == datetime(2026, 3, 8, 6, 0, tzinfo=UTC)


def test_words_for_times_and_places():
    assert clock_words(hfx(2, 9, 30)) == "9:30 am"
    assert clock_words(hfx(2, 12)) == "noon" and clock_words(hfx(2, 0)) == "midnight"
    assert clock_words(hfx(2, 12, 15)) == "12:15 pm" and clock_words(hfx(2, 0, 5)) == "12:05 am"
    assert place_name(ZoneInfo("America/Argentina/Buenos_Aires")) == "Buenos Aires"
    assert place_name(ZoneInfo("UTC")) == "UTC"


@pytest.mark.parametrize("name", ["Mars/Olympus", "../../etc/passwd", "", 42, None, "x" * 80])
def test_a_browser_time_zone_must_be_a_real_one(name):
    assert visitor_zone(name) is None


def test_away_messages_are_checked():
    assert clean_away_message("  Back soon!  ") == "Back soon!"
    with pytest.raises(ValidationError, match="at most 600"):
        clean_away_message("x" * 601)
    with pytest.raises(ValidationError, match="text"):
        clean_away_message(["no"])


# -- a handoff through the real service and the offline model ----------------------------


@pytest.fixture
def halifax(container):
    workspace, staff = make_workspace(container, timezone="America/Halifax", hours=HOURS)
    return workspace, staff


def say(container, workspace, text, thread="v1", **meta):
    received = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body=text, thread_id=thread, meta=meta)
    )
    with container.uow() as uow:
        repo = uow.workspace(workspace.id)
        reply = repo.messages.reply_to(received.message.id)
        conversation = repo.conversations.get(received.conversation.id)
        thread_messages = repo.messages.for_conversation(conversation.id)
    return reply, conversation, thread_messages


def notes(messages) -> list[str]:
    return [m.body for m in messages if m.direction == Direction.INTERNAL]


def handoffs(container, workspace) -> list[str]:
    with container.uow() as uow:
        found = uow.workspace(workspace.id).notifications.all()
    return [n.body for n in found if n.kind == "handoff"]


def test_asking_for_a_person_after_hours_says_when_we_are_back(container, clock, halifax):
    workspace, _ = halifax
    clock.now = hfx(2, 18)  # Monday 6 pm: closed until Tuesday 9 am
    reply, conversation, thread = say(container, workspace, "I want to talk to a real person")
    assert conversation.mode == Mode.HUMAN
    assert "handoff_to_human" in [c["name"] for c in reply.meta["tool_calls"]]
    assert "closed right now" in reply.body
    assert "tomorrow at 9 am (Halifax time)" in reply.body
    # The follow-up for staff: a note in the thread and the handoff notification.
    assert any(
        "After hours" in n and "tomorrow at 9 am (Halifax time)" in n and "follow up" in n
        for n in notes(thread)
    )
    assert any("after hours" in body for body in handoffs(container, workspace))


def test_after_hours_in_the_visitors_own_time_zone(container, clock, halifax):
    workspace, _ = halifax
    clock.now = hfx(6, 18)  # Friday 6 pm in Halifax: back Saturday 10 am = 2 pm in London
    reply, _, thread = say(
        container, workspace, "can I speak to someone please", timezone="Europe/London"
    )
    assert "tomorrow at 2 pm" in reply.body and "Halifax" not in reply.body
    assert any("tomorrow at 2 pm" in n for n in notes(thread))


def test_a_bogus_time_zone_falls_back_to_the_business(container, clock, halifax):
    workspace, _ = halifax
    clock.now = hfx(7, 15)  # Saturday 3 pm
    reply, _, _ = say(container, workspace, "I want to talk to a human", timezone="Mars/Base")
    assert "Monday at 9 am (Halifax time)" in reply.body


def test_inside_hours_the_usual_handoff(container, clock, halifax):
    workspace, _ = halifax
    clock.now = hfx(3, 11)  # Tuesday 11 am
    reply, conversation, thread = say(container, workspace, "I want to talk to a real person")
    assert conversation.mode == Mode.HUMAN
    assert reply.body == "I've asked a member of our team to take over; they'll reply here shortly."
    assert not any("After hours" in n for n in notes(thread))
    assert handoffs(container, workspace) and "after hours" not in handoffs(container, workspace)[0]


# -- the away message, per channel -------------------------------------------------------


@pytest.fixture
def site(settings, clock):
    """The real app (email channel on) with an admin and a staff member of a Halifax shop."""
    queue = RecordingQueue()
    container = build(
        replace(settings, email_domain="reply.example.com").ensure_data_dir(),
        clock=clock,
        dispatcher_override=RecordingDispatcher(),
        delivery_queue_override=queue,
    )
    app, _ = create_app(container, testing=True)
    workspace, _ = make_workspace(container, timezone="America/Halifax", hours=HOURS)
    container.workspaces.add_member(
        workspace.id, NewMember("Sam Staff", "sam@bayside.example", PASSWORD)
    )
    yield app, container, workspace, queue
    container.engine.dispose()


def _client(app, address="dana@bayside-dental.example"):
    client = app.test_client()
    response, token = login(client, address)
    assert response.status_code == 302
    return client, token


AWAY_TEXT = "Thanks for writing! We're closed now and will reply {back}."


def _thread(container, workspace_id, conversation_id):
    with container.uow() as uow:
        return uow.workspace(workspace_id).messages.for_conversation(conversation_id)


def test_the_away_message_setting_is_admin_only_and_needs_csrf(site):
    app, container, workspace, _ = site
    client, token = _client(app)
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert 'id="away-webchat"' in page and "Away message on web chat" in page
    staff, staff_token = _client(app, "sam@bayside.example")
    refused = staff.post(
        "/settings/channels/webchat/away", data={"away_message": "x", "csrf_token": staff_token}
    )
    assert refused.status_code == 403
    missing = client.post("/settings/channels/webchat/away", data={"away_message": "x"})
    assert missing.status_code == 400
    with container.uow() as uow:
        assert not uow.workspace(workspace.id).workspace().widget.get("away_message")
    saved = client.post(
        "/settings/channels/webchat/away", data={"away_message": AWAY_TEXT, "csrf_token": token}
    )
    assert saved.status_code == 302
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert "Away message saved." in page and "will reply {back}." in page
    too_long = client.post(
        "/settings/channels/webchat/away", data={"away_message": "x" * 601, "csrf_token": token}
    )
    assert too_long.status_code == 302
    page = client.get("/settings/channels/").get_data(as_text=True)
    assert "The away message was not saved: it must be at most 600 characters." in page
    with container.uow() as uow:  # the earlier one is kept
        assert uow.workspace(workspace.id).workspace().widget["away_message"] == AWAY_TEXT
    # Saving the widget page keeps it too.
    form = {**WIDGET_DEFAULTS, "greeting": "Hello!", "mobile_popup": "on", "csrf_token": token}
    del form["allowed_origins"], form["away_message"]
    assert client.post("/settings/widget", data=form).status_code == 302
    with container.uow() as uow:
        widget = uow.workspace(workspace.id).workspace().widget
    assert widget["greeting"] == "Hello!" and widget["away_message"] == AWAY_TEXT
    # A channel that is not connected cannot keep one.
    client.post(
        "/settings/channels/email/away", data={"away_message": "Closed", "csrf_token": token}
    )
    assert "Email is not connected" in client.get("/settings/channels/").get_data(as_text=True)


def test_the_away_message_goes_once_per_conversation_outside_hours(site, clock):
    app, container, workspace, _ = site
    client, token = _client(app)
    client.post(
        "/settings/channels/webchat/away", data={"away_message": AWAY_TEXT, "csrf_token": token}
    )
    clock.now = hfx(2, 20)  # Monday 8 pm
    first = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Are you open?", thread_id="night")
    )
    assert first.routed_to_ai  # the AI still answers as usual
    container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Hello?", thread_id="night")
    )
    thread = _thread(container, workspace.id, first.conversation.id)
    away = [m for m in thread if (m.meta or {}).get(AWAY)]
    assert [m.body for m in away] == [
        "Thanks for writing! We're closed now and will reply tomorrow at 9 am (Halifax time)."
    ]
    assert away[0].direction == Direction.OUTBOUND and away[0].id == first.message.id + 1
    # Inside hours: none, even on a new conversation.
    clock.now = hfx(3, 10)
    day = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Are you open?", thread_id="day")
    )
    assert not any(
        (m.meta or {}).get(AWAY) for m in _thread(container, workspace.id, day.conversation.id)
    )


def test_each_channel_has_its_own_away_message(site, clock):
    app, container, workspace, queue = site
    client, token = _client(app)
    client.post("/settings/channels/email/connect", data={"address": "", "csrf_token": token})
    client.post(
        "/settings/channels/email/away",
        data={"away_message": "Our office is closed; we answer mail {back}.", "csrf_token": token},
    )
    assert "Our office is closed" in client.get("/settings/channels/").get_data(as_text=True)
    clock.now = hfx(7, 15)  # Saturday 3 pm
    web = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Hi", thread_id="w1")
    )
    assert not any(
        (m.meta or {}).get(AWAY) for m in _thread(container, workspace.id, web.conversation.id)
    )
    mail = container.conversations.receive(
        workspace.id,
        Inbound(
            channel="email",
            body="Do you do crowns?",
            thread_id="<m1@example.com>",
            sender=ContactDetails(email="lee@example.com"),
        ),
    )
    away = [
        m
        for m in _thread(container, workspace.id, mail.conversation.id)
        if (m.meta or {}).get(AWAY)
    ]
    assert [m.body for m in away] == [
        "Our office is closed; we answer mail Monday at 9 am (Halifax time)."
    ]
    assert (workspace.id, away[0].id, 0) in queue.jobs  # handed to delivery like any reply


def test_no_away_message_once_a_person_has_the_conversation(site, clock):
    app, container, workspace, _ = site
    client, token = _client(app)
    client.post(
        "/settings/channels/webchat/away", data={"away_message": AWAY_TEXT, "csrf_token": token}
    )
    clock.now = hfx(3, 16)  # open: no away message
    first = container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Hi", thread_id="late")
    )
    with container.uow() as uow:
        dana = uow.workspace(workspace.id).team.all()[0]
    container.conversations.take_over(workspace.id, first.conversation.id, dana.id)
    clock.now = hfx(3, 18)  # closed, but Dana is on it
    container.conversations.receive(
        workspace.id, Inbound(channel="webchat", body="Still there?", thread_id="late")
    )
    thread = _thread(container, workspace.id, first.conversation.id)
    assert not any((m.meta or {}).get(AWAY) for m in thread)
    assert re.search("Still there", " ".join(m.body for m in thread))


# -- the widget reports the visitor's time zone ------------------------------------------


@pytest.mark.parametrize(
    ("sent", "kept"), [("Europe/London", "Europe/London"), ("Nowhere/X", None)]
)
def test_the_widget_sends_the_browsers_time_zone(app_container, sent, kept):
    web = create_app(app_container, testing=True)
    workspace, _ = make_workspace(app_container)
    workspace = allow(app_container, workspace, [SITE])
    token = frame_data(web[0], workspace.widget_key)["frame_token"]
    client = visitor(web, token, timezone=sent)
    visitor_id = events(client)[0][1]["visitor_id"]
    assert send(client, "Are you open on Sunday?", "tz-test-0001")["ok"]
    with app_container.uow() as uow:
        repo = uow.workspace(workspace.id)
        conversation = repo.conversations.by_thread("webchat", visitor_id)
        thread = repo.messages.for_conversation(conversation.id)
    (message,) = [m for m in thread if m.direction == Direction.INBOUND]
    assert message.meta.get(TIMEZONE) == kept
