"""Objects of every resource kind, owned by the world's people, for the access matrix.

``RESOURCE_FIXTURES`` maps a resource kind to a function that creates (or lists) objects of that
kind belonging to owners A, B, C and D of ``tests/support/identity.py`` and returns them with the
strings of personal data ("markers") that must never appear in a response to anyone else.

When a router with a new resource kind is mounted, the access matrix fails until a fixture for
that kind is added here: create one object per owner through the domain's own service or
factory, with distinctive markers (names, addresses, diagnosis text) in it.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from olly.billing import repository as billing_repository
from olly.billing import service as billing_service
from olly.billing.rules import PaymentMethod
from olly.claims import appeals as appeals_service
from olly.claims import prior_auth as prior_auth_service
from olly.claims.events import ClaimDenied
from olly.consent import service as consent_service
from olly.edi import service as edi_service
from olly.edi.ports import Links
from olly.edi.testing import professional_claims_text, sample_remittance
from olly.kernel.money import Money
from olly.kernel.periods import DatePeriod, end_of_month
from olly.notifications import rules as notifications_rules
from olly.notifications import service as notifications_service
from olly.platform.auth.roles import Role
from tests.integration.bus.helpers import dead_letter
from tests.integration.edi.helpers import FakeRemittances
from tests.support.identity import NPI_1, NPI_2, World


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
    prior_auths: list[Owned] = field(default_factory=list)
    appeals: list[Owned] = field(default_factory=list)
    notifications: list[Owned] = field(default_factory=list)


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
    _seed_prior_auths_and_appeals(world, seeded)
    _seed_notifications(world, seeded)
    return seeded


def _seed_notifications(world: World, seeded: Seeded) -> None:
    """One inbox message per person, its amount the marker (sealed at rest, shown only to its owner)."""
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        for letter, party in world.parties.items():
            amount = f"{uuid.uuid4().int % 90000 + 10000}.{letter.encode()[0] % 100:02d}"
            notice = notifications_rules.Notice("PAYMENT_RECEIVED", {"amount": f"{amount} USD"}, "/invoices")
            made = notifications_service.notify(
                uow, party, notice, topic="billing.payment.received", event_id=uuid.uuid4()
            )
            assert made is not None
            seeded.notifications.append(Owned(letter, str(made.id), (amount,)))


#: Who requested each owner's prior authorisation: P1 for A, P2 for B, a third practice for C and D
#: (so provider 1, entitled to A only, has no relation to C's or D's requests).
REQUESTING_NPI = {"A": NPI_1, "B": NPI_2, "C": "1987654328", "D": "1987654328"}


def _seed_prior_auths_and_appeals(world: World, seeded: Seeded) -> None:
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        now = uow.clock.now()
        for letter, party in world.parties.items():
            tag = uuid.uuid4().hex[:10]
            notes = f"Clinical notes {letter} {tag}: knee instability"
            request = prior_auth_service.submit_request(
                uow,
                prior_auth_service.PriorAuthRequestData(
                    member_id=party,
                    requesting_provider_id=uuid.uuid4(),
                    requesting_npi=REQUESTING_NPI[letter],
                    services=(prior_auth_service.RequestedService("27447", 1),),
                    service_from=now.date(),
                    service_to=now.date() + timedelta(days=30),
                    clinical_notes=notes,
                ),
            )
            seeded.prior_auths.append(Owned(letter, str(request.request.id), (notes,)))
            claim_id = uuid.uuid4()
            denial = ClaimDenied(
                claim_id=claim_id,
                member_id=party,
                provider_id=uuid.uuid4(),
                denial_reason_code="CO-197",
                denial_reason_text="Required prior authorization not on file",
                appeal_deadline=now.date() + timedelta(days=180),
                adjudicated_at=now,
            )
            appeals_service.record_adjudication(uow, uuid.uuid4(), denial.wire())
            reason = f"Appeal reason {letter} {tag}: the surgery was urgent"
            appeal = appeals_service.file_appeal(
                uow, appeals_service.AppealFiling(claim_id, "test", reason, f"documents/{tag}.pdf")
            )
            seeded.appeals.append(Owned(letter, str(appeal.id), (reason,)))


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


def edi_files(world: World, seeded: Seeded) -> list[Owned]:
    """An 837 from a clearinghouse acting for P1 (the "A side") and one for P2 (the "B side"); the
    patient's name in each file is its marker (the raw file is downloadable)."""
    objects = []
    for side, npi, sender in (("A", NPI_1, "SUBMITTERA"), ("B", NPI_2, "SUBMITTERB")):
        marker = f"EDI{side}{uuid.uuid4().hex[:8].upper()}"
        text = (
            professional_claims_text(1)
            .replace("ZZ*SUBMITTER      ", f"ZZ*{sender:<15}")
            .replace("*DOE*", f"*{marker}*")
        )
        with world.platform.db.unit_of_work(world.tenant_id) as uow:
            edi_service.save_partner(
                uow,
                edi_service.PartnerSettings(
                    code=sender,
                    name=f"Clearinghouse {side}",
                    kind="CLEARINGHOUSE",
                    interchange_qualifier="ZZ",
                    interchange_id=sender,
                    provider_ids=(npi,),
                ),
            )
            result = edi_service.ingest(uow, text.encode(), source="api")
        objects.append(Owned(side, str(result.file_id), (marker,)))
    return objects


