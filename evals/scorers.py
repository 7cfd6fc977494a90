"""Pure checks of one eval turn and of a case's final state; no I/O, no clock.

Kept apart from the runner so the rules are testable with crafted observations and a
suite author can read exactly what each expectation means (evals/README.md says the same):

* text is compared after NFKC, casefold, curly quotes made straight and whitespace runs
  collapsed; a silent turn's reply is "";
* any / all / none: substring checks on the reply; an expected string that starts (ends)
  with a digit matches only where the reply has no further digit before (after) it, so
  "9" is not found in "250-555-0199" nor "$50" in "$500";
* tools: every listed tool was called by the model this turn (the graph's own retrieval
  before the model is not a call); no_tools: none of them was;
* an error fallback reply (the agent failed) is an "error" failure of the turn, and
  neither an answer nor an abstention;
* sources: some citation (a passage the reply quoted or cited, not merely one retrieved)
  has a uri (query and fragment dropped; ".../" also ends in "index.html"), URL path,
  source, or source file name that ends with one of the strings (compared percent-decoded
  and case-insensitively);
* language: lingua (model shipped in the wheel) restricted to suite.LANGUAGES, run on the
  reply minus URLs, e-mail addresses and numbers; no letters left means no language;
* mode: equal; silent: true means no reply or a blank one, false a non-blank reply;
* abstain true: the reply is non-blank, contains a phrase from ABSTAIN_PHRASES (whole
  words), and every figure in it (number, amount, percentage) has a value that
  ``knowledge_text`` or ``user_text`` also states ("$2,000" == "2000"; see
  figure_values); abstain false: the reply is non-blank and contains none of the phrases;
* final: each contact key given must equal the observed one after trimming (e-mail
  lower-cased, phone compared as E.164); appointments: exactly these starts, order-free;
  lead_notifications: equal.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import phonenumbers

from evals.spec import LANGUAGES

if TYPE_CHECKING:
    from lingua import LanguageDetector

    from evals.spec import Expect, Final

# Saying "I don't know" or offering a person / follow-up. Whole-word matches, so bare words
# such as "team" or "someone" are left out: real answers say "our team installs ...".
ABSTAIN_PHRASES = (
    # en
    *("not sure", "don't know", "do not know", "can't find", "cannot find", "couldn't find"),
    *("could not find", "unable to find", "no information", "don't have information"),
    *("don't have that information", "don't have any information", "do not have information"),
    *("don't have details", "not able to answer", "can't answer", "cannot answer"),
    *("can only help", "can't help with", "cannot help with", "unable to help"),
    *("not able to help", "pass your question", "pass this on", "pass it on", "pass that on"),
    *("pass it along", "pass along", "forward your question", "check with our team"),
    *("check with the team", "ask our team", "ask the team", "contact our team"),
    *("reach our team", "team member", "member of our team", "staff member", "someone from"),
    *("someone on our team", "someone will", "a person", "real person", "human"),
    *("follow up", "follow-up", "get back to you", "reach out to you", "contact you"),
    *("call you back", "connect you", "put you in touch"),
    # es
    *("no estoy seguro", "no estoy segura", "no sé", "no lo sé", "no tengo información"),
    *("no tengo esa información", "no encuentro", "no pude encontrar", "pasar su pregunta"),
    *("pasaré su pregunta", "trasladar su pregunta", "consultar con el equipo"),
    *("alguien de nuestro equipo", "alguien del equipo", "una persona", "un humano"),
    *("se pondrá en contacto", "nos pondremos en contacto", "le contactará"),
    *("te contactará", "le responderá", "hacer seguimiento"),
    # fr
    *("je ne suis pas sûr", "je ne suis pas sûre", "je ne sais pas", "aucune information"),
    *("je n'ai pas d'information", "je n'ai pas cette information", "je ne trouve pas"),
    *("transmettre votre question", "transmettre votre demande", "quelqu'un de notre équipe"),
    *("un membre de notre équipe", "une personne", "un humain", "vous recontacter"),
    *("reviendra vers vous", "revenir vers vous", "faire un suivi"),
    # de
    *("nicht sicher", "weiß ich nicht", "ich weiß nicht", "keine information"),
    *("keine informationen", "nicht finden", "ihre frage weiter", "weiterleiten"),
    *("jemand aus unserem team", "ein mitarbeiter", "eine mitarbeiterin", "eine person"),
    *("einen menschen", "ein mensch", "bei ihnen melden", "meldet sich", "zurückrufen"),
    # pt
    *("não tenho certeza", "não sei", "não tenho informação", "não tenho essa informação"),
    *("nenhuma informação", "não encontro", "não consegui encontrar", "passar sua pergunta"),
    *("encaminhar sua pergunta", "encaminhar a sua pergunta", "alguém da nossa equipe"),
    *("alguém da nossa equipa", "uma pessoa", "um humano", "um atendente"),
    *("entrará em contato", "entraremos em contato", "retornaremos", "dar retorno"),
)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "\u201c": '"', "\u201d": '"'})
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUMBER = re.compile(r"[0-9]+(?:[.,][0-9]+)*")


@dataclass(frozen=True)
class Failure:
    check: str  # the expectation key, or "contact.<field>" for final contact checks
    expected: Any
    actual: Any
    detail: str = ""  # why, when expected/actual alone do not say


@dataclass(frozen=True)
class TurnObservation:
    reply: str | None  # None when the agent sent nothing
    tools: list[str] = field(default_factory=list)  # called by the model, in order
    citations: list[dict] = field(default_factory=list)  # each {"source": ..., "uri": ...}
    mode: str = "ai"
    retrieved: bool = False  # the graph searched the knowledge before the model ran
    fallback: bool = False  # the reply is the agent's error fallback, not the model's


@dataclass(frozen=True)
class FinalObservation:
    contact: dict[str, str] = field(default_factory=dict)
    appointments: list[datetime] = field(default_factory=list)  # naive, workspace-local
    lead_notifications: int = 0


def normalize(text: str) -> str:
    """The form every text comparison uses, so a curly apostrophe matches a straight one."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return " ".join(text.split())


