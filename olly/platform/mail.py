"""E-mail: the password-reset link, sent over SMTP from a thread of its own.

``OLLY_SMTP_HOST`` turns it on. A reset request is answered at once, the same way whether or not
the address is known: the message is queued after the request's transaction commits, and a sender
thread reads the account's address (sealed in the database), writes the message and hands it to the
SMTP server. The mail server's delay thus never shows in the answer (only the reset token's insert
sets a known address apart, as it does for the JSON API), and a slow or unreachable mail server
delays no one. A message that cannot be sent is logged without its
address or link and dropped: the person asks again. Queued messages are not kept across a restart.

The message carries a link to the portal's reset page (``OLLY_PUBLIC_URL/signin/reset?token=…``)
and when it stops working; nothing else about the person or their cover.
"""

from __future__ import annotations

import queue
import smtplib
import ssl
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Final
from urllib.parse import quote

from olly.config import Settings
from olly.platform.logging import get_logger

log = get_logger("olly.mail")

#: Messages waiting for the sender thread; more are dropped (and logged) rather than held.
QUEUE_LIMIT: Final = 1000
SMTP_TIMEOUT_SECONDS: Final = 20.0
RESET_PATH: Final = "/signin/reset"


@dataclass(frozen=True, slots=True)
class ResetLink:
    tenant_id: uuid.UUID
    account_id: uuid.UUID
    token: str
    expires_at: datetime


def reset_url(public_url: str, token: str) -> str:
    return f"{public_url.rstrip('/')}{RESET_PATH}?token={quote(token, safe='')}"


def reset_message(settings: Settings, to: str, token: str, expires_at: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = "Reset your Olly password"
    message["Message-ID"] = make_msgid(domain="olly.invalid")
    until = expires_at.strftime("%H:%M UTC on %d %B %Y")
    message.set_content(
        "Someone asked to reset the password of the Olly account for this address.\n\n"
        f"To choose a new password, open this link before {until}:\n\n"
        f"{reset_url(settings.public_url, token)}\n\n"
        "The link works once. If you did not ask, ignore this message: your password stays as it is.\n"
    )
    return message


def smtp_sender(settings: Settings) -> Callable[[EmailMessage], None]:
    """Send one message through the configured SMTP server (a connection per message)."""
    host, port = settings.smtp_host, settings.smtp_port
    assert host is not None
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None

    def send(message: EmailMessage) -> None:
        server: smtplib.SMTP
        if settings.smtp_security == "tls":
            server = smtplib.SMTP_SSL(host, port, timeout=SMTP_TIMEOUT_SECONDS, context=ssl.create_default_context())
        else:
            server = smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT_SECONDS)
        with server:
            if settings.smtp_security == "starttls":
                server.starttls(context=ssl.create_default_context())
            if settings.smtp_username:
                server.login(settings.smtp_username, password or "")
            server.send_message(message)

    return send


class MailedResets:
    """``ResetDelivery`` that e-mails the link: ``deliver`` queues it, a sender thread sends it."""

    def __init__(
        self,
        settings: Settings,
        address_of: Callable[[uuid.UUID, uuid.UUID], str | None],
        send: Callable[[EmailMessage], None] | None = None,
    ) -> None:
        self.settings = settings
        self._address_of = address_of
        self._send = send or smtp_sender(settings)
        self._queue: queue.Queue[ResetLink | None] = queue.Queue(QUEUE_LIMIT)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def deliver(self, tenant_id: uuid.UUID, account_id: uuid.UUID, token: str, expires_at: datetime) -> None:
        self._start()
        try:
            self._queue.put_nowait(ResetLink(tenant_id, account_id, token, expires_at))
        except queue.Full:
            log.error("password-reset e-mail dropped: the mail queue is full", alert="mail.queue_full")

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="olly-mail", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            link = self._queue.get()
            try:
                if link is None:
                    return
                self._send_one(link)
            finally:
                self._queue.task_done()

    def _send_one(self, link: ResetLink) -> None:
        try:
            address = self._address_of(link.tenant_id, link.account_id)
            if not address:
                log.warning("password-reset e-mail not sent: the account has no address", alert="mail.no_address")
                return
            self._send(reset_message(self.settings, address, link.token, link.expires_at))
            log.info("password-reset e-mail sent")
        except Exception as error:  # noqa: BLE001 - logged (no address, no link) and dropped: the person asks again
            log.error("password-reset e-mail not sent", alert="mail.failed", error=type(error).__name__)

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every queued message was handled (for tests and shutdown); True if it was."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self) -> None:
        with self._lock:
            thread = self._thread
        if thread is not None and thread.is_alive():
            self._queue.put(None)
            thread.join(timeout=SMTP_TIMEOUT_SECONDS)
