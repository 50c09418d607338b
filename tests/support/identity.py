"""Identity test support: an app on the per-test platform, and a world of people in every role.

The world (``World``) holds two households in two employer groups served by two providers:

* party A — a member (subscriber) in group G1, with a minor child C and an adult dependent D (a
  spouse) on the same policy;
* party B — an unrelated member (subscriber) in group G2;
* providers P1 and P2 (NPIs), a portal user and a trading-partner client each;
* one staff account per staff role (the examiner works queue Q1).

The people, the group accounts and the two policies are real: registered, opened and enrolled
through the domains' own services (on the demo PPO), with the eligibility read model in step. So
the relationships the access checks rely on — a person's groups, a subscriber's dependents and their
ages, whose a policy is — come from the domains' own resolvers, as in production.

Every persona gets a bearer token. ``owner`` letters (A, B, C, D) name whose data a fixture
object is; ``ENTITLED`` says which owners each non-staff persona may see.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from olly.app import create_app
from olly.config import Settings
from olly.eligibility import service as eligibility_service
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment_service
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market, Relationship
from olly.enrollment.schemas import DependentCreate, EnrollmentCreate
from olly.kernel.events import OutgoingEvent
from olly.plans import service as plans_service
from olly.platform.audit import AuditEvent
from olly.platform.auth.access import AccessControl
from olly.platform.auth.roles import STAFF_ROLES, AccountKind, Role
from olly.platform.auth.service import NewAccount
from olly.platform.db import Database, UnitOfWork, table_of
from olly.platform.runtime import Platform
from olly.policy_admin import service as policy_admin_service
from olly.policy_admin.schemas import IndividualCreate

NPI_1 = "1234567893"
NPI_2 = "1245319508"
CHILD_BIRTH = date(2015, 5, 1)
ADULT_DEPENDENT_BIRTH = date(2000, 1, 1)
BIRTH_DATES = {"A": date(1984, 3, 9), "B": date(1979, 11, 23), "C": CHILD_BIRTH, "D": ADULT_DEPENDENT_BIRTH}
GIVEN_NAMES = {"A": "Annika", "B": "Bartholomew", "C": "Cosima", "D": "Desmond"}
WORLD_PLAN = "OLLY-PPO-1000"
COVERAGE_START = date(2026, 1, 1)
STRONG_PASSWORD = "correct horse battery staple"


class RecordingOutbox:
    """Collects what units of work publish (the event backbone installs the real outbox)."""

    def __init__(self) -> None:
        self.events: list[OutgoingEvent] = []

    def __call__(self, _uow: UnitOfWork, events: list[OutgoingEvent]) -> None:
        self.events.extend(events)

    def topics(self) -> list[str]:
        return [e.topic for e in self.events]


def fast_settings(settings: Settings) -> Settings:
    """argon2 far below production strength (``model_copy`` skips the settings' floors) so tests
    hash in about a millisecond; the algorithm and code path are the production ones."""
    return settings.model_copy(update={"argon2_memory_kib": 1024, "argon2_time_cost": 1})


def build_app(platform: Platform) -> tuple[FastAPI, RecordingOutbox]:
    outbox = RecordingOutbox()
    platform.db.outbox_writer = outbox
    return create_app(platform), outbox


def control_of(app: FastAPI) -> AccessControl:
    control: AccessControl = app.state.access
    return control


def https_client(app: FastAPI) -> TestClient:
    # Session cookies are Secure: the test client must speak https for the jar to send them back.
    return TestClient(app, base_url="https://testserver", raise_server_exceptions=False)


def create_account(control: AccessControl, tenant_id: uuid.UUID, new: NewAccount) -> uuid.UUID:
    with control.db.unit_of_work(tenant_id) as uow:
        return control.identity.create_account(uow, new).id


def audit_rows(platform: Platform, **where: Any) -> list[dict[str, Any]]:
    platform.audit.flush()  # allowed reads are group-committed by a background writer
    events = table_of(AuditEvent)
    query = select(events)
    for name, value in where.items():
        query = query.where(events.c[name] == value)
    with platform.db.connect() as connection:
        # id: a UUIDv7 given when the record is appended, so the order it was written in (seq counts per
        # chain, and records are spread over parallel chains).
        return [dict(r._mapping) for r in connection.execute(query.order_by(events.c.occurred_at, events.c.id))]


@dataclass
class Persona:
    name: str
    role: Role
    subject: str
    token: str
    account_id: uuid.UUID | None = None
    party_owner: str | None = None

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Caller:
    """Someone signed in for a test outside the identity tests: ``headers`` carries a bearer token
    minted at the clock's current time, so tests that move the clock stay signed in."""

    control: AccessControl
    subject: str
    tenant_id: uuid.UUID

    @property
    def headers(self) -> dict[str, str]:
        token, _ = self.control.tokens.issue(self.subject, self.tenant_id, self.control.clock.now())
        return {"Authorization": f"Bearer {token}"}


def sign_in_as(
    app: FastAPI,
    tenant_id: uuid.UUID,
    role: Role,
    *,
    party_id: uuid.UUID | None = None,
    group_account_id: uuid.UUID | None = None,
    npi: str | None = None,
) -> Caller:
    """A new account in ``role`` (a staff role, or a member / employer administrator / provider
    linked to ``party_id`` / ``group_account_id`` / ``npi``) and a way to call as it."""
    control = control_of(app)
    email = f"{role.value}.{uuid.uuid4().hex[:8]}@example.org"
    if role in STAFF_ROLES:
        new = NewAccount(AccountKind.STAFF, email, roles=frozenset({role}))
    else:
        new = NewAccount(AccountKind(role.value), email, party_id=party_id, group_account_id=group_account_id, npi=npi)
    return Caller(control, f"account:{create_account(control, tenant_id, new)}", tenant_id)


#: Whose data each non-staff persona may see (owner letters). Staff are checked against the rules.
ENTITLED: dict[str, frozenset[str]] = {
    "member_a": frozenset({"A", "C"}),
    "member_b": frozenset({"B"}),
    "member_d": frozenset({"D"}),
    "employer_1": frozenset({"A", "C", "D"}),
    "employer_2": frozenset({"B"}),
    "provider_1": frozenset({"A"}),
    "provider_2": frozenset({"B"}),
    "partner_1": frozenset({"A"}),
    "partner_2": frozenset({"B"}),
}


@dataclass
class World:
    platform: Platform
    app: FastAPI
    control: AccessControl
    tenant_id: uuid.UUID
    parties: dict[str, uuid.UUID]
    groups: dict[str, uuid.UUID]
    policies: dict[str, uuid.UUID] = field(default_factory=dict)
    """Owner letter → policy: A's covers A, C and D (group G1); B's covers B (group G2)."""
    names: dict[str, str] = field(default_factory=dict)
    """Owner letter → the person's family name (unique to this world: a marker of their data)."""
    member_numbers: dict[str, str] = field(default_factory=dict)
    personas: dict[str, Persona] = field(default_factory=dict)

    def persona(self, name: str) -> Persona:
        return self.personas[name]

    def owner_of_party(self, party_id: uuid.UUID) -> str:
        return next(letter for letter, p in self.parties.items() if p == party_id)

    def token_for(self, subject: str) -> str:
        token, _ = self.control.tokens.issue(subject, self.tenant_id, self.platform.clock.now())
        return token


def build_world(platform: Platform, app: FastAPI, tenant_id: uuid.UUID) -> World:
    control = control_of(app)
    world = _enrolled_world(platform, app, control, tenant_id)
    parties, groups = world.parties, world.groups

    def add(name: str, role: Role, new: NewAccount, owner: str | None = None) -> None:
        account_id = create_account(control, tenant_id, new)
        subject = f"account:{account_id}"
        world.personas[name] = Persona(name, role, subject, world.token_for(subject), account_id, owner)

    for letter in ("A", "B", "D"):
        add(
            f"member_{letter.lower()}",
            Role.MEMBER,
            NewAccount(AccountKind.MEMBER, f"member.{letter.lower()}@example.org", party_id=parties[letter]),
            letter,
        )
    for number in ("1", "2"):
        add(
            f"employer_{number}",
            Role.EMPLOYER_ADMIN,
            NewAccount(AccountKind.EMPLOYER_ADMIN, f"hr{number}@example.org", group_account_id=groups[f"G{number}"]),
        )
    for number, npi in (("1", NPI_1), ("2", NPI_2)):
        add(
            f"provider_{number}",
            Role.PROVIDER,
            NewAccount(AccountKind.PROVIDER, f"office{number}@example.org", npi=npi),
        )
    for role in sorted(STAFF_ROLES):
        queues = frozenset({"Q1"}) if role is Role.CLAIMS_EXAMINER else frozenset()
        add(
            role.value,
            role,
            NewAccount(AccountKind.STAFF, f"{role.value}@plan.example.org", roles=frozenset({role}), queues=queues),
        )
    for number, npi in (("1", NPI_1), ("2", NPI_2)):
        with control.db.unit_of_work(tenant_id) as uow:
            created = control.identity.create_api_client(uow, f"Clearinghouse {number}", [npi])
        subject = f"client:{created.client_id}"
        world.personas[f"partner_{number}"] = Persona(
            f"partner_{number}", Role.TRADING_PARTNER, subject, world.token_for(subject)
        )
    return world


def register_person(db: Database, tenant_id: uuid.UUID, given: str, family: str, born: date) -> uuid.UUID:
    """A person in policy_admin (the party id a member account links to must exist)."""
    with db.unit_of_work(tenant_id) as uow:
        return policy_admin_service.register_individual(
            uow, IndividualCreate(given_name=given, family_name=family, birth_date=born)
        ).id


def _enrolled_world(platform: Platform, app: FastAPI, control: AccessControl, tenant_id: uuid.UUID) -> World:
    """People A–D, group accounts G1 and G2, A's policy (A, child C, spouse D) and B's, in the
    eligibility read model too. The events this publishes are not the test's: they are dropped."""
    tag = uuid.uuid4().hex[:8]
    names = {letter: f"{given[:3]}{tag}{letter}" for letter, given in GIVEN_NAMES.items()}
    parties = {
        letter: register_person(platform.db, tenant_id, GIVEN_NAMES[letter], names[letter], BIRTH_DATES[letter])
        for letter in "ABCD"
    }
    world = World(platform, app, control, tenant_id, parties, {}, names=names)
    catalog = PlansCatalog()
    with platform.db.unit_of_work(tenant_id) as uow:
        for name, text in plans_service.demo_documents():
            if name == "employer-ppo.yaml":
                plans_service.load_text(uow, text, "yaml", plans_service.limits_from_settings(platform.settings))
        for number in ("1", "2"):
            world.groups[f"G{number}"] = policy_admin_service.open_account(
                uow, kind="GROUP", name=f"Group {number} {tag}", currency="USD"
            ).id
        for letter, group, dependents in (
            (
                "A",
                "G1",
                [
                    DependentCreate(party_id=parties["C"], relationship=Relationship.CHILD),
                    DependentCreate(party_id=parties["D"], relationship=Relationship.SPOUSE),
                ],
            ),
            ("B", "G2", []),
        ):
            world.policies[letter] = enrollment_service.enroll(
                uow,
                EnrollmentCreate(
                    market=Market.GROUP,
                    account_id=world.groups[group],
                    subscriber_party_id=parties[letter],
                    plan_code=WORLD_PLAN,
                    effective_date=COVERAGE_START,
                    dependents=dependents,
                ),
                catalog,
            ).id
    with platform.db.unit_of_work(tenant_id) as uow:
        for policy_id in world.policies.values():
            eligibility_service.sync_policy(uow, policy_id)
            for fact in enrollment_public.coverage_facts(uow, policy_id):
                world.member_numbers[world.owner_of_party(fact.party_id)] = fact.member_number
    if isinstance(platform.db.outbox_writer, RecordingOutbox):
        platform.db.outbox_writer.events.clear()
    return world


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return fast_settings(settings)


@pytest.fixture
def app_and_outbox(platform: Platform) -> tuple[FastAPI, RecordingOutbox]:
    return build_app(platform)


@pytest.fixture
def app(app_and_outbox: tuple[FastAPI, RecordingOutbox]) -> FastAPI:
    return app_and_outbox[0]


@pytest.fixture
def outbox(app_and_outbox: tuple[FastAPI, RecordingOutbox]) -> RecordingOutbox:
    return app_and_outbox[1]


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with https_client(app) as test_client:
        yield test_client


@pytest.fixture
def control(app: FastAPI) -> AccessControl:
    return control_of(app)


@pytest.fixture
def world(platform: Platform, app: FastAPI, tenant_id: uuid.UUID) -> World:
    return build_world(platform, app, tenant_id)
