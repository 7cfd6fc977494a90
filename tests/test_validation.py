"""Pure input rules: each accepts the good, normalises it, and names what is wrong."""

from __future__ import annotations

import pytest

from agent.core import validation as v
from agent.core.errors import ValidationError


@pytest.mark.parametrize(
    ("raw", "country", "e164"),
    [
        ("(604) 555-0142", "CA", "+16045550142"),
        ("604.555.0142", "US", "+16045550142"),
        ("+44 20 7946 0958", "CA", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("030 901820", "DE", "+4930901820"),
        ("0412 345 678", "AU", "+61412345678"),
        ("+91 98765 43210", "US", "+919876543210"),
    ],
)
def test_phone_numbers_normalise_to_e164(raw, country, e164):
    assert v.phone(raw, country) == e164


@pytest.mark.parametrize("raw", ["12", "call me", "+1 604 555 01", "", "555-0142-99999999"])
def test_bad_phone_numbers_are_refused(raw):
    with pytest.raises(ValidationError) as info:
        v.phone(raw, "CA")
    assert info.value.field == "phone"


def test_email_is_syntax_checked_offline_and_lowercased():
    assert v.email("  Sam.Patel@Example.COM ") == "sam.patel@example.com"
    for bad in ("sam", "sam@", "@x.com", "a@@b.com", "a b@c.com"):
        with pytest.raises(ValidationError, match="not a valid email"):
            v.email(bad)


def test_timezones():
    assert v.timezone("America/Vancouver") == "America/Vancouver"
    with pytest.raises(ValidationError, match="not a known time zone"):
        v.timezone("Mars/Olympus")
    with pytest.raises(ValidationError):
        v.timezone("../../etc/passwd")


def test_country_codes():
    assert v.country("ca") == "CA"
    with pytest.raises(ValidationError, match="ISO 3166"):
        v.country("XX")


def test_opening_hours_normalise():
    hours = v.opening_hours(
        {"mon": "8:00-12:00, 13:00-17:30", "sat": ["09:00-14:00"], "sun": "closed"}
    )
    assert hours["mon"] == ["08:00-12:00", "13:00-17:30"]
    assert hours["sat"] == ["09:00-14:00"]
    assert hours["sun"] == [] and hours["tue"] == []
    assert v.opening_hours({"fri": "18:00-24:00"})["fri"] == ["18:00-24:00"]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ({"mon": "08:00-12:00, 11:00-14:00"}, "overlap"),
        ({"mon": "17:00-09:00"}, "ends before it starts"),
        ({"mon": "9am-5pm"}, "not a range"),
        ({"mon": "25:00-26:00"}, "impossible time"),
        ({"mon": "09:60-10:00"}, "impossible time"),
        ({"monday": "09:00-10:00"}, "unknown day"),
    ],
)
def test_bad_opening_hours_are_refused(hours, message):
    with pytest.raises(ValidationError, match=message):
        v.opening_hours(hours)


def test_links_must_be_http():
    assert v.links({"Booking": "https://x.example/book"}) == {"booking": "https://x.example/book"}
    for bad in ("javascript:alert(1)", "ftp://x.example", "not a url"):
        with pytest.raises(ValidationError, match="http"):
            v.links({"booking": bad})


def test_message_body_limit():
    assert v.message_body("  hi\x00  ", 10) == "hi"
    with pytest.raises(ValidationError, match="11 characters; the limit is 10"):
        v.message_body("x" * 11, 10)
    with pytest.raises(ValidationError, match="empty"):
        v.message_body(" \n ", 10)


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 10"),
        ("password123", "too easy"),
        ("aaaaaaaaaaaa", "too easy"),
        ("dana-is-great-2026", "must not contain"),
        ("bayside rocks forever", "must not contain"),
    ],
)
def test_weak_passwords_are_refused(password, message):
    with pytest.raises(ValidationError, match=message):
        v.password(password, email="dana@bayside.example", workspace="Bayside")


def test_good_password_is_accepted():
    assert v.password("correct horse battery", email="dana@x.example", workspace="Acme")