_ABSTAIN = re.compile(
    r"(?<!\w)(?:" + "|".join(re.escape(normalize(p)) for p in ABSTAIN_PHRASES) + r")(?!\w)"
)


def check_turn(
    expect: Expect, obs: TurnObservation, *, knowledge_text: str, user_text: str = ""
) -> list[Failure]:
    """Every expectation of ``expect`` that ``obs`` breaks; [] when the turn passes."""
    reply = obs.reply or ""
    text = normalize(reply)
    out: list[Failure] = []
    if obs.fallback:
        out.append(Failure("error", None, reply, "the agent failed and sent its fallback reply"))
    if expect.any is not None and not any(contains(text, s) for s in expect.any):
        out.append(Failure("any", expect.any, reply))
    if expect.all is not None and (missing := [s for s in expect.all if not contains(text, s)]):
        out.append(Failure("all", expect.all, reply, f"missing: {', '.join(missing)}"))
    if expect.none is not None and (found := [s for s in expect.none if contains(text, s)]):
        out.append(Failure("none", expect.none, reply, f"found: {', '.join(found)}"))
    if expect.tools is not None and (missing := [t for t in expect.tools if t not in obs.tools]):
        out.append(Failure("tools", expect.tools, list(obs.tools), f"not called: {missing}"))
    if expect.no_tools is not None and (called := [t for t in expect.no_tools if t in obs.tools]):
        out.append(Failure("no_tools", expect.no_tools, list(obs.tools), f"called: {called}"))
    if expect.sources is not None and not sources_met(expect.sources, obs.citations):
        cited = [c.get("uri") or c.get("source") for c in obs.citations]
        out.append(Failure("sources", expect.sources, cited))
    if expect.language is not None and (lang := detect_language(reply)) != expect.language:
        out.append(Failure("language", expect.language, lang, reply))
    if expect.mode is not None and obs.mode != expect.mode:
        out.append(Failure("mode", expect.mode, obs.mode))
    if expect.silent is not None and (not text) != expect.silent:
        out.append(Failure("silent", expect.silent, obs.reply))
    if expect.abstain is not None:
        why = (
            "the error fallback is neither an answer nor an abstention"
            if obs.fallback
            else abstain_problem(reply, expect.abstain, knowledge_text + "\n" + user_text)
        )
        if why:
            out.append(Failure("abstain", expect.abstain, reply, why))
    return out


def contains(text: str, expected: str) -> bool:
    """``expected`` occurs in the normalized ``text``; when it starts (ends) with a digit,
    only where no further digit comes right before (after) it."""
    want = normalize(expected)
    start = text.find(want)
    while start >= 0:
        end = start + len(want)
        digit_before = want[:1].isdigit() and start > 0 and text[start - 1].isdigit()
        digit_after = want[-1:].isdigit() and end < len(text) and text[end].isdigit()
        if not (digit_before or digit_after):
            return True
        start = text.find(want, start + 1)
    return False