def remittances(world: World, seeded: Seeded) -> list[Owned]:
    """One payment run paying P1 (the "A side") and P2 (the "B side"): an 835 each, the payee's
    name in each file its marker (the provider portal downloads an 835 by its id)."""
    run_id = f"RUN-{uuid.uuid4().hex[:12]}"
    markers = {side: f"PAYEE{side}{uuid.uuid4().hex[:8].upper()}" for side in ("A", "B")}
    advice = []
    for side, npi in (("A", NPI_1), ("B", NPI_2)):
        sample = sample_remittance(npi)
        advice.append(dataclasses.replace(sample, payee=dataclasses.replace(sample.payee, name=markers[side])))
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        written = edi_service.remit(uow, run_id, Links(remittances=FakeRemittances(run_id, advice)))
        return [Owned(side, str(f.id), (markers[side],)) for side, f in zip(("A", "B"), written, strict=True)]


def people(world: World, seeded: Seeded) -> list[Owned]:
    """Members, and the eligibility of members, by party id (A, C, D in G1; B in G2)."""
    return _with_markers([Owned(letter, str(party)) for letter, party in world.parties.items()], seeded)


def policies(world: World, seeded: Seeded) -> list[Owned]:
    # A's policy covers A, child C and adult spouse D: the subscriber alone may not read it whole.
    return _with_markers([Owned(letter, str(policy)) for letter, policy in world.policies.items()], seeded)


def cobra_notices(world: World, seeded: Seeded) -> list[Owned]:
    """A COBRA election notice per person (a case on their group policy with its sealed letter, which
    names them: the name is the marker). Written directly: recording a qualifying event would end
    the world's group cover for every other probe."""
    from olly.enrollment import letters
    from olly.enrollment.models import CobraCase
    from olly.enrollment.rules import CobraEvent
    from olly.kernel.ids import uuid7

    relationships = {"A": "SELF", "B": "SELF", "C": "CHILD", "D": "SPOUSE"}
    owned = []
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        today = uow.clock.today()
        for letter, party in world.parties.items():
            group = world.policies["B" if letter == "B" else "A"]
            notice = letters.ElectionNotice(
                beneficiary_name=world.names[letter],
                notice_date=today,
                event=CobraEvent.TERMINATION,
                event_date=today,
                plan_code="MATRIX",
                loss_date=today + timedelta(days=30),
                election_deadline=today + timedelta(days=90),
                continuation_end=today + timedelta(days=540),
                currency="USD",
                premium_alone_minor=61200,
                premium_together_minor=None,
                offered_together=1,
            )
            case = CobraCase(
                id=uuid7(),
                group_policy_id=group,
                party_id=party,
                relationship=relationships[letter],
                qualifying_event="TERMINATION",
                event_date=today,
                loss_date=notice.loss_date,
                notice_date=today,
                election_deadline=notice.election_deadline,
                continuation_end=notice.continuation_end,
                status="OFFERED",
                cobra_policy_id=None,
                elected_on=None,
                transaction_id=uuid7(),
                created_at=uow.clock.now(),
                notice_object_key=letters.store(uow, notice),
            )
            uow.session.add(case)
            owned.append(Owned(letter, str(case.id)))
    return _with_markers(owned, seeded)


