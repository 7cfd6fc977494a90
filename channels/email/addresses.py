"""Inbound addresses, per-conversation reply addresses and our Message-IDs, in one place.

A workspace receives mail at ``<local>@<domain>``. Replies we send carry
``<local>+c<conversation>-<signature>@<domain>`` in Reply-To, and Message-IDs of the form
``<fd.c<conversation>-<signature>.<random>@<domain>>``, so a customer's answer finds its
conversation even when their client drops Reply-To. The signature is an HMAC of the
inbound local part and the conversation id: tokens cannot be guessed, nor moved to
another workspace. Everything is lower case, because some mail systems fold local parts.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass

SIGNATURE_LENGTH = 10  # base32 characters: 50 bits
_SIG = f"([a-z2-7]{{{SIGNATURE_LENGTH}}})"
_TAG = re.compile(rf"^c(\d{{1,18}})-{_SIG}$")
_MESSAGE_ID = re.compile(rf"^<?fd\.c(\d{{1,18}})-{_SIG}\.[a-z0-9]+@([^<>@\s]+)>?$")


@dataclass(frozen=True)
class Recipient:
    """Where an inbound mail was addressed: the workspace's inbound address, and the
    conversation when the address carried a valid token (``None`` when absent or forged)."""

    inbound_address: str
    conversation_id: int | None
    tag: str | None  # the raw +tag, for logging a forged or foreign one


def _key(key: bytes | str) -> bytes:
    return key.encode("utf-8") if isinstance(key, str) else key


def _signature(key: bytes | str, local: str, conversation_id: int) -> str:
    digest = hmac.new(_key(key), f"{local.lower()}:{conversation_id}".encode(), hashlib.sha256)
    return base64.b32encode(digest.digest()).decode("ascii").lower()[:SIGNATURE_LENGTH]


def split_address(address: str) -> tuple[str, str]:
    """``("Local", "domain")`` of a bare address; ValueError when it has no single ``@``."""
    address = address.strip().strip("<>")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or "@" in local:
        raise ValueError(f"{address!r} is not an email address")
    return local, domain.lower()


def base_address(address: str) -> str:
    """The address without its ``+tag``, lower-cased: what a workspace is known by."""
    local, domain = split_address(address)
    return f"{local.split('+', 1)[0].lower()}@{domain}"


def new_inbound_local(name: str, *, suffix: str | None = None) -> str:
    """A fresh inbound local part from a business name (``bayview-plumbing-k3x9qa``).

    The random suffix keeps inbound addresses from being guessed from the business name.
    """
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:30].strip("-") or "desk"
    tail = suffix or base64.b32encode(secrets.token_bytes(5)).decode("ascii").lower()[:6]
    return f"{slug}-{tail}"


def reply_address(inbound_address: str, conversation_id: int, key: bytes | str) -> str:
    """The Reply-To address that routes a customer's answer back to ``conversation_id``."""
    local, domain = split_address(base_address(inbound_address))
    return f"{local}+c{conversation_id}-{_signature(key, local, conversation_id)}@{domain}"


def parse_recipient(address: str, key: bytes | str) -> Recipient:
    """Read an envelope recipient: its inbound address and the conversation its token names."""
    local, domain = split_address(address)
    base, _, tag = local.lower().partition("+")
    inbound = f"{base}@{domain}"
    if not tag:
        return Recipient(inbound, None, None)
    match = _TAG.match(tag)
    if match and hmac.compare_digest(match[2], _signature(key, base, int(match[1]))):
        return Recipient(inbound, int(match[1]), tag)
    return Recipient(inbound, None, tag)


def message_id(
    inbound_address: str, conversation_id: int, key: bytes | str, *, unique: str | None = None
) -> str:
    """A Message-ID on our domain that names its conversation (signed, like Reply-To)."""
    local, domain = split_address(base_address(inbound_address))
    unique = unique or secrets.token_hex(8)
    return f"<fd.c{conversation_id}-{_signature(key, local, conversation_id)}.{unique}@{domain}>"


def conversation_from_message_ids(
    ids: list[str] | tuple[str, ...], inbound_address: str, key: bytes | str
) -> int | None:
    """The conversation named by the newest of our own Message-IDs in In-Reply-To/References."""
    local, domain = split_address(base_address(inbound_address))
    for candidate in reversed(ids):
        match = _MESSAGE_ID.match(candidate.strip().lower())
        if not match or match[3] != domain:
            continue
        conversation_id = int(match[1])
        if hmac.compare_digest(match[2], _signature(key, local, conversation_id)):
            return conversation_id
    return None
