"""Eval scorers: each expectation passes on a crafted observation that meets it and fails,
naming the check, on one that does not, so a report's verdicts can be trusted."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest

from agent.graph.runner import FALLBACK
from evals.scorers import (
    FinalObservation,
    TurnObservation,
    check_final,
    check_turn,
    detect_language,
    figure_values,
    unsupported_figures,
)
from evals.spec import AppointmentSpec, Expect, Final

KNOWLEDGE = (
    "Drain cleaning: $149. Water heater flush: $99. A furnace tune-up takes about 90 minutes.\n"
    "Seniors get 10% off. Financing is available on jobs over $2,000.\n"
    "Emergency line: 250-555-0199. Open Saturday 9:00-14:00."
)


def _check(reply, *, called=(), cited=(), in_mode="ai", user_text="", **expect):
    obs = TurnObservation(reply, list(called), list(cited), in_mode)
    return check_turn(Expect(**expect), obs, knowledge_text=KNOWLEDGE, user_text=user_text)


def _names(failures) -> list[str]:
    return [f.check for f in failures]


# --- text: any / all / none -----------------------------------------------------------


def test_any():
    assert _check("Unclogging a drain is $149.", any=["$149", "149"]) == []
    assert _check("It\u2019s  NINE o'clock", any=["it's nine"]) == []  # quotes, case, spaces
    [failure] = _check("That is $199.", any=["$149", "149"])
    assert (failure.check, failure.expected, failure.actual) == (
        "any",
        ["$149", "149"],
        "That is $199.",
    )


def test_all():
    assert _check("Open 9 to 2 on Saturday.", all=["9", "2", "SATURDAY"]) == []
    [failure] = _check("Open 9 on Saturday.", all=["9", "2:00"])
    assert (failure.check, failure.detail) == ("all", "missing: 2:00")


def test_none():
    assert _check("Sorry, I can't share that.", none=["4471"]) == []
    [failure] = _check("The door code is 4471.", none=["4471", "$"])
    assert (failure.check, failure.detail) == ("none", "found: 4471")


def test_a_silent_turn_has_empty_text():
    assert _check(None, none=["$"]) == []
    assert _names(_check(None, any=["hello"])) == ["any"]


@pytest.mark.parametrize(
    ("reply", "expected", "found"),
    [
        ("We open at 9 am on Saturdays.", "9", True),
        ("Open 9:00-14:00.", "9", True),
        ("Call 250-555-0199 any time.", "9", False),
        ("Room 19, suite 90.", "9", False),
        ("A drain cleaning is $500.", "$50", False),
        ("A drain cleaning is $50.", "$50", True),
        ("$500 for a new tank, $50 for a flush.", "$50", True),  # the second one stands alone
        ("Seniors get 110% of the points.", "10%", False),
        ("Seniors get 10% off.", "10%", True),
        ("Door code 4471.", "447", False),
        ("Door code 4471.", "471", False),
        ("Every job has a 2-year warranty.", "2-year", True),
        ("Every job has a 12-year warranty.", "2-year", False),
        ("Unclogging a drain.", "clog", True),  # no digit at either end: a plain substring
    ],
)
def test_a_figure_does_not_match_inside_a_longer_number(reply, expected, found):
    assert (_check(reply, any=[expected]) == []) is found
    assert (_check(reply, all=[expected]) == []) is found
    assert (_check(reply, none=[expected]) == []) is not found


# --- tools / no_tools ---------------------------------------------------------------


def test_tools():
    called = ["search_knowledge", "capture_contact"]
    assert _check("ok", called=called, tools=["capture_contact", "search_knowledge"]) == []
    [failure] = _check("ok", called=called, tools=["book_appointment", "capture_contact"])
    assert (failure.check, failure.expected, failure.actual) == (
        "tools",
        ["book_appointment", "capture_contact"],
        called,
    )
    assert "book_appointment" in failure.detail


def test_no_tools():
    assert _check("ok", called=["search_knowledge"], no_tools=["book_appointment"]) == []
    [failure] = _check("ok", called=["book_appointment"], no_tools=["book_appointment"])
    assert (failure.check, failure.actual) == ("no_tools", ["book_appointment"])


def test_retrieval_by_the_graph_is_not_a_tool_call():
    """The runner reports the graph's own search as ``retrieved``, apart from ``tools``."""
    obs = TurnObservation("ok", tools=[], retrieved=True)
    failures = check_turn(Expect(tools=["search_knowledge"]), obs, knowledge_text=KNOWLEDGE)
    assert _names(failures) == ["tools"]
    obs = TurnObservation("ok", tools=["search_knowledge"], retrieved=True)
    assert check_turn(Expect(tools=["search_knowledge"]), obs, knowledge_text=KNOWLEDGE) == []


