"""Email through SMTP (the notifier's transport), configured by FRONTDESK_SMTP_URL.

``smtp://user:password@host:587`` uses STARTTLS when the server offers it;
``smtps://…:465`` is TLS from the start; no user means no login.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

from agent.core.errors import ValidationError


class SmtpSender:
    def __init__(self, url: str, sender: str, *, timeout: float = 15) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValidationError("FRONTDESK_SMTP_URL", f"{url!r} is not smtp://host:port")
        self._tls = parts.scheme == "smtps"
        self._host = parts.hostname
        self._port = parts.port or (465 if self._tls else 25)
        self._user = unquote(parts.username or "")
        self._password = unquote(parts.password or "")
        self._sender = sender
        self._timeout = timeout

    def send(self, to: Sequence[str], subject: str, body: str) -> None:
        message = EmailMessage()
        message["From"] = self._sender
        message["To"] = ", ".join(to)
        message["Subject"] = subject
        message.set_content(body)
        context = ssl.create_default_context()
        if self._tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self._host, self._port, timeout=self._timeout, context=context
            )
        else:
            client = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        with client:
            client.ehlo()
            if not self._tls and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
            if self._user:
                client.login(self._user, self._password)
            client.send_message(message)
