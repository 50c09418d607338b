"""A deletion request finds a person's party record, roles and group registrations; the party moves
to the request's pseudonym with nothing identifying, so what other domains keep under the pseudonym
still names a party that exists. Last, a whole request across enrollment and policy_admin, in one
transaction (the foreign keys are checked statement by statement on PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select

from olly.consent import service as consent
from olly.enrollment import public as enrollment
from olly.enrollment.personal_data import EnrollmentPersonalData
from olly.kernel.clock import FixedClock
from olly.platform.personal_data import DataSubject, PersonalDataRegistry, RecordCategory
from olly.platform.runtime import Platform
from olly.policy_admin import public as people
from olly.policy_admin import service
from olly.policy_admin.models import Account, Party, PartyGroupRegistration, PartyRole
from olly.policy_admin.personal_data import PSEUDONYMISED_NAME, PolicyAdminPersonalData
from olly.policy_admin.schemas import Address, IndividualCreate
from tests.factories import FakePlans
from tests.integration.enrollment.cobra_support import at, elect, end_employment

PSEUDONYM = uuid.UUID("01900000-0000-7000-8000-0000000000ff")
BORN = date(1984, 7, 9)


def okafor(given: str, ssn: str) -> IndividualCreate:
    """A person of the Okafor family, all born the same day: only the given name and SSN differ."""
    return IndividualCreate(
        given_name=given,
        family_name="Okafor",
        birth_date=BORN,
        gender="F",
        ssn=ssn,
        address=Address(line1="12 Elm Street", city="Dayton", region="OH", postal_code="45402"),
        phone="+1 937 555 0100",
        email=f"{given.lower()}@example.org",
    )


def naming(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID) -> dict[str, int]:
    """How many rows of each policy_admin table hold this party id."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:

        def count(column: Any) -> int:
            return int(uow.session.scalar(select(func.count()).where(column == party_id)) or 0)

        return {
            "parties": count(Party.id),
            "accounts": count(Account.party_id),
            "party_roles": count(PartyRole.party_id),
            "party_group_registrations": count(PartyGroupRegistration.party_id),
        }


def everything_of(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID) -> tuple[Any, ...]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        session = uow.session
        return (
            people.individual(uow, party_id),
            sorted(str(a) for a in session.scalars(select(Account.id).where(Account.party_id == party_id))),
            sorted(
                (str(r.id), r.role) for r in session.scalars(select(PartyRole).where(PartyRole.party_id == party_id))
            ),
            sorted(
                str(g)
                for g in session.scalars(
                    select(PartyGroupRegistration.group_account_id).where(PartyGroupRegistration.party_id == party_id)
                )
            ),
        )


def ana_and_a_stranger(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> dict[str, uuid.UUID]:
    """Ana registered on 3 November 2025 with a household account; Sam (the stranger, same family
    name and birth date) likewise. On 1 December an employer's administrator registered both, and
    each became the subscriber of their household from 1 January 2026."""
    clock.set(datetime(2025, 11, 3, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        ana = service.register_individual(uow, okafor("Ana", "123-45-6789")).id
        sam = service.register_individual(uow, okafor("Sam", "234-56-7890")).id
        employer = service.open_account(uow, kind="GROUP", name="Acme Tools", currency="USD").id
        household = service.open_account(uow, kind="HOUSEHOLD", name="", currency="USD", party_id=ana).id
        sams_household = service.open_account(uow, kind="HOUSEHOLD", name="", currency="USD", party_id=sam).id
    clock.set(datetime(2025, 12, 1, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        service.register_for_groups(uow, ana, [employer])
        service.register_for_groups(uow, sam, [employer])
        role = service.assign_role(
            uow, party_id=ana, account_id=household, role="SUBSCRIBER", effective_from=date(2026, 1, 1)
        ).id
        service.assign_role(
            uow, party_id=sam, account_id=sams_household, role="SUBSCRIBER", effective_from=date(2026, 1, 1)
        )
    clock.set(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    return {"ana": ana, "sam": sam, "employer": employer, "household": household, "role": role}


def test_the_party_moves_to_the_pseudonym_and_keeps_nothing_identifying(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    ids = ana_and_a_stranger(platform, tenant_id, clock)
    ana, sam = ids["ana"], ids["sam"]
    sams = everything_of(platform, tenant_id, sam)
    handler = PolicyAdminPersonalData()
    subject = DataSubject(tenant_id, ana, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        items = handler.find(uow, subject)
    # the role still runs, so its retention has not begun: it is dated today
    assert [(i.record_type, i.record_id, i.category, i.record_date) for i in items] == [
        ("person", str(ana), RecordCategory.CONTACT, date(2025, 11, 3)),
        ("party_role", str(ids["role"]), RecordCategory.ENROLLMENT, date(2026, 1, 15)),
        ("group_registration", str(ids["employer"]), RecordCategory.OTHER, date(2025, 12, 1)),
    ]
    with platform.db.unit_of_work(tenant_id) as uow:  # as a request does: what is kept first, then the rest
        handler.pseudonymise(uow, subject, [items[1]])
        handler.delete(uow, subject, [items[0], items[2]])

    assert naming(platform, tenant_id, ana) == {
        "parties": 0,
        "accounts": 0,
        "party_roles": 0,
        "party_group_registrations": 0,
    }
    assert naming(platform, tenant_id, PSEUDONYM) == {
        "parties": 1,
        "accounts": 1,
        "party_roles": 1,
        "party_group_registrations": 0,
    }
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = uow.session.get(Party, PSEUDONYM)
        assert row is not None
        assert (row.kind, row.display_name, row.created_at.date()) == (
            "INDIVIDUAL",
            PSEUDONYMISED_NAME,
            date(2025, 11, 3),
        )
        identifying = (row.given_name, row.family_name, row.birth_date, row.gender, row.ssn, row.national_id_scheme)
        contact = (row.address, row.phone, row.email, row.ssn_index, row.birth_date_index, row.family_name_index)
        assert identifying + contact == (None,) * 12
        # read as any other party: it resolves, and names nobody
        assert people.person(uow, PSEUDONYM) == people.PersonSummary(PSEUDONYM, PSEUDONYMISED_NAME, None)
        assert people.individual(uow, PSEUDONYM) == people.IndividualRecord(PSEUDONYM, "", "", None, None, None, None)
        assert people.person(uow, ana) is None
        # her SSN, family name and birth date find only the stranger now
        assert people.find_by_ssn(uow, "123456789") is None
        assert people.find_by_ssn(uow, "234567890") == sam
        assert [p.party_id for p in people.find_people(uow, family_name="okafor", birth_date=BORN)] == [sam]
        household = uow.session.get(Account, ids["household"])
        assert household is not None and household.party_id == PSEUDONYM
        assert [
            (r.id, r.role) for r in uow.session.scalars(select(PartyRole).where(PartyRole.party_id == PSEUDONYM))
        ] == [(ids["role"], "SUBSCRIBER")]
        assert people.registered_for_groups(uow, [ana, PSEUDONYM, sam], [ids["employer"]]) == frozenset({sam})
        assert handler.find(uow, subject) == []
    assert everything_of(platform, tenant_id, sam) == sams


def test_deleting_everything_leaves_the_pseudonym_row_the_accounts_point_at(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    ids = ana_and_a_stranger(platform, tenant_id, clock)
    sams = everything_of(platform, tenant_id, ids["sam"])
    handler = PolicyAdminPersonalData()
    subject = DataSubject(tenant_id, ids["ana"], PSEUDONYM)
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.delete(uow, subject, handler.find(uow, subject))

    assert naming(platform, tenant_id, ids["ana"]) == {
        "parties": 0,
        "accounts": 0,
        "party_roles": 0,
        "party_group_registrations": 0,
    }
    assert naming(platform, tenant_id, PSEUDONYM) == {
        "parties": 1,
        "accounts": 1,
        "party_roles": 0,
        "party_group_registrations": 0,
    }
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        summary = people.account(uow, ids["household"])
        assert summary is not None and summary.kind == "HOUSEHOLD"
    assert everything_of(platform, tenant_id, ids["sam"]) == sams


def test_a_deletion_request_across_enrollment_and_policy_admin(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    """Ana's group cover ended on 31 March 2026 and she elected continuation on 10 April, billed to a
    household account opened for her. Enrollment's handler runs first (domain order), then
    policy_admin's, in the request's one transaction."""
    ana, ben = family["ana"], family["ben"]
    group = end_employment(platform, tenant_id, plans, family, clock)
    at(clock, date(2026, 4, 10))
    cobra = elect(platform, tenant_id, plans, group, ana)
    registry = PersonalDataRegistry()
    registry.register(PolicyAdminPersonalData())
    registry.register(EnrollmentPersonalData())
    with platform.db.unit_of_work(tenant_id) as uow:
        request_id = consent.file_deletion_request(
            uow, ana, "test", via="staff", verification_method="documents_checked"
        ).id
    with platform.db.unit_of_work(tenant_id) as uow:
        done = consent.process_deletion_request(uow, request_id, registry, "privacy-officer")
        assert done.report is not None and done.pseudonym is not None
        report, pseudonym = done.report, uuid.UUID(done.pseudonym)

    assert report["domainsSearched"] == ["enrollment", "policy_admin"]
    assert [(i["domain"], i["recordType"], i["action"], i["retainUntil"]) for i in report["items"]] == [
        ("enrollment", "policy", "pseudonymised", "2032-03-31"),
        ("enrollment", "policy", "pseudonymised", "2032-12-31"),
        ("enrollment", "policy_member", "pseudonymised", "2032-03-31"),
        ("enrollment", "policy_member", "pseudonymised", "2032-12-31"),
        ("enrollment", "cobra_case", "pseudonymised", "2033-09-30"),
        ("policy_admin", "person", "deleted", None),
    ]
    assert naming(platform, tenant_id, ana) == {
        "parties": 0,
        "accounts": 0,
        "party_roles": 0,
        "party_group_registrations": 0,
    }
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        continuation = enrollment.policy(uow, cobra)
        assert continuation is not None and continuation.subscriber_party_id == pseudonym
        # what enrollment keeps names a party that exists, and the account it is billed to is its
        assert people.person(uow, pseudonym) == people.PersonSummary(pseudonym, PSEUDONYMISED_NAME, None)
        household = uow.session.get(Account, continuation.account_id)
        assert household is not None and (household.kind, household.party_id) == ("HOUSEHOLD", pseudonym)
        assert [f.party_id for f in enrollment.coverage_facts(uow, cobra)] == [pseudonym]
        assert enrollment.is_member(uow, ana) is False
        assert people.person(uow, ben) == people.PersonSummary(ben, "Ben Rivera", date(1986, 2, 11))