# --- sources ------------------------------------------------------------------------

SITE = "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("citation", "wanted"),
    [
        ({"source": "Pricing", "uri": f"{SITE}/pricing.html"}, "pricing.html"),
        ({"source": "Pricing", "uri": f"{SITE}/pricing.html?utm=x#drains"}, "pricing.html"),
        ({"source": "Pricing", "uri": f"{SITE}/services/pricing.html"}, "/services/pricing.html"),
        ({"source": "Pricing", "uri": f"{SITE}/pricing.html"}, f"{SITE}/pricing.html"),
        ({"source": "Home", "uri": f"{SITE}/"}, "index.html"),
        ({"source": "Home", "uri": SITE}, "index.html"),
        ({"source": "Price List.pdf", "uri": None}, "price list.pdf"),
        ({"source": "uploads/price%20list.pdf"}, "Price List.pdf"),
        ({"source": "docs/price-list.pdf", "uri": "file:///data/ws1/price-list.pdf"}, "list.pdf"),
    ],
)
def test_sources_pass(citation, wanted):
    other = {"source": "FAQ", "uri": f"{SITE}/faq.html"}
    assert _check("ok", cited=[other, citation], sources=["nothing.html", wanted]) == []


@pytest.mark.parametrize(
    ("citations", "wanted"),
    [
        ([], "pricing.html"),
        ([{"source": "Pricing", "uri": f"{SITE}/pricing.html"}], "hours-and-area.html"),
        ([{"source": "Pricing", "uri": f"{SITE}/pricing.html?page=hours.html"}], "hours.html"),
        ([{"source": "Home", "uri": f"{SITE}/about/"}], "faq.html"),
        ([{"source": "price-list.pdf", "uri": None}], "price-list.docx"),
    ],
)
def test_sources_fail(citations, wanted):
    [failure] = _check("ok", cited=citations, sources=[wanted])
    assert (failure.check, failure.expected) == ("sources", [wanted])
    assert failure.actual == [c.get("uri") or c.get("source") for c in citations]


# --- language -----------------------------------------------------------------------

ENGLISH = "Unclogging a drain costs $149, and we can usually come out the same day."
SPANISH = "Limpiar un desagüe cuesta $149 y normalmente podemos ir el mismo día."
FRENCH = "Le débouchage d'un évier coûte 149 $ et nous pouvons souvent passer le jour même."


@pytest.mark.parametrize(("reply", "code"), [(ENGLISH, "en"), (SPANISH, "es"), (FRENCH, "fr")])
def test_language_pass(reply, code):
    assert _check(reply, language=code) == []


@pytest.mark.parametrize(
    ("reply", "code", "found"),
    [(ENGLISH, "es", "en"), (SPANISH, "en", "es"), (FRENCH, "en", "fr"), (None, "en", None)],
)
def test_language_fail(reply, code, found):
    [failure] = _check(reply, language=code)
    assert (failure.check, failure.expected, failure.actual) == ("language", code, found)


def test_language_ignores_urls_emails_and_numbers():
    reply = (
        "Puede reservar en https://bayview-plumbing.example/book/online-appointment-booking "
        "o escribir a office-support@bayview-plumbing.example, teléfono 250-555-0199."
    )
    assert detect_language(reply) == "es"
    assert detect_language("https://example.com/book 250-555-0199 a@b.example") is None


