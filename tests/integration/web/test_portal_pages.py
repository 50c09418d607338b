"""The portals over HTTP (no browser): headers, sign-in and sign-out, CSRF on forms, errors as
pages, the page-weight budget, the offline shell."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from olly.web.pending import PENDING
from olly.web.rendering import CONTENT_SECURITY_POLICY, STATIC, TEMPLATES
from tests.support.identity import STRONG_PASSWORD, build_app, control_of, create_account, https_client

PAGE_BUDGET_BYTES = 200 * 1024
EXPECTED_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "font-src 'self'; manifest-src 'self'; worker-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


@pytest.fixture
def client(sqlite_platform: Platform) -> Iterator[TestClient]:
    app, _ = build_app(sqlite_platform)
    with https_client(app) as test_client:
        test_client.app_state = app  # type: ignore[attr-defined]
        yield test_client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _employer(client: TestClient, platform: Platform) -> None:
    control = control_of(client.app_state)  # type: ignore[attr-defined]
    create_account(
        control,
        platform.settings.default_tenant_id,
        NewAccount(AccountKind.PROVIDER, "desk@example.org", password=STRONG_PASSWORD, npi="1234567893"),
    )


def test_every_portal_page_carries_the_strict_content_security_policy(client: TestClient) -> None:
    assert CONTENT_SECURITY_POLICY == EXPECTED_CSP
    for path in ("/signin", "/offline", "/static/olly.css", "/sw.js"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-security-policy"] == EXPECTED_CSP, path
        assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/signin").headers["cache-control"] == "no-store"


def test_no_template_has_inline_script_or_style() -> None:
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        assert "<style" not in text, template
        assert " style=" not in text, template
        assert re.search(r"<script(?![^>]*\bsrc=)", text) is None, template
        assert re.search(r"<[^>]*\son[a-z]+=", text) is None, template  # no onclick= handlers
        assert "hx-on" not in text, template


def test_a_page_loads_under_200_kb_of_assets(client: TestClient) -> None:
    """Every page extends base.html, the only template that references assets: the sum of what the
    sign-in page references is what any page costs before images."""
    for template in TEMPLATES.rglob("*.html"):
        if template.name != "base.html":
            assert "/static/" not in template.read_text(), f"{template} references an asset outside base.html"
    html = client.get("/signin").text
    assets = sorted(set(re.findall(r'(?:src|href)="(/static/[^"]+)"', html)))
    assert assets == [
        "/static/app.js",
        "/static/icons/icon-192.png",
        "/static/manifest.webmanifest",
        "/static/olly.css",
        "/static/vendor/htmx-2.0.11.min.js",
    ]
    total = sum(len(client.get(path).content) for path in assets)
    assert total < PAGE_BUDGET_BYTES, f"{total} bytes of assets"


def test_the_service_worker_keeps_only_the_offline_shell(client: TestClient) -> None:
    response = client.get("/sw.js")
    assert response.headers["service-worker-allowed"] == "/"
    cached = json.loads(re.search(r"const ASSETS = (\[[^\]]*\]);", response.text, re.S).group(1).replace(",\n]", "]"))  # type: ignore[union-attr]
    assert all(path == "/offline" or path.startswith("/static/") for path in cached)
    for path in cached:
        assert client.get(path).status_code == 200, path
    manifest = json.loads((STATIC / "manifest.webmanifest").read_text())
    assert [icon["src"] for icon in manifest["icons"]] == ["/static/icons/icon-192.png", "/static/icons/icon-512.png"]


def test_signed_out_visitors_are_sent_to_sign_in_and_apis_still_speak_problem_json(client: TestClient) -> None:
    for path in ("/", "/card", "/employer", "/provider", "/ops/dlq"):
        response = client.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/signin"), path
    api = client.get("/api/v1/plans")
    assert api.status_code == 401
    assert api.headers["content-type"] == "application/problem+json"


def test_sign_in_lands_on_the_role_portal_and_forms_need_the_csrf_token(
    client: TestClient, sqlite_platform: Platform
) -> None:
    _employer(client, sqlite_platform)
    credentials = {"email": "desk@example.org", "password": STRONG_PASSWORD}
    for cross_site in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://attacker.example"}):
        assert client.post("/signin", data=credentials, headers=cross_site).status_code == 403
    wrong = client.post("/signin", data={"email": "desk@example.org", "password": "not the password at all"})
    assert wrong.status_code == 401
    assert "the e-mail address or password is not correct" in wrong.text
    signed_in = client.post(
        "/signin", data={"email": "desk@example.org", "password": STRONG_PASSWORD}, follow_redirects=False
    )
    assert (signed_in.status_code, signed_in.headers["location"]) == (303, "/")
    assert client.get("/", follow_redirects=False).headers["location"] == "/provider"
    page = client.get("/provider/credentialing")
    assert page.status_code == 200
    assert "No provider record is registered for your NPI yet." in page.text

    refused = client.post("/signout", data={})
    assert refused.status_code == 403
    assert "text/html" in refused.headers["content-type"]
    signed_out = client.post("/signout", data={"csrf_token": _csrf(page.text)}, follow_redirects=False)
    assert (signed_out.status_code, signed_out.headers["location"]) == (303, "/signin")
    assert client.get("/provider", follow_redirects=False).headers["location"] == "/signin"


def test_another_kind_of_users_portal_sends_the_caller_to_their_own(
    client: TestClient, sqlite_platform: Platform
) -> None:
    """A provider opening the operations console lands on its own portal (it used to be shown the
    console's empty home); the employer's invoices it may not read at all."""
    _employer(client, sqlite_platform)
    client.post("/signin", data={"email": "desk@example.org", "password": STRONG_PASSWORD})
    console = client.get("/ops", follow_redirects=False)
    assert (console.status_code, console.headers.get("location")) == (303, "/provider")
    assert client.get("/employer/invoices", follow_redirects=False).status_code == 403
    assert client.get("/provider", follow_redirects=False).status_code == 200


def test_pages_awaiting_their_domains_say_so(client: TestClient, sqlite_platform: Platform) -> None:
    _employer(client, sqlite_platform)
    client.post("/signin", data={"email": "desk@example.org", "password": STRONG_PASSWORD})
    for key, spec in PENDING.items():
        response = client.get(spec.path)
        assert response.status_code == 200, key
        assert "Not available yet." in response.text
        assert spec.waits_for in response.text
    remittances = client.get("/provider/remittances")  # wired: no longer a waiting page
    assert remittances.status_code == 200
    assert "Not available yet." not in remittances.text and "No payments yet." in remittances.text
    assert client.get("/card").status_code == 403  # a provider has no member ID card


def test_portal_assets_exist_where_the_templates_say() -> None:
    base = (TEMPLATES / "base.html").read_text()
    for path in re.findall(r'"/static/([^"]+)"', base):
        assert (STATIC / path).is_file(), path
    assert Path(STATIC / "vendor" / "htmx-LICENSE.txt").read_text().startswith("Zero-Clause BSD")
