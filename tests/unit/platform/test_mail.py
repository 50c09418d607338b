"""The reset e-mail's content, and a failed send: logged without the address or the link, dropped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import structlog

from olly.config import Settings
from olly.platform.mail import MailedResets, reset_message, reset_url

SETTINGS = Settings(public_url="https://olly.example/", mail_from="Olly <no-reply@olly.example>")
EXPIRES = datetime(2026, 3, 4, 9, 30, tzinfo=UTC)


def test_the_message_carries_the_link_and_its_expiry_and_nothing_else() -> None:
    message = reset_message(SETTINGS, "ada@example.org", "tok-en_123", EXPIRES)
    assert reset_url("https://olly.example/", "a/b+c") == "https://olly.example/signin/reset?token=a%2Fb%2Bc"
    assert (message["To"], message["From"], message["Subject"]) == (
        "ada@example.org",
        "Olly <no-reply@olly.example>",
        "Reset your Olly password",
    )
    assert message.get_content() == (
        "Someone asked to reset the password of the Olly account for this address.\n\n"
        "To choose a new password, open this link before 09:30 UTC on 04 March 2026:\n\n"
        "https://olly.example/signin/reset?token=tok-en_123\n\n"
        "The link works once. If you did not ask, ignore this message: your password stays as it is.\n"
    )


def test_a_failed_send_is_logged_without_address_or_link_and_the_next_one_still_goes() -> None:
    sent: list[EmailMessage] = []
    failures = ["down"]

    def send(message: EmailMessage) -> None:
        if failures:
            failures.pop()
            raise ConnectionRefusedError("ada@example.org refused")
        sent.append(message)

    resets = MailedResets(settings=SETTINGS, address_of=lambda *_: "ada@example.org", send=send)
    with structlog.testing.capture_logs() as logs:
        resets.deliver(uuid.uuid4(), uuid.uuid4(), "secret-token-1", EXPIRES)
        resets.deliver(uuid.uuid4(), uuid.uuid4(), "secret-token-2", EXPIRES)
        assert resets.flush()
    resets.close()
    assert [m["To"] for m in sent] == ["ada@example.org"]
    failed = [entry for entry in logs if entry.get("alert") == "mail.failed"]
    assert [(f["error"], f["log_level"]) for f in failed] == [("ConnectionRefusedError", "error")]
    text = repr(logs)
    assert "ada@example.org" not in text and "secret-token" not in text


def test_an_account_without_an_address_sends_nothing() -> None:
    sent: list[Any] = []
    resets = MailedResets(settings=SETTINGS, address_of=lambda *_: None, send=sent.append)
    with structlog.testing.capture_logs() as logs:
        resets.deliver(uuid.uuid4(), uuid.uuid4(), "secret-token", EXPIRES)
        assert resets.flush()
    resets.close()
    assert sent == []
    assert [entry["alert"] for entry in logs if "alert" in entry] == ["mail.no_address"]