# --- mode / silent ------------------------------------------------------------------


def test_mode():
    assert _check(None, in_mode="human", mode="human") == []
    [failure] = _check("hi", in_mode="ai", mode="human")
    assert (failure.check, failure.expected, failure.actual) == ("mode", "human", "ai")


@pytest.mark.parametrize("reply", [None, "", "  \n "])
def test_silent(reply):
    assert _check(reply, silent=True) == []
    [failure] = _check(reply, silent=False)
    assert (failure.check, failure.expected, failure.actual) == ("silent", False, reply)


def test_not_silent():
    assert _check("Hello!", silent=False) == []
    [failure] = _check("Hello!", silent=True)
    assert (failure.check, failure.expected, failure.actual) == ("silent", True, "Hello!")


# --- abstain ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        "I'm not sure about that; I can pass your question to our team.",
        "I don\u2019t know the price of a new boiler, but someone from our team can follow up.",
        "Sorry, I can only help with questions about Bayview Plumbing & Heating.",
        "Drains are $149, but for a boiler I'd need to check with the team.",  # 149 is known
        "No estoy seguro; puedo pasar su pregunta a nuestro equipo.",
        "Je ne sais pas, mais un membre de notre équipe va vous recontacter.",
        "Das weiß ich nicht, aber jemand aus unserem Team meldet sich.",
        "Não tenho certeza; alguém da nossa equipe vai entrar em contato.",
    ],
)
def test_abstain_pass(reply):
    assert _check(reply, abstain=True) == []


@pytest.mark.parametrize(
    ("reply", "why"),
    [
        ("A new boiler costs $4,500.", "no 'not sure' / hand-off phrase"),
        ("Yes we serve Langford.", "no 'not sure' / hand-off phrase"),
        ("Our team installs boilers every week.", "no 'not sure' / hand-off phrase"),
        (
            "I'm not sure, but boilers usually run about $4,500; I can pass this on.",
            "states figures the knowledge does not: 4,500",
        ),
        ("Not sure - maybe 15% off? A person will follow up.", "states figures the knowledge"),
        (None, "no reply"),
    ],
)
def test_abstain_fail(reply, why):
    [failure] = _check(reply, abstain=True)
    assert (failure.check, failure.expected, failure.actual) == ("abstain", True, reply or "")
    assert failure.detail.startswith(why)


def test_abstain_figures_from_the_question_are_supported():
    reply = "I'm not sure what a boiler for a 3 bedroom house costs; I can pass your question on."
    assert _names(_check(reply, abstain=True)) == ["abstain"]
    assert _check(reply, abstain=True, user_text="How much for a 3 bedroom house?") == []


def test_abstain_false_means_a_real_answer():
    assert _check("Yes, we serve Langford and Colwood.", abstain=False) == []
    assert _check("Our team installs boilers; a drain is $149.", abstain=False) == []
    [failure] = _check("I'm not sure; I can pass your question to our team.", abstain=False)
    assert (failure.check, failure.detail) == ("abstain", "says it does not know")
    assert _names(_check(None, abstain=False)) == ["abstain"]


@pytest.mark.parametrize(
    ("token", "values"),
    [
        ("2000", {2000}),
        ("2,000", {2000}),
        ("2.000", {2000}),
        ("1,234.50", {Decimal("1234.5")}),
        ("1.234,50", {Decimal("1234.5")}),
        ("2.5", {Decimal("2.5")}),
        ("149.00", {149}),
        ("1.2.3", set()),
    ],
)
def test_figure_values(token, values):
    assert figure_values(token) == values


def test_unsupported_figures():
    support = "Financing over $2,000.00; seniors 10% off; call 250-555-0199; v1.2.3"
    reply = "Over 2000 dollars, 10 % off, call 250 555 0199, v1.2.3 at https://x.example/a/77"
    assert unsupported_figures(reply, support) == []
    assert unsupported_figures("$4,500 or 15% or 1.2.4", support) == ["4,500", "15", "1.2.4"]


