"""Objects of every resource kind, owned by the world's people, for the access matrix.

``RESOURCE_FIXTURES`` maps a resource kind to a function that creates (or lists) objects of that
kind belonging to owners A, B, C and D of ``tests/support/identity.py`` and returns them with the
strings of personal data ("markers") that must never appear in a response to anyone else.

When a router with a new resource kind is mounted, the access matrix fails until a fixture for
that kind is added here: create one object per owner through the domain's own service or
factory, with distinctive markers (names, addresses, diagnosis text) in it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from olly.consent import service as consent_service
from olly.platform.auth.roles import Role
from tests.integration.bus.helpers import dead_letter
from tests.support.identity import World


@dataclass(frozen=True)
class Owned:
    owner: str
    resource_id: str
    markers: tuple[str, ...] = ()
    confidential: bool = False


@dataclass
class Seeded:
    """Personal data seeded for the matrix, by owner letter."""

    markers: dict[str, list[str]] = field(default_factory=dict)
    consents: list[Owned] = field(default_factory=list)
    deletion_requests: list[Owned] = field(default_factory=list)
    grants: list[Owned] = field(default_factory=list)
    dead_letters: list[Owned] = field(default_factory=list)


def seed(world: World) -> Seeded:
    seeded = Seeded({letter: [] for letter in world.parties})
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        for letter, party in world.parties.items():
            tag = uuid.uuid4().hex[:10]
            app_name = f"Pocket-{letter}-{tag}"
            shared = consent_service.grant_app_sharing(
                uow, party, f"app-{tag}", app_name, ["patient/*.read"], None, "test"
            )
            consent_service.set_communication_preferences(uow, party, {"email": True}, {"claims": True}, "test")
            seeded.markers[letter].append(app_name)
            seeded.consents.append(Owned(letter, str(shared.id), (app_name,)))
            if letter in ("C", "D"):
                address = f"{tag} Hidden Lane, Springfield"
                hidden = consent_service.request_confidential_communication(uow, party, {"address": address}, "test")
                seeded.markers[letter].append(address)
                seeded.consents.append(Owned(letter, str(hidden.id), (address,), confidential=True))
            if letter in ("A", "B", "D"):
                request = consent_service.file_deletion_request(
                    uow, party, "test", via="staff", verification_method="documents_checked"
                )
                seeded.deletion_requests.append(Owned(letter, str(request.id)))
    for persona, letter in (("claims_examiner", "A"), ("billing", "B")):
        reason = f"Member {letter} collapsed at reception; verifying allergy history {uuid.uuid4().hex[:8]}"
        account_id = world.persona(persona).account_id
        assert account_id is not None
        with world.platform.db.unit_of_work(world.tenant_id) as uow:
            grant = world.control.identity.open_break_glass(uow, account_id, reason, world.parties[letter], 30)
        seeded.grants.append(Owned(letter, str(grant.id), (reason,)))
        seeded.markers[letter].append(reason)
    for letter in ("A", "B", "D"):
        seeded.markers[letter].append(f"member.{letter.lower()}@example.org")
    for letter in world.parties:
        # The world's people are real: their names and member numbers must never reach anyone else.
        seeded.markers[letter] += [world.names[letter], world.member_numbers[letter]]
    seeded.dead_letters.append(Owned("A", str(dead_letter(world.platform, world.tenant_id, world.policies["A"]))))
    return seeded


def _with_markers(objects: list[Owned], seeded: Seeded) -> list[Owned]:
    return [Owned(o.owner, o.resource_id, (*o.markers, *seeded.markers[o.owner]), o.confidential) for o in objects]


def parties(world: World, seeded: Seeded) -> list[Owned]:
    return _with_markers([Owned(letter, str(party)) for letter, party in world.parties.items()], seeded)


def accounts(world: World, seeded: Seeded) -> list[Owned]:
    return _with_markers(
        [Owned(letter, str(world.persona(f"member_{letter.lower()}").account_id)) for letter in ("A", "B", "D")],
        seeded,
    )


def api_clients(world: World, seeded: Seeded) -> list[Owned]:
    # Partner 1 submits for provider P1 (the "A side"), partner 2 for P2 (the "B side").
    return [
        Owned(side, world.persona(name).subject.removeprefix("client:"))
        for side, name in (("A", "partner_1"), ("B", "partner_2"))
    ]


def people(world: World, seeded: Seeded) -> list[Owned]:
    """Members, and the eligibility of members, by party id (A, C, D in G1; B in G2)."""
    return _with_markers([Owned(letter, str(party)) for letter, party in world.parties.items()], seeded)


def policies(world: World, seeded: Seeded) -> list[Owned]:
    # A's policy covers A, child C and adult spouse D: the subscriber alone may not read it whole.
    return _with_markers([Owned(letter, str(policy)) for letter, policy in world.policies.items()], seeded)


def group_accounts(world: World, seeded: Seeded) -> list[Owned]:
    # G1 is the group of A, C and D (owner "A" for the matrix); G2 is B's.
    return [Owned("A", str(world.groups["G1"])), Owned("B", str(world.groups["G2"]))]


RESOURCE_FIXTURES: dict[str, Callable[[World, Seeded], list[Owned]]] = {
    "party": parties,
    "account": accounts,
    "api_client": api_clients,
    "consent": lambda world, seeded: seeded.consents,
    "deletion_request": lambda world, seeded: _with_markers(seeded.deletion_requests, seeded),
    "break_glass": lambda world, seeded: seeded.grants,
    "member": people,
    "eligibility": people,
    "enrollment": policies,
    "roster": group_accounts,
    "customer_account": group_accounts,
    "dead_letter": lambda world, seeded: seeded.dead_letters,
    # Credentialing files are practitioners', not the world's members: none is owned by A-D, and the
    # collection probes check that no member's personal data leaks into a credentialing response.
    "credentialing": lambda world, seeded: [],
    # Provider records likewise: their owners are NPIs, not A-D (provider self-service has its own
    # tests in tests/integration/provider/test_self_service.py).
    "provider": lambda world, seeded: [],
}

#: Values for path parameters that name no resource of the route's policy (plans are read by any
#: signed-in role: the plan code selects, the role decides).
PATH_VALUES: dict[str, str] = {
    "code": "OLLY-PPO-1000",
    "version": "1",
    # Provider registry, credentialing and contract routes name practitioners' records, not the
    # world's people: ids that exist nowhere, so an allowed staff role gets 404 and everyone else 403.
    **dict.fromkeys(
        ("provider_id", "request_id", "location_id", "licence_id", "affiliation_id", "sanction_id", "contract_id"),
        "00000000-0000-7000-8000-00000000dead",
    ),
    "npi": "1234567893",
    "item": "LICENCE",
}

#: Personas checked for cross-person refusals; staff are checked against the rules instead.
OWN_LETTER: dict[str, str] = {"member_a": "A", "member_b": "B", "member_d": "D"}
CROSS_CHECKED_ROLES = frozenset({Role.MEMBER, Role.EMPLOYER_ADMIN, Role.PROVIDER, Role.TRADING_PARTNER})
