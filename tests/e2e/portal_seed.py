"""Seed a database for the portal browser journeys: ``python -m tests.e2e.portal_seed`` in the
working directory of the server (its ``var/``), printing what the journeys need as JSON.

The people are enrolled through the domains' services (as the demo is), the read models are built
by draining the event backbone, and every account is created by the identity service. The member
and the administrator have an authenticator enrolled; their TOTP secrets are printed for the test
to compute codes (this is a throwaway test database).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

from olly import demo
from olly.config import get_settings
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market
from olly.enrollment.schemas import DependentCreate, EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.plans import public as plans_public
from olly.plans import service as plans_service
from olly.platform.auth import totp
from olly.platform.auth.access import AccessControl
from olly.platform.auth.roles import AccountKind, Role
from olly.platform.auth.service import NewAccount
from olly.platform.bus.runtime import BusRuntime, default_registry
from olly.platform.runtime import build_platform
from olly.policy_admin import service as people
from olly.policy_admin.schemas import IndividualCreate

PASSWORD = "correct horse battery staple"
NPI = "1234567893"
MEMBER = {"given": "Robin", "family": "Okonkwo", "birth": date(1988, 4, 2)}
CHILD = {"given": "Juno", "family": "Okonkwo", "birth": date(2019, 7, 14)}
EMPLOYEE = {"given": "Sam", "family": "Lindqvist", "birth": date(1979, 2, 11)}
SHOPPER = {"given": "Ada", "family": "Moreau", "birth": date(1991, 9, 23)}
"""Signed up but not covered yet: the member journey that buys an individual plan."""


def main() -> None:
    settings = get_settings()
    tenant = settings.default_tenant_id
    today = datetime.now(UTC).date()
    start = date(today.year, 1, 1)
    seeding = build_platform(settings, FixedClock(datetime(start.year, 1, 1, 9, tzinfo=UTC)))
    codes = plans_public.DEMO_PLAN_CODES
    try:
        with seeding.db.unit_of_work(tenant) as uow:
            plans_service.load_demo_plans(uow, plans_service.limits_from_settings(settings))
        catalog = PlansCatalog()
        summary = demo.seed(
            lambda: seeding.db.unit_of_work(tenant),
            catalog,
            demo.DemoPlans(
                employer=(codes["employer_ppo"], codes["employer_hmo"], codes["employer_hdhp"]),
                individual=codes["aca_silver"],
                floater=codes["family_floater"],
            ),
            start,
            employees=4,
        )
        group = summary.group_account_id
        with seeding.db.unit_of_work(tenant) as uow:
            member = people.register_individual(
                uow,
                IndividualCreate(given_name=MEMBER["given"], family_name=MEMBER["family"], birth_date=MEMBER["birth"]),
            ).id
            child = people.register_individual(
                uow, IndividualCreate(given_name=CHILD["given"], family_name=CHILD["family"], birth_date=CHILD["birth"])
            ).id
            policy = enrollment.enroll(
                uow,
                EnrollmentCreate(
                    market=Market.GROUP,
                    account_id=group,
                    subscriber_party_id=member,
                    plan_code=codes["employer_ppo"],
                    effective_date=start,
                    dependents=[DependentCreate(party_id=child, relationship="CHILD")],
                ),
                catalog,
            )
            policy.subscriber_external_id = "E9001"
            member_policy = policy.id
        with seeding.db.unit_of_work(tenant) as uow:
            employee = people.register_individual(
                uow,
                IndividualCreate(
                    given_name=EMPLOYEE["given"], family_name=EMPLOYEE["family"], birth_date=EMPLOYEE["birth"]
                ),
            ).id
            employee_policy = enrollment.enroll(
                uow,
                EnrollmentCreate(
                    market=Market.GROUP,
                    account_id=group,
                    subscriber_party_id=employee,
                    plan_code=codes["employer_hmo"],
                    effective_date=start,
                ),
                catalog,
            ).id
        with seeding.db.unit_of_work(tenant) as uow:
            shopper = people.register_individual(
                uow,
                IndividualCreate(
                    given_name=SHOPPER["given"], family_name=SHOPPER["family"], birth_date=SHOPPER["birth"]
                ),
            ).id
        with seeding.db.unit_of_work(tenant) as uow:
            enrollment.activate_due(uow)
            member_number = next(
                f.member_number for f in enrollment_public.coverage_facts(uow, member_policy) if f.party_id == member
            )
    finally:
        seeding.close()

    live = build_platform(settings)
    try:
        BusRuntime(live.db, live.settings, default_registry(), live.outbox).drain()
        control = AccessControl()
        control.bind(live)
        secrets: dict[str, str] = {}

        def account(name: str, new: NewAccount, *, mfa: bool) -> str:
            with live.db.unit_of_work(tenant) as uow:
                account_id = control.identity.create_account(uow, new).id
            if mfa:
                with live.db.unit_of_work(tenant) as uow:
                    secret = control.identity.begin_totp(uow, account_id).secret
                with live.db.unit_of_work(tenant) as uow:
                    # Enrolled with the previous step's code, so the journey's current code is fresh.
                    earlier = live.clock.now() - timedelta(seconds=30)
                    control.identity.confirm_totp(uow, account_id, totp.code_at(secret, earlier))
                secrets[name] = secret
            return new.email

        emails = {
            "member": account(
                "member",
                NewAccount(AccountKind.MEMBER, "robin@example.org", password=PASSWORD, party_id=member),
                mfa=True,
            ),
            "employer": account(
                "employer",
                NewAccount(AccountKind.EMPLOYER_ADMIN, "hr@example.org", password=PASSWORD, group_account_id=group),
                mfa=False,
            ),
            "provider": account(
                "provider",
                NewAccount(AccountKind.PROVIDER, "clinic@example.org", password=PASSWORD, npi=NPI),
                mfa=False,
            ),
            "examiner": account(
                "examiner",
                NewAccount(
                    AccountKind.STAFF,
                    "examiner@example.org",
                    password=PASSWORD,
                    roles=frozenset({Role.CLAIMS_EXAMINER}),
                    queues=frozenset({"Q1"}),
                ),
                mfa=True,
            ),
            "shopper": account(
                "shopper",
                NewAccount(AccountKind.MEMBER, "ada@example.org", password=PASSWORD, party_id=shopper),
                mfa=False,
            ),
            "billing": account(
                "billing",
                NewAccount(
                    AccountKind.STAFF, "billing@example.org", password=PASSWORD, roles=frozenset({Role.BILLING})
                ),
                mfa=True,
            ),
            "admin": account(
                "admin",
                NewAccount(
                    AccountKind.STAFF, "ops@example.org", password=PASSWORD, roles=frozenset({Role.ADMINISTRATOR})
                ),
                mfa=True,
            ),
        }
        letter = _dead_letter(live, tenant, employee_policy)
        claims = _claims(live, tenant, member, today)
    finally:
        live.close()
    print(
        json.dumps(
            {
                "password": PASSWORD,
                "emails": emails,
                "totp": secrets,
                "member": {
                    "name": f"{MEMBER['given']} {MEMBER['family']}",
                    "member_number": member_number,
                    "family_name": MEMBER["family"],
                    "birth_date": MEMBER["birth"].isoformat(),
                    "child": f"{CHILD['given']} {CHILD['family']}",
                },
                "employee_policy": str(employee_policy),
                "dead_letter": str(letter),
                "claims": claims,
            }
        )
    )


def _claims(platform, tenant: uuid.UUID, member: uuid.UUID, today: date) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """An office visit billed by the clinic (final, with an EOB) and a reimbursement the member
    sent with a bill (pended for its documents: the examiner's journey approves it)."""
    from olly.claims import public as claims_public
    from olly.claims import service as claims_service
    from olly.claims.rules import Submitter
    from olly.claims.schemas import ClaimCreate

    day = min(today, date(today.year, 1, 20)).isoformat()

    def body(code: str, charge: str) -> ClaimCreate:
        return ClaimCreate.model_validate(
            {
                "claimType": "PROFESSIONAL",
                "memberId": str(member),
                "billingNpi": NPI,
                "placeOfService": "11",
                "diagnoses": ["J06.9"],
                "lines": [{"procedureCode": code, "charge": charge, "serviceDateFrom": day}],
            }
        )

    with platform.db.unit_of_work(tenant) as uow:
        visit = claims_service.submit(uow, body("99213", "150.00"), source="TEST").claim_id
        pended = claims_service.submit(
            uow,
            body("99214", "210.00"),
            source="PORTAL",
            submitter=Submitter.MEMBER_REIMBURSEMENT,
            documents=[("BILL", "application/pdf", b"%PDF-1.4\n%%EOF\n")],
        ).claim_id
    runtime = BusRuntime(platform.db, platform.settings, default_registry(), platform.outbox)
    with platform.db.unit_of_work(tenant) as uow:
        claims_service.adjudicate_claim(uow, visit)
        claims_service.adjudicate_claim(uow, pended)
    # The clinic is not in the claims read model, so its claim pends: an examiner approves it (final, EOB).
    with platform.db.unit_of_work(tenant) as uow:
        status = claims_public.claim_status(uow, visit)
        if status is not None and status.status == "PENDED":
            claims_service.decide_line(
                uow, visit, 1, decision="APPROVE", reason="15", note="seeded", paid_minor=None, decided_by=None
            )
    runtime.drain()
    # The clinic sends 837s as the test sender of ``olly.edi.testing`` (the provider journey's upload).
    from olly.edi import service as edi_service

    with platform.db.unit_of_work(tenant) as uow:
        edi_service.save_partner(
            uow,
            edi_service.PartnerSettings(
                code="CLINIC",
                name="Clinic",
                kind="PROVIDER",
                interchange_qualifier="ZZ",
                interchange_id="SUBMITTER",
                provider_ids=(NPI,),
            ),
        )
    return {"visit": str(visit), "pended": str(pended)}


def _dead_letter(platform, tenant: uuid.UUID, policy_id: uuid.UUID) -> uuid.UUID:  # type: ignore[no-untyped-def]
    from tests.integration.bus.helpers import dead_letter

    return dead_letter(platform, tenant, policy_id)


if __name__ == "__main__":
    main()