def invoices(world: World, seeded: Seeded) -> list[Owned]:
    """This month's list bills: G1's (A's group, owner A) and G2's (B's)."""
    today = world.platform.clock.today()
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        billing_service.run_billing(uow, DatePeriod(today.replace(day=1), end_of_month(today)))
        found = {
            row.account_id: row.id
            for row in billing_repository.BillingRepository(uow).invoices(list(world.groups.values()))
        }
    return _with_markers([Owned(o, str(found[world.groups[g]])) for o, g in (("A", "G1"), ("B", "G2"))], seeded)


def payments(world: World, seeded: Seeded) -> list[Owned]:
    """A premium payment of each group: G1's (owner A) and G2's (owner B)."""
    owned = []
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        for owner, group in (("A", "G1"), ("B", "G2")):
            billing_service.billing_account(uow, world.groups[group], market="GROUP")
            paid = billing_service.record_payment(
                uow, world.groups[group], Money(12345, "USD"), PaymentMethod.ACH, f"matrix-{uuid.uuid4().hex[:12]}"
            )
            owned.append(Owned(owner, str(paid.id)))
    return _with_markers(owned, seeded)


def claims(world: World, seeded: Seeded) -> list[Owned]:
    """One adjudicated claim per person: A's from provider P1, B's from P2, C's and D's from a third NPI
    (so provider P1 sees only A's). Each has an EOB (nobody's coverage is in claims' read model: denied)."""
    from olly.claims import service as claims_service
    from olly.claims.schemas import ClaimCreate

    npis = {"A": NPI_1, "B": NPI_2, "C": "1000000004", "D": "1000000004"}
    owned = []
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        for letter, party in world.parties.items():
            body = ClaimCreate.model_validate(
                {
                    "claimType": "PROFESSIONAL",
                    "memberId": str(party),
                    "billingNpi": npis[letter],
                    "diagnoses": ["J06.9"],
                    "lines": [{"procedureCode": "99213", "charge": "150.00", "serviceDateFrom": "2026-01-10"}],
                }
            )
            claim_id = claims_service.submit(uow, body, source="TEST").claim_id
            claims_service.adjudicate_claim(uow, claim_id)
            claims_service.store_eob(uow, claim_id)  # what the EOB consumer does once this commits
            owned.append(Owned(letter, str(claim_id)))
    return _with_markers(owned, seeded)


def fee_schedules(world: World, seeded: Seeded) -> list[Owned]:
    """A fee schedule per provider: P1's contract prices with A's, P2's with B's. Its name and rate
    are markers (its code names it in the path, so refusals echo it): provider 1 reads A's schedule
    (200) and gets 404 for B's, and the list shows each provider its own only."""
    from olly.provider import rules as provider_rules
    from olly.provider import service as provider_service
    from tests.integration.provider.factories import individual

    owned = []
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        for letter, npi, amount in (("A", NPI_1, "417.29"), ("B", NPI_2, "523.81")):
            tag = uuid.uuid4().hex[:8].upper()
            code, name = f"FS-{letter}-{tag}", f"Matrix schedule {letter} {tag}"
            provider = provider_service.register_provider(uow, individual(npi=npi, last_name=f"Matrix{letter}"))
            provider_service.load_fee_schedule(
                uow,
                provider_service.FeeScheduleHeader(code, name, provider_rules.FeeScheduleKind.AMOUNT),
                provider_service.read_rate_csv(f"code,modifier,amount\n99213,,{amount}\n"),
            )
            provider_service.create_contract(
                uow,
                provider_service.ContractDraft(
                    provider.id, f"K-{tag}", "PPO", "TIER_1", world.platform.clock.today(), None, code
                ),
            )
            seeded.markers[letter] += [name, amount]
            owned.append(Owned(letter, code))
    return _with_markers(owned, seeded)


def payee_bank_accounts(world: World, seeded: Seeded) -> list[Owned]:
    """A bank account for P1's payee (the "A side") and P2's ("B side"), named by NPI in the path.
    Markers: the account number (never answered to anyone) and its masked last four digits as the
    answer spells them (provider 1 reads A's; B's is 404 to it)."""
    from olly.billing import bank_accounts
    from olly.provider import public as provider_public
    from olly.provider import service as provider_service
    from tests.integration.provider.factories import individual

    owned = []
    with world.platform.db.unit_of_work(world.tenant_id) as uow:
        for letter, npi in (("A", NPI_1), ("B", NPI_2)):
            found = provider_public.provider_by_npi(uow, npi)
            payee = found.provider_id if found else provider_service.register_provider(uow, individual(npi=npi)).id
            account = f"{uuid.uuid4().int % 10**12:012d}"
            bank_accounts.set_payee_bank(uow, payee, routing_number="021000021", account_number=account)
            seeded.markers[letter] += [account, f'"account_number_last4":"{account[-4:]}"']
            owned.append(Owned(letter, npi))
    return _with_markers(owned, seeded)


