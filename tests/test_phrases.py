"""The offline receptionist's phrase tables: complete, consistent, and native dates."""

from __future__ import annotations

import string
from datetime import datetime

import pytest

from agent.local.nlu import LANGUAGES
from agent.local.phrases import MONTHS, PHRASES, WEEKDAYS, join, say, weekday_name, when_text

OTHERS = [lang for lang in LANGUAGES if lang != "en"]
# Thursday 19 November 2026, 10:00.
THURSDAY = datetime(2026, 11, 19, 10, 0)


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_every_key(lang):
    expected = set(PHRASES["en"]) | ({"answer_intro"} if lang != "en" else set())
    assert set(PHRASES[lang]) == expected


def test_english_quotes_answers_without_an_intro():
    assert "answer_intro" not in PHRASES["en"]


@pytest.mark.parametrize("lang", OTHERS)
def test_placeholders_match_english(lang):
    for key, english in PHRASES["en"].items():
        assert fields(PHRASES[lang][key]) == fields(english), (lang, key)
    assert fields(PHRASES[lang]["answer_intro"]) == set()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_phrase_formats(lang):
    values = {name: f"<{name}>" for text in PHRASES["en"].values() for name in fields(text)}
    for key in PHRASES[lang]:
        text = say(lang, key, **values)
        assert text.strip() and "{" not in text and "}" not in text, (lang, key)


@pytest.mark.parametrize("lang", OTHERS)
def test_calendar_names(lang):
    assert len(WEEKDAYS[lang]) == 7 and len(set(WEEKDAYS[lang])) == 7
    assert len(MONTHS[lang]) == 12 and len(set(MONTHS[lang])) == 12


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Thursday, November 19 at 10:00 am"),
        ("es", "jueves 19 de noviembre a las 10:00"),
        ("fr", "jeudi 19 novembre à 10:00"),
        ("de", "Donnerstag, 19. November um 10:00"),
        ("pt", "quinta-feira, 19 de novembro às 10:00"),
        ("it", "giovedì 19 novembre alle 10:00"),
        ("nl", "donderdag 19 november om 10:00"),
    ],
)
def test_when_text(lang, expected):
    assert when_text(THURSDAY, lang) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "Sunday, March 1 at 3:30 pm"),
        ("es", "domingo 1 de marzo a las 15:30"),
        ("de", "Sonntag, 1. März um 15:30"),
        ("pt", "domingo, 1 de março às 15:30"),
        ("it", "domenica 1 marzo alle 15:30"),
        ("nl", "zondag 1 maart om 15:30"),
    ],
)
def test_when_text_other_day(lang, expected):
    assert when_text(datetime(2026, 3, 1, 15, 30), lang) == expected


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("es", "lunes 2 de febrero a la 01:00"),
        ("pt", "segunda-feira, 2 de fevereiro à 01:00"),
        ("it", "lunedì 2 febbraio all'01:00"),
        ("de", "Montag, 2. Februar um 01:00"),
    ],
)
def test_one_oclock_is_singular(lang, expected):
    assert when_text(datetime(2026, 2, 2, 1, 0), lang) == expected


def test_unknown_language_falls_back_to_english():
    assert when_text(THURSDAY, "xx") == when_text(THURSDAY, "en")
    assert say("xx", "greeting") == say("en", "greeting")


@pytest.mark.parametrize(
    ("lang", "word"),
    {"en": "and", "es": "y", "fr": "et", "de": "und", "pt": "e", "it": "e", "nl": "en"}.items(),
)
def test_join_uses_the_languages_and(lang, word):
    assert join(["a", "b", "c"], lang) == f"a, b {word} c"
    assert join(["a", "b"], lang) == f"a {word} b"
    assert join(["a"], lang) == "a"
    assert join([], lang) == ""


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("de", "Leider haben wir am Sonntag geschlossen."),
        ("pt", "Desculpe, estamos fechados nesse dia (domingo)."),
        ("it", "Mi dispiace, di domenica siamo chiusi."),
        ("nl", "Helaas zijn wij op zondag gesloten."),
    ],
)
def test_closed_day_reads_with_a_weekday(lang, expected):
    sunday = datetime(2026, 11, 22, 12, 0)
    assert say(lang, "closed_day", weekday=weekday_name(sunday, lang)) == expected
