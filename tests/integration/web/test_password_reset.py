"""A forgotten password, end to end: the portal's form, the e-mail over SMTP, the link, the new
password; the same answer for an unknown address; a link that works once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from olly.kernel.clock import FixedClock
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.mail import MailedResets
from olly.platform.runtime import Platform
from tests.support.identity import STRONG_PASSWORD, build_app, control_of, create_account, https_client
from tests.support.smtp import SmtpSink

ADDRESS = "desk@example.org"
NEW_PASSWORD = "a much newer horse battery staple"


@pytest.fixture
def sink() -> Iterator[SmtpSink]:
    with SmtpSink() as running:
        yield running


@pytest.fixture
def client(sqlite_platform: Platform, sink: SmtpSink, monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    mail = {
        "smtp_host": "127.0.0.1",
        "smtp_port": sink.port,
        "smtp_security": "none",
        "public_url": "https://olly.example/",
        "mail_from": "Olly <no-reply@olly.example>",
        "argon2_memory_kib": 1024,
        "argon2_time_cost": 1,
    }
    monkeypatch.setattr(sqlite_platform, "settings", sqlite_platform.settings.model_copy(update=mail))
    app, _ = build_app(sqlite_platform)
    create_account(
        control_of(app),
        sqlite_platform.settings.default_tenant_id,
        NewAccount(AccountKind.PROVIDER, ADDRESS, password=STRONG_PASSWORD, npi="1234567893"),
    )
    with https_client(app) as test_client:
        test_client.app_state = app  # type: ignore[attr-defined]
        yield test_client


def _sent(client: TestClient) -> None:
    resets = control_of(client.app_state).identity.resets  # type: ignore[attr-defined]
    assert isinstance(resets, MailedResets)
    assert resets.flush()


def _signs_in(client: TestClient, password: str) -> bool:
    answer = client.post("/signin", data={"email": ADDRESS, "password": password}, follow_redirects=False)
    client.cookies.clear()
    return answer.status_code == 303


def test_a_forgotten_password_is_reset_through_the_emailed_link(
    client: TestClient, sink: SmtpSink, clock: FixedClock
) -> None:
    assert 'href="/signin/forgot"' in client.get("/signin").text
    asked = client.post("/signin/forgot", data={"email": ADDRESS.upper()})
    unknown = client.post("/signin/forgot", data={"email": "nobody@example.org"})
    assert asked.status_code == unknown.status_code == 200
    assert "If an account uses this address" in asked.text
    assert asked.text == unknown.text  # nothing tells a known address from an unknown one
    _sent(client)

    assert len(sink.received) == 1
    message = sink.received[0]
    assert (message["To"], message["From"], message["Subject"]) == (
        ADDRESS,
        "Olly <no-reply@olly.example>",
        "Reset your Olly password",
    )
    body = message.get_content()
    found = re.search(r"https://olly\.example/signin/reset\?token=([A-Za-z0-9_\-]+)", body)
    assert found is not None, body
    token = found.group(1)
    until = (clock.now() + timedelta(minutes=30)).strftime("%H:%M UTC on %d %B %Y")
    assert f"open this link before {until}:" in body

    form = client.get(f"/signin/reset?token={token}")
    assert form.status_code == 200 and f'name="token" value="{token}"' in form.text
    differ = client.post("/signin/reset", data={"token": token, "password": NEW_PASSWORD, "repeated": "other"})
    assert differ.status_code == 422 and "the two passwords differ" in differ.text
    weak = client.post("/signin/reset", data={"token": token, "password": "short", "repeated": "short"})
    assert weak.status_code == 422
    assert _signs_in(client, STRONG_PASSWORD)  # neither attempt changed anything

    done = client.post("/signin/reset", data={"token": token, "password": NEW_PASSWORD, "repeated": NEW_PASSWORD})
    assert done.status_code == 200 and "Your password is changed" in done.text
    assert not _signs_in(client, STRONG_PASSWORD)
    assert _signs_in(client, NEW_PASSWORD)

    reuse = {"token": token, "password": STRONG_PASSWORD, "repeated": STRONG_PASSWORD}
    again = client.post("/signin/reset", data=reuse)
    assert again.status_code == 401 and "not valid or has expired" in again.text
    assert _signs_in(client, NEW_PASSWORD)


def test_the_api_request_sends_the_same_email(client: TestClient, sink: SmtpSink) -> None:
    assert client.post("/auth/password-reset", json={"email": ADDRESS}).status_code == 202
    _sent(client)
    assert [m["To"] for m in sink.received] == [ADDRESS]


def test_forms_from_another_site_and_bad_links_are_refused(client: TestClient, sink: SmtpSink) -> None:
    cross_site = {"Sec-Fetch-Site": "cross-site"}
    assert client.post("/signin/forgot", data={"email": ADDRESS}, headers=cross_site).status_code == 403
    bogus = client.post("/signin/reset", data={"token": "x" * 40, "password": NEW_PASSWORD, "repeated": NEW_PASSWORD})
    assert bogus.status_code == 401
    assert "Ask for a link" in client.get("/signin/reset").text  # opened without a token
    _sent(client)
    assert sink.received == []
