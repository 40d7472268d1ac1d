"""Delivery backends: SMTP through aiosmtplib, or the console (a log line) when none is set."""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate
from typing import Protocol

import aiosmtplib

log = logging.getLogger("app.email")


class PermanentDeliveryError(Exception):
    """The server refused the message for good (5xx): retrying cannot help."""


class TransientDeliveryError(Exception):
    """The server is down, slow or said 4xx: try again later."""


class EmailBackend(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


def build_message(
    *, sender: str, to: str, subject: str, text: str, html: str | None, message_id: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    # A stable Message-ID lets receivers drop a duplicate if a lease ever lapses mid-send.
    message["Message-ID"] = message_id
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    return message


class ConsoleBackend:
    """Development default: the email goes to the log instead of a mail server."""

    async def send(self, message: EmailMessage) -> None:
        body = message.get_body(("plain",))
        log.info(
            "email (console backend) to=%s subject=%r\n%s",
            message["To"],
            message["Subject"],
            body.get_content() if body else "",
        )


class SMTPBackend:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        username: str | None,
        password: str | None,
        starttls: bool,
        timeout: float = 20.0,
    ) -> None:
        self.host, self.port = host, port
        self.username, self.password = username, password
        self.starttls, self.timeout = starttls, timeout

    async def send(self, message: EmailMessage) -> None:
        try:
            await aiosmtplib.send(
                message,
                hostname=self.host,
                port=self.port,
                username=self.username,
                password=self.password,
                start_tls=self.starttls,
                timeout=self.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [r.code for r in error.recipients]
            if codes and all(500 <= c < 600 for c in codes):
                raise PermanentDeliveryError(str(error)) from error
            raise TransientDeliveryError(str(error)) from error
        except aiosmtplib.SMTPResponseException as error:
            if 500 <= error.code < 600:
                raise PermanentDeliveryError(f"{error.code} {error.message}") from error
            raise TransientDeliveryError(f"{error.code} {error.message}") from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise TransientDeliveryError(f"{type(error).__name__}: {error}") from error


def backend_from_settings(settings) -> EmailBackend:
    if settings.email_backend == "smtp":
        return SMTPBackend(
            host=settings.SMTP_HOST,
            port=settings.SMTP_PORT,
            username=settings.SMTP_USERNAME,
            password=settings.SMTP_PASSWORD,
            starttls=settings.SMTP_STARTTLS,
        )
    return ConsoleBackend()
