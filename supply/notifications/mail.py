"""E-mail through the configured SMTP server (standard library `smtplib`), tried again on a
transient failure (tenacity: three tries, 1 s then 2 s apart).

Off unless `GRIDSUPPLY_SMTP_HOST` is set. STARTTLS (the default, port 587), implicit TLS (`ssl`,
port 465) or none (a relay on the same host); login when `GRIDSUPPLY_SMTP_USER` is set.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from tenacity import (
    before_sleep_log,
    retry,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from supply.core.settings import Settings

logger = logging.getLogger(__name__)

# Worth another try: the server is busy, the connection dropped, a 4xx answer. A refused
# recipient or login (5xx) would fail the same way again.
TRANSIENT = (
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    ConnectionError,
    TimeoutError,
)


class MailFailed(Exception):
    """A message could not be sent; the message says why (no password in it)."""


@dataclass(frozen=True)
class Mail:
    """One message to one person."""

    to: str
    subject: str
    body: str


def mail_enabled(settings: Settings) -> bool:
    """Whether reminders are e-mailed: an SMTP host is configured."""
    return bool(settings.smtp_host.strip())


def build_message(mail: Mail, *, sender: str) -> EmailMessage:
    """The message as sent: UTF-8 text, Chinese subject and body."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "gridsupply")
    message.set_content(mail.body)
    return message


def _is_transient(error: BaseException) -> bool:
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, TRANSIENT)


@retry(
    retry=retry_if_exception(_is_transient),
    stop=stop_after_attempt(3),
    wait=wait_exponential(multiplier=1, max=4),
    before_sleep=before_sleep_log(logger, logging.WARNING),
    reraise=True,
)
def _send_once(messages: list[EmailMessage], settings: Settings) -> None:
    host, port, timeout = settings.smtp_host.strip(), settings.smtp_port, settings.smtp_timeout_s
    smtp: smtplib.SMTP
    if settings.smtp_security == "ssl":
        smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        for message in messages:
            smtp.send_message(message)


def send_mail(mails: list[Mail], *, settings: Settings) -> None:
    """Send the messages over one connection; MailFailed (saying why) when they cannot be.

    A transient failure is tried again (three tries in all); a permanent one (a 5xx answer, a
    refused login) is not. Either way none or some may have been sent: the caller records which
    notifications were e-mailed only when this returns."""
    if not mails:
        return
    messages = [build_message(m, sender=settings.smtp_from) for m in mails]
    try:
        _send_once(messages, settings)
    except smtplib.SMTPResponseException as exc:
        error = exc.smtp_error
        reason = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
        kind = "temporary" if _is_transient(exc) else "refused"
        raise MailFailed(f"SMTP {exc.smtp_code} ({kind}): {reason}"[:500]) from None
    except (smtplib.SMTPException, OSError) as exc:
        raise MailFailed(
            f"SMTP {settings.smtp_host}:{settings.smtp_port}: {type(exc).__name__}: {exc}"[:500]
        ) from None
