"""Portal journeys over HTTP that the browser tests do not take: a staff member's first sign-in
(authenticator set-up), the credentialing queue, and an employer's CSV import with its error report."""

from __future__ import annotations

import re

from olly.plans import service as plans_service
from olly.platform.auth import totp
from olly.platform.auth.roles import AccountKind, Role
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from olly.policy_admin import service as policy_admin
from olly.provider import service as provider_service
from tests.integration.provider.factories import individual
from tests.support.identity import STRONG_PASSWORD, build_app, control_of, create_account, https_client


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _cells(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def test_a_new_staff_member_sets_up_totp_then_sees_the_credentialing_queue(platform: Platform) -> None:
    tenant = platform.settings.default_tenant_id
    with platform.db.unit_of_work(tenant) as uow:
        provider = provider_service.register_provider(
            uow, individual(npi="1234567893", first_name="Ines", last_name="Duarte")
        )
        provider_service.open_credentialing(uow, provider.id)
    app, _ = build_app(platform)
    control = control_of(app)
    staff = create_account(
        control,
        tenant,
        NewAccount(
            AccountKind.STAFF,
            "creds@example.org",
            password=STRONG_PASSWORD,
            roles=frozenset({Role.CREDENTIALING, Role.COMPLIANCE_AUDITOR}),
        ),
    )
    with https_client(app) as client:
        signed_in = client.post(
            "/signin", data={"email": "creds@example.org", "password": STRONG_PASSWORD}, follow_redirects=False
        )
        assert signed_in.headers["location"] == "/signin/mfa/setup"
        assert client.get("/ops", follow_redirects=False).headers["location"] == "/signin/mfa/setup"
        setup = client.get("/signin/mfa/setup")
        started = client.post("/signin/mfa/setup", data={"csrf_token": _csrf(setup.text)})
        secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', started.text)
        assert secret is not None
        wrong = client.post("/signin/mfa/setup/confirm", data={"csrf_token": _csrf(started.text), "code": "000000"})
        assert wrong.status_code == 422
        assert "That code did not match." in wrong.text
        assert client.get("/ops", follow_redirects=False).headers["location"] == "/signin/mfa/setup"
        code = totp.code_at(secret.group(1), platform.clock.now())
        confirmed = client.post("/signin/mfa/setup/confirm", data={"csrf_token": _csrf(started.text), "code": code})
        assert confirmed.status_code == 200
        assert len(re.findall(r"<li><code>[^<]+</code></li>", confirmed.text)) == 10  # recovery codes
        queue = client.get("/ops/credentialing")
        assert queue.status_code == 200
        assert _cells(queue.text) == [["Ines Duarte MD", "1234567893", "initial", "application", "2026-01-15", "—"]]
        refused = client.post(f"/ops/dlq/{provider.id}/redrive", data={"csrf_token": _csrf(queue.text)})
        assert refused.status_code == 403  # neither role redrives dead letters
        platform.audit.flush()  # allowed reads are group-committed by a background writer
        audit = client.get("/ops/audit", params={"action": "credentialing.read"})
        (entry,) = _cells(audit.text)
        assert entry[1:] == [
            f"account:{staff}",
            "compliance_auditor,credentialing",
            "credentialing.read",
            "credentialing",
            "allowed",
            "operations",
        ]


def test_an_employer_imports_a_roster_and_reads_its_error_report(platform: Platform) -> None:
    tenant = platform.settings.default_tenant_id
    with platform.db.unit_of_work(tenant) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
        group = policy_admin.open_account(uow, kind="GROUP", name="Riverside Bakery", currency="USD").id
    app, _ = build_app(platform)
    create_account(
        control_of(app),
        tenant,
        NewAccount(AccountKind.EMPLOYER_ADMIN, "hr@example.org", password=STRONG_PASSWORD, group_account_id=group),
    )
    roster = (
        "employee_id,relationship,given_name,family_name,birth_date,ssn,email,phone,plan_code,effective_date,"
        "qualifying_event,event_date\n"
        "E1,SELF,Maren,Holt,1985-06-01,,,,OLLY-PPO-1000,2026-02-01,NEW_HIRE,2026-01-10\n"
        "E2,SELF,Tobias,Holt,1987-13-40,,,,OLLY-PPO-1000,2026-02-01,NEW_HIRE,2026-01-10\n"
    )
    with https_client(app) as client:
        client.post("/signin", data={"email": "hr@example.org", "password": STRONG_PASSWORD})
        form = client.get("/employer/roster/import")
        report = client.post(
            "/employer/roster/import",
            data={"csrf_token": _csrf(form.text)},
            files={"file": ("roster.csv", roster.encode(), "text/csv")},
        )
        assert report.status_code == 200
        summary = re.search(r'data-testid="import-summary">([^<]+)<', report.text)
        assert summary is not None
        assert summary.group(1) == "2 rows read: 1 employee enrolled, 0 dependents added, 1 row failed."
        (failure,) = _cells(report.text)
        assert failure[:3] == ["2", "E2", "birth_date"]
        assert "1987-13-40" not in report.text  # the report names fields, never echoes values
        listing = client.get("/employer")
        assert [row[0] for row in _cells(listing.text)] == ["Maren Holt"]
        policy_page = re.search(r'href="(/employer/policies/[0-9a-f-]+)"', listing.text)
        assert policy_page is not None
        page = client.get(policy_page.group(1))
        ended = client.post(
            policy_page.group(1) + "/termination",
            data={"csrf_token": _csrf(page.text), "reason": "EMPLOYMENT_ENDED", "termination_date": "2026-03-31"},
        )
        assert ended.status_code == 200
        assert "The policy is terminated." in ended.text
        assert _cells(ended.text)[0][3] == "2026-02-01 – 2026-03-31"
