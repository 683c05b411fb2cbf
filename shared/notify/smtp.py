"""Notify stage: the outgoing mail server, from the settings, and sending one message.

`BEACON_SMTP_URL` (smtp://user:password@host:587, smtps://host:465, ?tls=off) wins over
the host/port/user/password/TLS settings. With STARTTLS the connection is upgraded
before any password is sent, and a server that cannot upgrade is refused.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from shared.core.settings import Settings

TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    user: str = ""
    password: str = ""
    tls: str = "starttls"           # starttls, ssl or off
    sender: str = ""

    @property
    def configured(self) -> bool:
        return bool(self.host)


def _default_port(tls: str) -> int:
    return 465 if tls == "ssl" else 587


def smtp_config(settings: Settings) -> SmtpConfig:
    sender = settings.mail_from or f"beacon@{socket.getfqdn() or 'localhost'}"
    if settings.smtp_url:
        parts = urlsplit(settings.smtp_url)
        query = parse_qs(parts.query)
        tls = "ssl" if parts.scheme == "smtps" else query.get("tls", ["starttls"])[0]
        if tls not in ("starttls", "ssl", "off"):
            raise ValueError("BEACON_SMTP_URL: tls= must be starttls, ssl or off")
        return SmtpConfig(parts.hostname or "", parts.port or _default_port(tls),
                          unquote(parts.username or ""), unquote(parts.password or ""),
                          tls, sender)
    tls = settings.smtp_tls
    return SmtpConfig(settings.smtp_host, settings.smtp_port or _default_port(tls),
                      settings.smtp_user, settings.smtp_password, tls, sender)


class MailError(Exception):
    """A message could not be handed to the mail server; the text says why."""


def send_message(config: SmtpConfig, message: EmailMessage) -> None:
    """Hand `message` to the server; MailError (with the server's reason) otherwise."""
    if not config.configured:
        raise MailError("no mail server configured (set BEACON_SMTP_URL or BEACON_SMTP_HOST)")
    context = ssl.create_default_context()
    try:
        client: smtplib.SMTP
        if config.tls == "ssl":
            client = smtplib.SMTP_SSL(config.host, config.port, timeout=TIMEOUT_SECONDS,
                                      context=context)
        else:
            client = smtplib.SMTP(config.host, config.port, timeout=TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            if config.tls == "starttls":
                client.starttls(context=context)
                client.ehlo()
            if config.user:
                client.login(config.user, config.password)
            refused = client.send_message(message)
        if refused:
            raise MailError(f"the server refused {', '.join(refused)}")
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc
