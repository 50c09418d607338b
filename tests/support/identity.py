"""Identity test support: an app on the per-test platform, and a world of people in every role.

The world (``World``) holds two households in two employer groups served by two providers:

* party A — a member (subscriber) in group G1, with a minor child C and an adult dependent D;
* party B — an unrelated member in group G2;
* providers P1 and P2 (NPIs), a portal user and a trading-partner client each;
* one staff account per staff role (the examiner works queue Q1).

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
from olly.kernel.events import OutgoingEvent
from olly.platform.audit import AuditEvent
from olly.platform.auth.access import AccessControl
from olly.platform.auth.resolvers import InMemoryHousehold, InMemoryResolver
from olly.platform.auth.roles import STAFF_ROLES, AccountKind, Role
from olly.platform.auth.rules import ResourceFacts
from olly.platform.auth.service import NewAccount
from olly.platform.db import UnitOfWork, table_of
from olly.platform.runtime import Platform

NPI_1 = "1234567893"
NPI_2 = "1245319508"
CHILD_BIRTH = date(2015, 5, 1)
ADULT_DEPENDENT_BIRTH = date(2000, 1, 1)
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
    events = table_of(AuditEvent)
    query = select(events)
    for name, value in where.items():
        query = query.where(events.c[name] == value)
    with platform.db.connect() as connection:
        return [dict(r._mapping) for r in connection.execute(query.order_by(events.c.occurred_at, events.c.seq))]


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
    personas: dict[str, Persona] = field(default_factory=dict)
    party_facts: InMemoryResolver = field(default_factory=InMemoryResolver)
    household: InMemoryHousehold = field(default_factory=InMemoryHousehold)

    def persona(self, name: str) -> Persona:
        return self.personas[name]

    def owner_of_party(self, party_id: uuid.UUID) -> str:
        return next(letter for letter, p in self.parties.items() if p == party_id)

    def token_for(self, subject: str) -> str:
        token, _ = self.control.tokens.issue(subject, self.tenant_id, self.platform.clock.now())
        return token


def group_of(letter: str) -> str:
    return "G2" if letter == "B" else "G1"


def build_world(platform: Platform, app: FastAPI, tenant_id: uuid.UUID) -> World:
    control = control_of(app)
    parties = {letter: uuid.uuid4() for letter in "ABCD"}
    groups = {"G1": uuid.uuid4(), "G2": uuid.uuid4()}
    world = World(platform, app, control, tenant_id, parties, groups)

    for letter, party in parties.items():
        world.party_facts.add(
            ResourceFacts(
                kind="party",
                resource_id=str(party),
                party_ids=frozenset({party}),
                group_account_ids=frozenset({groups[group_of(letter)]}),
            )
        )
    control.resolvers.register("party", world.party_facts, replace=True)
    world.household.add(parties["A"], parties["C"], CHILD_BIRTH)
    world.household.add(parties["A"], parties["D"], ADULT_DEPENDENT_BIRTH)
    control.resolvers.set_household(world.household)

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
