"""Credentials sealed at rest: Fernet (AES-128-CBC + HMAC-SHA256) with a key derived from
the app's secret key, so a copy of the database alone reveals no provider secret.

The key is derived with HKDF under its own label, so it is never the session-signing key
itself; changing ``FRONTDESK_SECRET_KEY`` makes stored credentials unreadable (reconnect
the channels then).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from agent.core.errors import FrontdeskError

_LABEL = b"frontdesk channel credentials v1"


class SealingError(FrontdeskError):
    """A sealed value could not be opened (another secret key, or tampered with)."""


def derive_secret(secret_key: str, label: bytes) -> bytes:
    """32 bytes for one purpose (``label``), derived from the app's secret key with HKDF:
    keys for different purposes never equal each other nor the secret key itself."""
    if not secret_key:
        raise SealingError("no secret key configured: no key can be derived")
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label)
    return hkdf.derive(secret_key.encode("utf-8"))


def derive_key(secret_key: str) -> bytes:
    """The Fernet key for channel credentials."""
    return base64.urlsafe_b64encode(derive_secret(secret_key, _LABEL))


class FernetBox:
    """The ``SecretBox`` port over Fernet."""

    def __init__(self, secret_key: str) -> None:
        self._fernet = Fernet(derive_key(secret_key))

    def seal(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError):
            raise SealingError(
                "stored credentials cannot be opened (was the secret key changed?): "
                "connect the channel again"
            ) from None