def test_the_error_fallback_is_an_error_not_an_abstention():
    real = TurnObservation(FALLBACK)
    assert _check(FALLBACK, abstain=True) == []  # the same words from the model abstain
    fallback = TurnObservation(FALLBACK, fallback=True)
    failures = check_turn(Expect(abstain=True), fallback, knowledge_text=KNOWLEDGE)
    assert _names(failures) == ["error", "abstain"]
    assert failures[0].actual == FALLBACK and "fallback" in failures[0].detail
    assert "neither an answer nor an abstention" in failures[1].detail
    assert _names(check_turn(Expect(), fallback, knowledge_text=KNOWLEDGE)) == ["error"]
    assert check_turn(Expect(), real, knowledge_text=KNOWLEDGE) == []


# --- several expectations at once ---------------------------------------------------


def test_every_broken_expectation_is_reported_once():
    failures = _check(
        "Un nuevo calentador cuesta $4,500.",
        called=["book_appointment"],
        any=["149"],
        all=["149", "cuesta"],
        none=["$"],
        tools=["search_knowledge"],
        no_tools=["book_appointment"],
        sources=["pricing.html"],
        language="en",
        mode="human",
        silent=True,
        abstain=True,
    )
    assert _names(failures) == [
        *("any", "all", "none", "tools", "no_tools", "sources"),
        *("language", "mode", "silent", "abstain"),
    ]


# --- final ----------------------------------------------------------------------------


def test_final_contact_pass():
    final = Final(
        contact={"first_name": "Sam", "email": "sam@patel.example", "phone": "+16045550142"}
    )
    observed = {
        "first_name": "  Sam ",
        "last_name": "Patel",  # keys the suite does not name are not checked
        "email": "Sam@Patel.EXAMPLE",
        "phone": "+1 604-555-0142",
    }
    assert check_final(final, FinalObservation(contact=observed)) == []


def test_final_contact_fail():
    final = Final(contact={"first_name": "Sam", "last_name": "Patel", "phone": "+16045550142"})
    observed = {"first_name": "sam", "phone": "+16045550143"}
    failures = check_final(final, FinalObservation(contact=observed))
    assert [(f.check, f.expected, f.actual) for f in failures] == [
        ("contact.first_name", "Sam", "sam"),
        ("contact.last_name", "Patel", None),
        ("contact.phone", "+16045550142", "+16045550143"),
    ]


def test_final_appointments():
    a, b = datetime(2026, 3, 3, 15, 0), datetime(2026, 3, 5, 10, 0)
    final = Final(appointments=[AppointmentSpec(a), AppointmentSpec(b)])
    assert check_final(final, FinalObservation(appointments=[b, a])) == []
    [failure] = check_final(final, FinalObservation(appointments=[a, b, b]))
    assert failure.check == "appointments"
    assert failure.expected == ["2026-03-03T15:00:00", "2026-03-05T10:00:00"]
    assert failure.actual == ["2026-03-03T15:00:00", "2026-03-05T10:00:00", "2026-03-05T10:00:00"]
    assert _names(check_final(final, FinalObservation(appointments=[a]))) == ["appointments"]
    none = Final(appointments=[])
    assert check_final(none, FinalObservation()) == []
    assert _names(check_final(none, FinalObservation(appointments=[a]))) == ["appointments"]


def test_final_lead_notifications():
    assert check_final(Final(lead_notifications=1), FinalObservation(lead_notifications=1)) == []
    [failure] = check_final(Final(lead_notifications=1), FinalObservation(lead_notifications=2))
    assert (failure.check, failure.expected, failure.actual) == ("lead_notifications", 1, 2)


def test_empty_final_and_expect_check_nothing():
    assert check_final(Final(), FinalObservation()) == []
    assert _check(None) == []
