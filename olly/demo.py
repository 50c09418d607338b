"""A demo health plan: `olly demo seed` (run by `make run` on an empty database).

Fake but realistic, and the same every time (fixed random seed): an employer group of about fifty
employees with spouses and children on the demo PPO/HMO/HDHP, individual-market members on the ACA
silver plan, and an India-style family-floater household (spouse, children, parents, a parent-in-law);
then a handful of claims (paid, pended, denied) for the first group subscribers. Everything goes
through the domains' own services, exactly as the API would.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from olly.claims import backfill
from olly.claims import service as claims_service
from olly.claims.rules import Submitter
from olly.claims.schemas import ClaimCreate, ReimbursementCreate
from olly.enrollment import service as enrollment
from olly.enrollment.rules import Market
from olly.enrollment.schemas import DependentCreate, EnrollmentCreate
from olly.platform.db import UnitOfWork
from olly.policy_admin import service as people
from olly.policy_admin.schemas import Address, IndividualCreate

SEED = 20260101

GIVEN = (
    "Aaliyah Adrian Aiko Alejandro Amara Andre Anika Arjun Ayesha Bianca Caleb Camila Chen Chloe Daniel "
    "Deepa Diego Elena Elijah Emeka Fatima Gabriel Grace Hana Hiro Imani Isabel Jamal Jasmine Javier "
    "Julia Kai Kavya Keisha Leila Liam Lucia Malik Maya Mateo Mei Mohammed Nadia Naomi Nikhil Noah Olivia "
    "Omar Priya Rafael Rosa Ryan Sana Sofia Tariq Tomas Valentina Wei Yara Yusuf Zara"
).split()
FAMILY = (
    "Adams Alvarez Banerjee Bennett Castillo Chen Cohen Diaz Edwards Fischer Garcia Gupta Haddad "
    "Hernandez Ito Johnson Kapoor Kim Kowalski Lee Lopez Martin Mensah Morales Nakamura Nguyen Okafor "
    "Olsen Patel Perez Quinn Reyes Rossi Sato Schmidt Shah Silva Singh Tanaka Thompson Torres Walker Wang "
    "Williams Wright Young Zhang"
).split()
INDIAN_GIVEN = "Aarav Ananya Divya Ishaan Kabir Lakshmi Meera Rahul Rohan Saanvi Vikram".split()
STREETS = "Oak Maple Cedar Elm Pine Lakeview Hillcrest Park River Sunset".split()
CITIES = (("Columbus", "OH", "432"), ("Dayton", "OH", "454"), ("Cleveland", "OH", "441"), ("Toledo", "OH", "436"))


@dataclass(frozen=True, slots=True)
class DemoPlans:
    """The demo plan codes to enrol people in (the plans domain ships and loads them)."""

    employer: tuple[str, ...]
    individual: str
    floater: str


@dataclass(frozen=True, slots=True)
class DemoSummary:
    group_account_id: uuid.UUID
    employees: int
    dependents: int
    individual_members: int
    floater_members: int
    policies: int
    subscribers: tuple[tuple[str, uuid.UUID], ...] = ()
    """(plan code, party id) of each employer-group subscriber, in enrolment order."""


class _People:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.ssns: set[str] = set()

    def ssn(self) -> str:
        while True:
            # Fake numbers of the valid shape (areas 100-665; never 000, 666 or 9xx), never repeated.
            candidate = (
                f"{self.rng.randint(100, 665):03d}-{self.rng.randint(1, 99):02d}-{self.rng.randint(1, 9999):04d}"
            )
            if candidate not in self.ssns:
                self.ssns.add(candidate)
                return candidate

    def person(self, family: str, born: date, *, given: str | None = None, indian: bool = False) -> IndividualCreate:
        first = given or self.rng.choice(INDIAN_GIVEN if indian else GIVEN)
        city, region, zip3 = self.rng.choice(CITIES)
        address = (
            Address(line1="14 MG Road", city="Bengaluru", region="KA", postal_code="560001", country="IN")
            if indian
            else Address(
                line1=f"{self.rng.randint(10, 9999)} {self.rng.choice(STREETS)} St",
                city=city,
                region=region,
                postal_code=f"{zip3}{self.rng.randint(1, 99):02d}",
            )
        )
        return IndividualCreate(
            given_name=first,
            family_name=family,
            birth_date=born,
            ssn=None if indian else self.ssn(),
            national_id_scheme="AADHAAR" if indian else None,
            address=address,
            phone=f"+1 614 555 {self.rng.randint(1000, 9999)}"
            if not indian
            else f"+91 98{self.rng.randint(10000000, 99999999)}",
            email=f"{first.lower()}.{family.lower()}@example.org",
        )

    def birth(self, youngest: int, oldest: int, on: date) -> date:
        return on - timedelta(days=self.rng.randint(youngest * 365 + 30, oldest * 365 - 30))


def seed(
    open_uow: Callable[[], UnitOfWork], plans: enrollment.PlanCatalog, demo: DemoPlans, start: date, employees: int = 50
) -> DemoSummary:
    """Create the demo population. Each household is one unit of work."""
    rng = random.Random(SEED)  # noqa: S311 - reproducible fake data, not a secret
    gen = _People(rng)
    with open_uow() as uow:
        group = people.open_account(uow, kind="GROUP", name="Buckeye Manufacturing Co.", currency="USD")
        group_id = group.id
    counts = {"employees": 0, "dependents": 0, "individual": 0, "floater": 0, "policies": 0}
    subscribers: list[tuple[str, uuid.UUID]] = []
    for index in range(employees):
        family = rng.choice(FAMILY)
        with open_uow() as uow:
            subscriber = people.register_individual(uow, gen.person(family, gen.birth(22, 64, start))).id
            dependents: list[DependentCreate] = []
            if rng.random() < 0.55:
                spouse = people.register_individual(uow, gen.person(family, gen.birth(22, 64, start))).id
                dependents.append(DependentCreate(party_id=spouse, relationship="SPOUSE"))
            for _ in range(rng.choice((0, 0, 1, 2, 3))):
                child = people.register_individual(uow, gen.person(family, gen.birth(0, 25, start))).id
                dependents.append(DependentCreate(party_id=child, relationship="CHILD"))
            policy = enrollment.enroll(
                uow,
                EnrollmentCreate(
                    market=Market.GROUP,
                    account_id=group_id,
                    subscriber_party_id=subscriber,
                    plan_code=demo.employer[index % len(demo.employer)],
                    effective_date=start,
                    dependents=dependents,
                ),
                plans,
            )
            policy.subscriber_external_id = f"E{index + 1:04d}"
            subscribers.append((demo.employer[index % len(demo.employer)], subscriber))
            counts["employees"] += 1
            counts["dependents"] += len(dependents)
            counts["policies"] += 1
    for _ in range(6):
        family = rng.choice(FAMILY)
        with open_uow() as uow:
            household = people.open_account(uow, kind="HOUSEHOLD", name="household", currency="USD").id
            subscriber = people.register_individual(uow, gen.person(family, gen.birth(26, 63, start))).id
            enrollment.enroll(
                uow,
                EnrollmentCreate(
                    market=Market.INDIVIDUAL,
                    account_id=household,
                    subscriber_party_id=subscriber,
                    plan_code=demo.individual,
                    effective_date=start,
                ),
                plans,
            )
            counts["individual"] += 1
            counts["policies"] += 1
    with open_uow() as uow:
        household = people.open_account(uow, kind="HOUSEHOLD", name="household", currency="INR").id
        family = "Iyer"
        subscriber = people.register_individual(
            uow, gen.person(family, date(1984, 8, 15), given="Vikram", indian=True)
        ).id
        members = [
            ("SPOUSE", date(1987, 2, 3), "Lakshmi"),
            ("CHILD", date(2014, 6, 9), "Saanvi"),
            ("CHILD", date(2018, 11, 21), "Kabir"),
            ("PARENT", date(1956, 4, 1), "Meera"),
            ("PARENT_IN_LAW", date(1958, 9, 30), "Rahul"),
        ]
        dependents = [
            DependentCreate(
                party_id=people.register_individual(uow, gen.person(family, born, given=name, indian=True)).id,
                relationship=relationship,
            )
            for relationship, born, name in members
        ]
        enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.SUM_INSURED,
                account_id=household,
                subscriber_party_id=subscriber,
                plan_code=demo.floater,
                effective_date=start,
                dependents=dependents,
            ),
            plans,
        )
        counts["floater"] = 1 + len(dependents)
        counts["policies"] += 1
    return DemoSummary(
        group_id,
        counts["employees"],
        counts["dependents"],
        counts["individual"],
        counts["floater"],
        counts["policies"],
        tuple(subscribers),
    )


#: The demo claims' clinic: not in the provider registry, so claims prices it with the plan's
#: out-of-network maximum allowable (the member may be balance-billed), and an HMO denies it.
DEMO_CLINIC_NPI = "1245319508"
#: A one-page stand-in for a scanned bill (a member reimbursement needs one).
DEMO_BILL = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


def seed_claims(
    open_uow: Callable[[], UnitOfWork], summary: DemoSummary, plans: DemoPlans, start: date, today: date
) -> dict[str, int]:
    """A handful of claims for the first employer-group subscribers, adjudicated at once: paid,
    approved with the member owing, pended (authorisation, documents) and denied. Claims' coverage
    read model is back-filled first (the worker has not consumed enrollment's events yet).
    Returns the count of claims per resulting status."""
    with open_uow() as uow:
        backfill.backfill(uow, backfill.policies(uow), backfill.BackfillReport())
    by_plan: dict[str, list[uuid.UUID]] = {}
    for code, party in summary.subscribers:
        by_plan.setdefault(code, []).append(party)
    ppo = by_plan.get(plans.employer[0], [])
    hmo = by_plan.get(plans.employer[1], []) if len(plans.employer) > 1 else []

    def day(offset: int) -> str:
        return min(start + timedelta(days=offset), today).isoformat()

    def claim(member: uuid.UUID, code: str, charge: str, offset: int, diagnosis: str = "J06.9") -> ClaimCreate:
        return ClaimCreate.model_validate(
            {
                "claimType": "PROFESSIONAL",
                "memberId": str(member),
                "billingNpi": DEMO_CLINIC_NPI,
                "placeOfService": "11",
                "diagnoses": [diagnosis],
                "lines": [{"procedureCode": code, "charge": charge, "serviceDateFrom": day(offset)}],
            }
        )

    wanted: list[tuple[ClaimCreate, Submitter, tuple[tuple[str, str, bytes], ...]]] = []
    provider, member = Submitter.PROVIDER, Submitter.MEMBER_REIMBURSEMENT
    if ppo:
        # Paid: 50 % of 6,000.00 allowed, the out-of-network deductible, then 40 % coinsurance.
        wanted.append((claim(ppo[0], "10060", "6000.00", 20, "L02.91"), provider, ()))
        # Paid after the deductible: 40 % coinsurance, and the balance bill above the allowable.
        wanted.append((claim(ppo[0], "99213", "180.00", 34), provider, ()))
    if len(ppo) > 1:
        # Pended: the knee arthroscopy needs an authorisation the plan pends for.
        wanted.append((claim(ppo[1], "29881", "2500.00", 41, "M23.211"), provider, ()))
        # Pended: a member reimbursement waits for its bill to be reviewed.
        reimbursement = ReimbursementCreate.model_validate(
            {
                "memberId": str(ppo[1]),
                "billingNpi": DEMO_CLINIC_NPI,
                "careSetting": "OPD",
                "placeOfService": "11",
                "diagnoses": ["J02.9"],
                "lines": [{"procedureCode": "99213", "charge": "140.00", "serviceDateFrom": day(48)}],
            }
        ).as_claim()
        wanted.append((reimbursement, member, (("BILL", "application/pdf", DEMO_BILL),)))
    if hmo:
        # Denied: an HMO does not pay an out-of-network office visit.
        wanted.append((claim(hmo[0], "99213", "150.00", 27), provider, ()))
    statuses: dict[str, int] = {}
    for data, submitter, documents in wanted:
        with open_uow() as uow:
            submitted = claims_service.submit(uow, data, source="CLI", submitter=submitter, documents=documents)
            outcome = claims_service.adjudicate_claim(uow, submitted.claim_id)
        status = outcome.status if outcome is not None else "RECEIVED"
        statuses[status] = statuses.get(status, 0) + 1
    return statuses