def group_accounts(world: World, seeded: Seeded) -> list[Owned]:
    # G1 is the group of A, C and D (owner "A" for the matrix); G2 is B's.
    return [Owned("A", str(world.groups["G1"])), Owned("B", str(world.groups["G2"]))]


RESOURCE_FIXTURES: dict[str, Callable[[World, Seeded], list[Owned]]] = {
    "party": parties,
    "account": accounts,
    "api_client": api_clients,
    "consent": lambda world, seeded: seeded.consents,
    "notification": lambda world, seeded: _with_markers(seeded.notifications, seeded),
    "deletion_request": lambda world, seeded: _with_markers(seeded.deletion_requests, seeded),
    "break_glass": lambda world, seeded: seeded.grants,
    "member": people,
    "eligibility": people,
    "enrollment": policies,
    "roster": group_accounts,
    "customer_account": group_accounts,
    "dead_letter": lambda world, seeded: seeded.dead_letters,
    "prior_auth": lambda world, seeded: _with_markers(seeded.prior_auths, seeded),
    # Appeals are filed on a claim's path (``/claims/{claim_id}/appeals``): the appeal resolver
    # resolves an appeal id there to the same owners as the claim it appeals.
    "appeal": lambda world, seeded: _with_markers(seeded.appeals, seeded),
    "invoice": invoices,
    "payment": payments,
    # Credentialing files are practitioners', not the world's members: none is owned by A-D, and the
    # collection probes check that no member's personal data leaks into a credentialing response.
    "credentialing": lambda world, seeded: [],
    "claim": claims,
    "eob": claims,
    "cobra_notice": cobra_notices,
    "edi_file": edi_files,
    "remittance": remittances,
    # The portal's ID card is the member's own (``SELF``): the world's people own it.
    "id_card": people,
    # Audit records name subjects and opaque ids, never the world's personal data: no owned object,
    # and the collection probes check that no marker leaks into a listing.
    "audit_log": lambda world, seeded: [],
    # Provider records likewise: their owners are NPIs, not A-D (provider self-service has its own
    # tests in tests/integration/provider/test_self_service.py).
    "provider": lambda world, seeded: [],
    # Fee schedules by code (``GET /fee-schedules/{code}``): P1's contract prices with A's, P2's with B's.
    "fee_schedule": fee_schedules,
    # Payee bank accounts by the payee's NPI (after fee schedules, which register P1 and P2).
    "payee_bank_account": payee_bank_accounts,
}

#: Values for path parameters that name no resource of the route's policy (plans are read by any
#: signed-in role: the plan code selects, the role decides).
PATH_VALUES: dict[str, str] = {
    "code": "OLLY-PPO-1000",
    "version": "1",
    # Provider registry, credentialing and contract routes name practitioners' records, not the
    # world's people: ids that exist nowhere, so an allowed staff role gets 404 and everyone else 403.
    **dict.fromkeys(
        (
            "provider_id",
            "request_id",
            "location_id",
            "licence_id",
            "affiliation_id",
            "sanction_id",
            "contract_id",
            "document_id",  # a credentialing document (``/credentialing-requests/{request_id}/documents/…``)
            "run_id",  # a claim payment run (billing, and the EDI 835 of it): staff only, not a member's record
            # an 834 audit's reconciliation (``/edi/files/{file_id}/reconciliation``, enrollment.read,
            # staff only); the routes that name the file itself (edi_file) take the seeded files instead
            "file_id",
            # an underwriting finding (``/enrollments/{policy_id}/underwriting-flags/{flag_id}/withdrawal``):
            # the policy is the seeded one, the finding exists nowhere, so underwriting staff get 404
            "flag_id",
        ),
        "00000000-0000-7000-8000-00000000dead",
    ),
    "npi": "1234567893",
    "item": "LICENCE",
    "line_number": "1",
}

#: Personas checked for cross-person refusals; staff are checked against the rules instead.
OWN_LETTER: dict[str, str] = {"member_a": "A", "member_b": "B", "member_d": "D"}
CROSS_CHECKED_ROLES = frozenset({Role.MEMBER, Role.EMPLOYER_ADMIN, Role.PROVIDER, Role.TRADING_PARTNER})
