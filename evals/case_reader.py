"""Reads a suite's ``cases``: turns, per-turn expectations and the expected final state."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

import phonenumbers
from yaml.nodes import Node

from evals.spec import (
    CHANNELS,
    CONTACT_KEYS,
    LANGUAGES,
    AppointmentSpec,
    Case,
    Expect,
    Final,
    ReleaseTurn,
    StaffTurn,
    Turn,
    UserTurn,
)
from evals.strict_yaml import NodeReader, node_line

_LIST_KEYS = ("any", "all", "none", "tools", "no_tools", "sources")


class CaseReader(NodeReader):
    """One case at a time; times are read in the workspace timezone, phones in its country."""

    def case(self, node: Node, tz: ZoneInfo, country: str) -> Case:
        keys = ("id", "tags", "channel", "turns", "final")
        m = self.mapping(node, "case", keys, ("id", "turns"))
        turns = [self.turn(t) for t in self.items(m["turns"], "turns")]
        if not turns:
            self.fail(m["turns"], "turns", "must list at least one turn")
        return Case(
            id=self.text(m["id"], "id"),
            tags=self.texts(m["tags"], "tags") if "tags" in m else [],
            channel=self.text(m["channel"], "channel", choices=CHANNELS)
            if "channel" in m
            else "webchat",
            turns=turns,
            final=self.final(m["final"], tz, country) if "final" in m else None,
            line=node_line(node),
        )

    def turn(self, node: Node) -> Turn:
        m = self.mapping(node, "turn", ("user", "staff", "release", "expect"))
        kinds = [k for k in ("user", "staff", "release") if k in m]
        if not kinds:
            self.fail(node, "user", "is missing: a turn needs one of user, staff, release")
        if len(kinds) > 1:
            self.fail(m[kinds[1]], kinds[1], f"cannot be combined with '{kinds[0]}' in one turn")
        if "expect" in m and kinds[0] != "user":
            self.fail(m["expect"], "expect", f"is only allowed on a user turn, not {kinds[0]}")
        if kinds[0] == "release":
            if not self.boolean(m["release"], "release"):
                self.fail(m["release"], "release", "must be true (leave the turn out otherwise)")
            return ReleaseTurn(line=node_line(node))
        text = self.text(m[kinds[0]], kinds[0])
        if kinds[0] == "staff":
            return StaffTurn(text, line=node_line(node))
        return UserTurn(text, self.expect(m["expect"]) if "expect" in m else None, node_line(node))

    def expect(self, node: Node) -> Expect:
        keys = (*_LIST_KEYS, "language", "mode", "silent", "abstain")
        m = self.mapping(node, "expect", keys)
        kw: dict[str, object] = {
            k: self.texts(m[k], k, non_empty=k in ("any", "sources")) for k in _LIST_KEYS if k in m
        }
        if "language" in m:
            kw["language"] = lang = self.text(m["language"], "language").lower()
            if not re.fullmatch(r"[a-z]{2}", lang):
                self.fail(m["language"], "language", f"must be an ISO 639-1 code, got {lang!r}")
            if lang not in LANGUAGES:
                self.fail(m["language"], "language", f"{lang!r} cannot be detected; use one of "
                          f"{', '.join(LANGUAGES)}")  # fmt: skip
        if "mode" in m:
            kw["mode"] = self.text(m["mode"], "mode", choices=("ai", "human"))
        for key in ("silent", "abstain"):
            if key in m:
                kw[key] = self.boolean(m[key], key)
        return Expect(**kw)  # type: ignore[arg-type]

    def final(self, node: Node, tz: ZoneInfo, country: str) -> Final:
        m = self.mapping(node, "final", ("contact", "appointments", "lead_notifications"))
        contact = None
        if "contact" in m:
            contact = {}
            for key, value in self.mapping(m["contact"], "contact", CONTACT_KEYS).items():
                contact[key] = self.text(value, key).strip()
                if key == "email" and not re.fullmatch(r"[^@\s]+@[^@\s]+", contact[key]):
                    self.fail(value, key, f"is not an e-mail address: {contact[key]!r}")
                if key == "phone":
                    contact[key] = self.phone(value, contact[key], country)
        appointments = None
        if "appointments" in m:
            appointments = []
            for item in self.items(m["appointments"], "appointments"):
                start = self.mapping(item, "appointments", ("start",), ("start",))["start"]
                appointments.append(AppointmentSpec(self.local_time(start, "start", tz)))
        leads = None
        if "lead_notifications" in m:
            leads = self.integer(m["lead_notifications"], "lead_notifications", 0, 1000)
        return Final(contact, appointments, leads)

    def phone(self, node: Node, raw: str, country: str) -> str:
        """Expected phones become E.164, read with the workspace country as default region."""
        try:
            number = phonenumbers.parse(raw, country)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_possible_number(number):
            self.fail(node, "phone", f"is not a phone number: {raw!r}")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
