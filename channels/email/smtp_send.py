"""Outbound mail over SMTP, with errors sorted into "retry later" and "give up".

The errors are the core's (``agent.core.errors``) so the deliver job needs no SMTP
knowledge; they also carry the SMTP ``code`` and a ``transient`` flag.

Configured by ``FRONTDESK_SMTP_URL`` exactly as the notifier reads it (``agent.mail``):
``smtp://user:password@host:587`` uses STARTTLS when offered, ``smtps://…:465`` is TLS
from the start, no user means no login; the URL and the client session are
``agent.mail``'s, shared with the notifier. The deliver job retries ``TransientSendError``
with backoff and marks the message failed, with the server's reason, on
``PermanentSendError``.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage

from agent.core import errors
from agent.core.errors import SendError
from agent.mail import SmtpUrl, smtp_session

__all__ = ["PermanentSendError", "SendError", "SmtpMailSender", "SmtpUrl", "TransientSendError"]
_ACCOUNT_CODES = {530, 534, 535, 538}  # authentication required / refused: fix the settings


class TransientSendError(errors.TransientSendError):
    """Try again later: the relay is down, slow, or answered 4xx (``code``)."""

    transient = True

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.code = code


class PermanentSendError(errors.PermanentSendError):
    """Retrying will not help: the relay answered 5xx; ``reason`` is its reply, code first."""

    transient = False

    def __init__(
        self, reason: str, code: int | None = None, *, account_problem: bool = False
    ) -> None:
        super().__init__(reason, account_problem=account_problem)
        self.code = code


class SmtpMailSender:
    """Sends one ``EmailMessage`` per connection through the configured relay."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 30,
        local_hostname: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.target = SmtpUrl.parse(url)
        self._timeout = timeout
        self._local_hostname = local_hostname
        self._context = ssl_context

    def send(
        self,
        message: EmailMessage,
        *,
        envelope_from: str | None = None,
        recipients: Sequence[str] | None = None,
    ) -> None:
        """Hand the message to the relay, or raise Transient/PermanentSendError.

        ``envelope_from`` (MAIL FROM) should be the workspace's inbound address so that
        bounces come back to our SMTP server; it defaults to the From header.
        """
        try:
            refused = self._send(message, envelope_from, recipients)
        except SendError:
            raise
        except smtplib.SMTPRecipientsRefused as error:
            raise _from_refused(error.recipients) from error
        except smtplib.SMTPResponseException as error:
            raise _from_code(error.smtp_code, error.smtp_error) from error
        except ssl.SSLCertVerificationError as error:
            reason = f"the relay's TLS certificate was refused: {error}"
            raise PermanentSendError(reason, account_problem=True) from error
        except smtplib.SMTPNotSupportedError as error:
            raise PermanentSendError(f"the relay does not support this: {error}") from error
        except (smtplib.SMTPException, OSError) as error:  # refused, timeout, dropped, TLS
            raise TransientSendError(_describe(error)) from error
        if refused:  # some recipients took it; report the others
            raise _from_refused(refused)

    def _send(
        self,
        message: EmailMessage,
        envelope_from: str | None,
        recipients: Sequence[str] | None,
    ) -> dict:
        session = smtp_session(
            self.target,
            timeout=self._timeout,
            local_hostname=self._local_hostname,
            context=self._context,
        )
        with session as client:
            return client.send_message(
                message, from_addr=envelope_from, to_addrs=list(recipients) if recipients else None
            )


def _from_code(code: int, reply: bytes | str, prefix: str = "") -> SendError:
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = f"{prefix}{code} {' '.join(text.split()) or 'no reason given'}"
    if 500 <= code < 600:
        return PermanentSendError(reason, code, account_problem=code in _ACCOUNT_CODES)
    return TransientSendError(reason, code)


def _from_refused(refused: dict) -> SendError:
    """All refused recipients 5xx → permanent; any 4xx (greylisting) → transient."""
    found = [_from_code(code, reply, f"{rcpt}: ") for rcpt, (code, reply) in refused.items()]
    transient = [e for e in found if isinstance(e, TransientSendError)]
    chosen = transient[0] if transient else found[0]
    reason = "; ".join(e.reason for e in found)
    if isinstance(chosen, TransientSendError):
        return TransientSendError(reason, chosen.code)
    return PermanentSendError(reason, chosen.code)


def _describe(error: BaseException) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "the mail relay refused the connection (is it running?)"
    if isinstance(error, TimeoutError) or "timed out" in str(error):
        return "the mail relay did not answer in time (timed out)"
    if isinstance(error, smtplib.SMTPServerDisconnected):
        return f"the mail relay closed the connection: {error}"
    return f"{type(error).__name__}: {error}"
