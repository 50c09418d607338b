"""A dependent added through the roster import, the employer portal or an EDI 834 reprices the
policy exactly as the enrollment API does, and billing adjusts February already billed, to the cent.

FakePlans: PPO-2026 is 600.00 a month for EE (employee 240.00), 1,000.00 for EE+CH (employee
400.00). February 2026 has 28 days; the groups prorate daily.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime

from olly import edi_links
from olly import roster as roster_import
from olly.app import create_app
from olly.billing import service
from olly.billing.rules import Proration
from olly.edi import service as edi
from olly.enrollment import service as enrollment_service
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market
from olly.kernel.clock import FixedClock
from olly.kernel.periods import DatePeriod
from olly.plans import service as plans_service
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.service import NewAccount
from olly.platform.runtime import Platform
from olly.policy_admin import service as policy_admin
from tests.factories import PPO, FakePlans
from tests.integration.billing.support import drain, enrol
from tests.integration.billing.test_adjustments import FEBRUARY, _adjustment_lines, _balances, _invoices
from tests.integration.edi.helpers import register
from tests.integration.edi.test_links import enrollment_file
from tests.integration.eligibility.test_eligibility import FakeBenefits
from tests.support.identity import STRONG_PASSWORD, control_of, create_account, https_client

HEADER = ",".join(roster_import.ROSTER_COLUMNS)
#: EE for 1–9 February: 600.00 × 9/28 = 192.86 (−407.14), employee 240.00 × 9/28 = 77.14; EE+CH for
#: 10–28 February: 1,000.00 × 19/28 = 678.57, employee 400.00 × 19/28 = 271.43. Net +271.43.
ADDED_FROM_THE_10TH = [
    (PPO, date(2026, 2, 1), date(2026, 2, 9), 19286 - 60000, 7714 - 24000, 11572 - 36000),
    (PPO, date(2026, 2, 10), date(2026, 2, 28), 67857, 27143, 40714),
]
ADJUSTMENT = ("ADJUSTMENT", date(2026, 2, 1), date(2026, 2, 27), 27143, 10857, 16286, 0, "OPEN")


def _billed_group(platform: Platform, tenant_id: uuid.UUID, group: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        service.configure_account(uow, group, market="GROUP", proration=Proration.DAILY)


def _bill_february(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.activate_due(uow)
        assert service.run_billing(uow, FEBRUARY).total_minor > 0
    drain(platform)
    assert _adjustment_lines(platform, tenant_id, policy_id) == []


def _tiers(platform: Platform, tenant_id: uuid.UUID, policy_id: uuid.UUID) -> list[tuple[str, date, int]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return [
            (t.tier_code, t.period_start, t.total_premium_minor)
            for t in enrollment_service.EnrollmentRepository(uow).terms(policy_id)
        ]


def test_a_roster_row_adopting_a_child_from_the_10th_adjusts_february(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    group = uuid.uuid4()
    _billed_group(platform, tenant_id, group)
    employee = f"{HEADER}\nE7,SELF,Ana,Rivera,1985-05-20,,,,{PPO},2026-01-01,,\n"
    report = roster_import.import_roster(lambda: platform.db.unit_of_work(tenant_id), group, employee, FakePlans())
    assert (report.enrolled_employees, report.failures) == (1, ())
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        policy = enrollment_service.EnrollmentRepository(uow).policy_for_employee(group, "E7")
        assert policy is not None
        policy_id = policy.id
    _bill_february(platform, tenant_id, policy_id)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    child = f"{HEADER}\nE7,CHILD,Tia,Rivera,2024-05-01,,,,,2026-02-10,ADOPTION,2026-02-10\n"
    report = roster_import.import_roster(lambda: platform.db.unit_of_work(tenant_id), group, child, FakePlans())
    assert (report.added_dependents, report.failures) == (1, ())
    drain(platform)
    assert _tiers(platform, tenant_id, policy_id) == [
        ("EE", date(2026, 1, 1), 60000),
        ("EE+CH", date(2026, 2, 10), 100000),
    ]
    assert _adjustment_lines(platform, tenant_id, policy_id) == ADDED_FROM_THE_10TH
    assert _invoices(platform, tenant_id, group)[1] == ADJUSTMENT
    _balances(platform, tenant_id)


def _cells(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S)
    ]


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_an_employer_adding_a_newborn_in_the_portal_reprices_a_demo_plan_and_february_is_adjusted(
    platform: Platform, clock: FixedClock
) -> None:
    """The portal reprices with the plans domain, as the API does (OLLY-PPO-1000: EE 612.34,
    employee 20% = 122.47; EE+CH 1,045.67, employee 35% = 365.98)."""
    tenant = platform.settings.default_tenant_id
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
        group = policy_admin.open_account(uow, kind="GROUP", name="Riverside Bakery", currency="USD").id
    _billed_group(platform, tenant, group)
    policy_id = enrol(
        platform,
        tenant,
        PlansCatalog(),  # type: ignore[arg-type]
        market=Market.GROUP,
        account_id=group,
        effective=date(2026, 1, 1),
        plan_code="OLLY-PPO-1000",
    )
    clock.set(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    _bill_february(platform, tenant, policy_id)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    app = create_app(platform, run_bus=False)
    create_account(
        control_of(app),
        tenant,
        NewAccount(AccountKind.EMPLOYER_ADMIN, "hr@example.org", password=STRONG_PASSWORD, group_account_id=group),
    )
    with https_client(app) as client:
        client.post("/signin", data={"email": "hr@example.org", "password": STRONG_PASSWORD})
        page = client.get(f"/employer/policies/{policy_id}")
        assert page.status_code == 200
        added = client.post(
            f"/employer/policies/{policy_id}/dependents",
            data={
                "csrf_token": _csrf(page.text),
                "given_name": "Tia",
                "family_name": "Rivera",
                "birth_date": "2026-02-10",
                "relationship": "CHILD",
                "qualifying_event": "BIRTH",
                "event_date": "2026-02-10",
            },
            follow_redirects=False,
        )
        # the repricing splits Ana's coverage at the 10th: the employer still sees one stretch
        shown = client.get(f"/employer/policies/{policy_id}")
        assert [[cells[0], cells[1], cells[3]] for cells in _cells(shown.text)] == [
            ["Ana Rivera", "self", "2026-01-01 – 2026-12-31"],
            ["Tia Rivera", "child", "2026-02-10 – 2026-12-31"],
        ]
        listing = client.get("/employer")
        assert [[cells[0], cells[3]] for cells in _cells(listing.text)] == [["Ana Rivera", "1"]]
    assert (added.status_code, added.headers["location"]) == (303, f"/employer/policies/{policy_id}?saved=dependent")
    drain(platform)
    assert _tiers(platform, tenant, policy_id) == [
        ("EE", date(2026, 1, 1), 61234),
        ("EE+CH", date(2026, 2, 10), 104567),
    ]
    # EE 1–9 February: 612.34 × 9/28 = 196.82 (−415.52), employee 122.47 × 9/28 = 39.37 (−83.10);
    # EE+CH 10–28 February: 1,045.67 × 19/28 = 709.56, employee 365.98 × 19/28 = 248.34.
    assert _adjustment_lines(platform, tenant, policy_id) == [
        ("OLLY-PPO-1000", date(2026, 2, 1), date(2026, 2, 9), 19682 - 61234, 3937 - 12247, 15745 - 48987),
        ("OLLY-PPO-1000", date(2026, 2, 10), date(2026, 2, 28), 70956, 24834, 46122),
    ]
    # Net +294.04: the employee's +165.24, the employer's +128.80.
    assert _invoices(platform, tenant, group)[1] == (
        "ADJUSTMENT",
        date(2026, 2, 1),
        date(2026, 2, 27),
        29404,
        16524,
        12880,
        0,
        "OPEN",
    )
    _balances(platform, tenant)


SUBSCRIBER_FROM_JANUARY = [
    "INS*Y*18*021*28*A***FT",
    "REF*0F*E200",
    "NM1*IL*1*RIVERA*ANA****34*219093333",
    "DMG*D8*19850520*F",
    f"HD*021**HLT*{PPO}*EMP",
    "DTP*348*D8*20260101",
]
NEWBORN_FROM_THE_10TH = [
    "INS*N*19*021*02*A",  # INS04 02: birth
    "REF*0F*E200",
    "NM1*IL*1*RIVERA*TIA",
    "DMG*D8*20260210*F",
    f"HD*021**HLT*{PPO}*FAM",
    "DTP*348*D8*20260210",
]


def test_an_834_adding_a_newborn_from_the_10th_adjusts_february(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    group = uuid.uuid4()
    _billed_group(platform, tenant_id, group)
    links = edi_links.build_links(FakePlans(), FakeBenefits())
    register(
        platform, tenant_id, "ACME", kind="EMPLOYER", qualifier="ZZ", identifier="EMPLOYER1", group_account_id=group
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        enrolled = edi.ingest(uow, enrollment_file("000000001", [SUBSCRIBER_FROM_JANUARY]), source="cli", links=links)
    assert (enrolled.status, enrolled.enrollment_failures) == ("ACCEPTED", [])
    policy_id = uuid.UUID(enrolled.created[0].id)
    _bill_february(platform, tenant_id, policy_id)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        added = edi.ingest(uow, enrollment_file("000000002", [NEWBORN_FROM_THE_10TH]), source="cli", links=links)
    assert (added.status, added.enrollment_failures) == ("ACCEPTED", [])
    assert added.created[0].id == str(policy_id)
    drain(platform)
    assert _tiers(platform, tenant_id, policy_id) == [
        ("EE", date(2026, 1, 1), 60000),
        ("EE+CH", date(2026, 2, 10), 100000),
    ]
    assert _adjustment_lines(platform, tenant_id, policy_id) == ADDED_FROM_THE_10TH
    assert _invoices(platform, tenant_id, group)[1] == ADJUSTMENT
    _balances(platform, tenant_id)


SPOUSE_FROM_JANUARY = [
    "INS*N*01*021*28*A",
    "REF*0F*E200",
    "NM1*IL*1*RIVERA*BEN****34*219094444",
    "DMG*D8*19860211*M",
    f"HD*021**HLT*{PPO}*ESP",
    "DTP*348*D8*20260101",
]
SPOUSE_ENDS_ON_THE_20TH = [
    "INS*N*01*024*01*A",  # INS04 01: divorce
    "REF*0F*E200",
    "NM1*IL*1*RIVERA*BEN****34*219094444",
    "HD*024**HLT",
    "DTP*349*D8*20260220",
]


def test_an_834_ending_a_spouse_credits_march_already_billed(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    """As the API's removal: covered to the end of February, EE from 1 March (EE+SP 1,100.00 → EE 600.00)."""
    group = uuid.uuid4()
    _billed_group(platform, tenant_id, group)
    links = edi_links.build_links(FakePlans(), FakeBenefits())
    register(
        platform, tenant_id, "ACME", kind="EMPLOYER", qualifier="ZZ", identifier="EMPLOYER1", group_account_id=group
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        enrolled = edi.ingest(
            uow, enrollment_file("000000001", [SUBSCRIBER_FROM_JANUARY, SPOUSE_FROM_JANUARY]), source="cli", links=links
        )
    assert (enrolled.status, enrolled.enrollment_failures) == ("ACCEPTED", [])
    policy_id = uuid.UUID(enrolled.created[0].id)
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment_service.activate_due(uow)
        for period in (FEBRUARY, DatePeriod(date(2026, 3, 1), date(2026, 3, 31))):
            assert service.run_billing(uow, period).total_minor == 110000
    drain(platform)
    clock.set(datetime(2026, 2, 12, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        ended = edi.ingest(uow, enrollment_file("000000002", [SPOUSE_ENDS_ON_THE_20TH]), source="cli", links=links)
    assert (ended.status, ended.enrollment_failures) == ("ACCEPTED", [])
    drain(platform)
    assert _tiers(platform, tenant_id, policy_id) == [
        ("EE", date(2026, 1, 1), 60000),  # replaced from its first day by the spouse's addition
        ("EE+SP", date(2026, 1, 1), 110000),
        ("EE", date(2026, 3, 1), 60000),
    ]
    assert _adjustment_lines(platform, tenant_id, policy_id) == [
        (PPO, date(2026, 3, 1), date(2026, 2, 28), -110000, -44000, -66000),
        (PPO, date(2026, 3, 1), date(2026, 3, 31), 60000, 24000, 36000),
    ]
    assert _invoices(platform, tenant_id, group)[2:] == [
        ("ADJUSTMENT", date(2026, 3, 1), date(2026, 3, 1), -50000, -20000, -30000, -50000, "PAID"),
    ]
    assert ("MEMBER_CREDIT", 50000, 50000) in _balances(platform, tenant_id)  # applied to February's bill