def sources_met(wanted: list[str], citations: list[dict]) -> bool:
    """True when a citation's uri, URL path, source or file name ends with a wanted string."""
    names: list[str] = []
    for citation in citations:
        uri, source = str(citation.get("uri") or ""), str(citation.get("source") or "")
        for raw in (uri, source):
            parts = urlsplit(raw)
            path = parts.path or ("/" if parts.netloc else "")
            names += [raw.split("?")[0].split("#")[0], path, re.split(r"[\\/]", path)[-1]]
    keys = {normalize(unquote(n)) for n in names if n}
    keys |= {k + "index.html" for k in keys if k.endswith("/")}
    ends = {normalize(unquote(w.split("?")[0].split("#")[0])) for w in wanted}
    return any(k.endswith(e) for k in keys for e in ends if e)


@functools.cache
def _detector() -> LanguageDetector:
    """Built once: loading the models is the slow part; the set is fixed for determinism."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    langs = [Language.from_iso_code_639_1(IsoCode639_1.from_str(code)) for code in LANGUAGES]
    return LanguageDetectorBuilder.from_languages(*langs).build()


def detect_language(reply: str) -> str | None:
    """ISO 639-1 code of the reply's language, or None when it has no words to judge."""
    text = _NUMBER.sub(" ", _EMAIL.sub(" ", _URL.sub(" ", reply)))
    if not any(ch.isalpha() for ch in text):
        return None
    found = _detector().detect_language_of(text)
    return found.iso_code_639_1.name.lower() if found else None


def is_abstention(reply: str) -> bool:
    """The reply says it does not know, declines, or offers a person / a follow-up."""
    return bool(_ABSTAIN.search(normalize(reply)))


def figure_values(token: str) -> set[Decimal]:
    """The value a written number means, or set() when unclear ("1.2.3", "3.4.2026").

    A separator before exactly three digits groups thousands ("2,000" and "2.000" are
    2000); otherwise the last separator is the decimal point ("2.5", "1.234,56").
    """
    parts = re.split(r"[.,]", token)
    seps = re.findall(r"[.,]", token)
    if not seps:
        return {Decimal(token)}
    if len(set(seps)) == 1 and len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:]):
        return {Decimal("".join(parts))}
    grouped = len(parts[0]) <= 3 and all(len(p) == 3 for p in parts[1:-1])
    if len(seps) == 1 or (grouped and len(set(seps)) == 2 and seps.count(seps[-1]) == 1):
        return {Decimal("".join(parts[:-1]) + "." + parts[-1])}
    return set()


def unsupported_figures(reply: str, support: str) -> list[str]:
    """Numbers in the reply (URLs and e-mails aside) that ``support`` never states."""
    known: set[Decimal] = set()
    for token in _NUMBER.findall(support):
        known |= figure_values(token) or {Decimal(p) for p in re.split(r"[.,]", token)}
    missing = []
    for token in _NUMBER.findall(_EMAIL.sub(" ", _URL.sub(" ", reply))):
        values = figure_values(token)
        if values and not values & known:
            missing.append(token)
        elif not values and any(Decimal(p) not in known for p in re.split(r"[.,]", token)):
            missing.append(token)  # "1.2.3", a date "3.4.2026": every part must be known
    return missing


def abstain_problem(reply: str, want: bool, support: str) -> str:
    """Why the reply does not meet ``abstain: want``; "" when it does."""
    if not reply.strip():
        return "no reply"
    if want != is_abstention(reply):
        return "no 'not sure' / hand-off phrase" if want else "says it does not know"
    if want and (figures := unsupported_figures(reply, support)):
        return f"states figures the knowledge does not: {', '.join(figures)}"
    return ""


def _contact_value(key: str, value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if key == "email":
        return text.lower()
    if key == "phone" and text.startswith("+"):
        try:
            number = phonenumbers.parse(text, None)
        except phonenumbers.NumberParseException:
            return text
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return text


def check_final(final: Final, obs: FinalObservation) -> list[Failure]:
    """Every part of a case's ``final`` block the observed end state breaks."""
    out: list[Failure] = []
    for key, want in (final.contact or {}).items():
        got = (obs.contact or {}).get(key)
        if _contact_value(key, got) != _contact_value(key, want):
            out.append(Failure(f"contact.{key}", want, got))
    if final.appointments is not None:
        want_starts = [a.start for a in final.appointments]
        if Counter(want_starts) != Counter(obs.appointments):
            iso = [d.isoformat() for d in sorted(want_starts)]
            got_iso = sorted(d.isoformat() for d in obs.appointments)
            out.append(Failure("appointments", iso, got_iso))
    if final.lead_notifications is not None and obs.lead_notifications != final.lead_notifications:
        out.append(Failure("lead_notifications", final.lead_notifications, obs.lead_notifications))
    return out
