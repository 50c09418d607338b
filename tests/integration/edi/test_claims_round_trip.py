"""837P → gateway → claims intake → adjudication (bus) → billing payment run → 835, and 276 → 277,
through the composition adapters (``olly/edi_links.py``), on SQLite and PostgreSQL.

Amounts: the demo PPO (office visit $25 copay, no deductible; surgery 20% after a $1,000 individual
/ $2,000 family deductible) and the seeded in-network fee schedule (99213 $100, 10060 $400, 29880
$2,000, 29881 $1,500)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from olly import edi_links
from olly.billing import service as billing
from olly.claims import models as claims_models
from olly.claims import public as claims
from olly.edi import service
from olly.edi.claims import ClaimSubmission
from olly.edi.inbound import transactions
from olly.edi.ports import EdiOrigin
from olly.edi.validate import validate
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.platform.runtime import Platform
from tests.factories import person
from tests.integration.claims.support import NPI_IN, PPO, drain, seed
from tests.integration.edi.helpers import register, reply, segments
from tests.unit.edi.pyx12_judge import judge
from tests.unit.edi.test_transactions import guide_problems

SENDER = "CLINIC1"
PAYER_BANK = ("011000015", "12345678")
CLINIC_BANK = ("021000021", "87654321")


def x12(control: str, body: list[str], *, functional: str = "HC", reference: str = "005010X222A1") -> bytes:
    segments_ = [
        f"ISA*00*          *00*          *ZZ*{SENDER:<15}*ZZ*{'OLLY':<15}*260115*0900*^*00501*{control}*0*P*:",
        f"GS*{functional}*{SENDER}*OLLY*20260115*0900*{int(control)}*X*{reference}",
        *body,
        f"GE*1*{int(control)}",
        f"IEA*1*{control}",
    ]
    return ("~\n".join(segments_) + "~\n").encode()


def subscriber(number: str, last: str, first: str, born: str, *, has_patient: bool = False) -> list[str]:
    return [
        f"SBR*P*{'' if has_patient else '18'}*GRP1******CI",
        f"NM1*IL*1*{last}*{first}****MI*{number}",
        f"DMG*D8*{born}*F",
        "NM1*PR*2*OLLY HEALTH*****PI*OLLY1",
    ]


def claim(claim_id: str, lines: list[tuple[str, str, str]], diagnoses: str = "ABK:J069") -> list[str]:
    total = sum(int(charge.replace(".", "")) for _, charge, _ in lines)
    body = [f"CLM*{claim_id}*{total // 100}.{total % 100:02d}***11:B:1*Y*A*Y*Y", f"HI*{diagnoses}"]
    for number, (code, charge, day) in enumerate(lines, start=1):
        body += [f"LX*{number}", f"SV1*HC:{code}*{charge}*UN*1***1", f"DTP*472*D8*{day}", f"REF*6R*{claim_id}-{number}"]
    return body


def claims_file(control: str, members: dict[str, str]) -> bytes:
    ana, ben = members["ana"], members["ben"]
    hl: list[str] = []
    count = 1

    def level(parent: str, code: str, child: str) -> str:
        nonlocal count
        count += 1
        return f"HL*{count}*{parent}*{code}*{child}"

    body = [
        "BHT*0019*00*BATCH1*20260115*0900*CH",
        "NM1*41*2*GOOD CLINIC*****46*CLINIC1",
        "PER*IC*BILLING DESK*TE*8005550100",
        "NM1*40*2*OLLY HEALTH*****46*OLLY",
        "HL*1**20*1",
        f"NM1*85*2*GOOD CLINIC*****XX*{NPI_IN}",
        "N3*10 CLINIC RD",
        "N4*ANYTOWN*PA*171110000",
        "REF*EI*123456789",
    ]
    # 1: Ana, office visit billed 150.00
    hl.append(level("1", "22", "0"))
    body += [hl[-1], *subscriber(ana, "RIVERA", "ANA", "19850520"), *claim("PCN-1", [("99213", "150.00", "20260105")])]
    # 2: Ben (Ana's spouse, a dependent under her member number), office visit billed 120.00
    sub = level("1", "22", "1")
    body += [sub, *subscriber(ana, "RIVERA", "ANA", "19850520", has_patient=True)]
    body += [
        level(sub.split("*")[1], "23", "0"),
        "PAT*01",
        "NM1*QC*1*RIVERA*BEN",
        "N3*1 MAIN ST",
        "N4*ANYTOWN*PA*171110000",
    ]
    body += ["DMG*D8*19860211*M"]
    body += claim("PCN-2", [("99213", "120.00", "20260106")])
    # 3: Ana, knee arthroscopy billed 2,500.00
    body += [level("1", "22", "0"), *subscriber(ana, "RIVERA", "ANA", "19850520")]
    body += claim("PCN-3", [("29880", "2500.00", "20260107")], "ABK:M2341")
    # 4: Ben with his own member number, arthroscopy billed 2,200.00
    body += [level("1", "22", "0"), *subscriber(ben, "RIVERA", "BEN", "19860211")]
    body += claim("PCN-4", [("29880", "2200.00", "20260108")], "ABK:M2341")
    # 5: Ana, two lines: office visit 100.00 and lesion drainage 450.00
    body += [level("1", "22", "0"), *subscriber(ana, "RIVERA", "ANA", "19850520")]
    body += claim("PCN-5", [("99213", "100.00", "20260109"), ("10060", "450.00", "20260109")], "ABK:L0291*ABF:J069")
    # 6: a member number nobody has: rejected in the 277CA, never lost
    body += [level("1", "22", "0"), *subscriber("NOSUCH999", "RIVERA", "ANA", "19850520")]
    body += claim("PCN-6", [("99213", "90.00", "20260109")])
    st = ["ST*837*0001*005010X222A1", *body]
    return x12(control, [*st, f"SE*{len(st) + 1}*0001"])


def status_inquiry(control: str, member: str, payer_claim_number: str, claim_id: str) -> bytes:
    body = [
        "ST*276*0001*005010X212",
        "BHT*0010*13*INQ1*20260120*0900",
        "HL*1**20*1",
        "NM1*PR*2*OLLY HEALTH*****PI*OLLY1",
        "HL*2*1*21*1",
        "NM1*41*2*GOOD CLINIC*****46*CLINIC1",
        "HL*3*2*19*1",
        f"NM1*1P*2*GOOD CLINIC*****XX*{NPI_IN}",
        "HL*4*3*22*0",
        "DMG*D8*19850520*F",
        f"NM1*IL*1*RIVERA*ANA****MI*{member}",
        "TRN*1*TRACE1",
        f"REF*1K*{payer_claim_number}",
        f"REF*EJ*{claim_id}",
        "AMT*T3*2500",
        "DTP*472*D8*20260107",
    ]
    return x12(control, [*body, f"SE*{len(body) + 1}*0001"], functional="HR", reference="005010X212")


@pytest.fixture
def members(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> dict[str, str]:
    """Ana (subscriber) and Ben (spouse) on a group policy of the demo PPO, in force from 2026-01-01,
    with the read models of eligibility and claims filled by the bus; their member numbers."""
    seed(platform, tenant_id)  # demo plans, claims' schedule and the in-network clinic
    clock.set(datetime(2025, 12, 10, 9, 0, tzinfo=UTC))
    ana = person(platform, tenant_id, "Ana", date(1985, 5, 20))
    ben = person(platform, tenant_id, "Ben", date(1986, 2, 11))
    with platform.db.unit_of_work(tenant_id) as uow:
        policy_id = enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=uuid.uuid4(),
                subscriber_party_id=ana,
                plan_code=PPO,
                effective_date=date(2026, 1, 1),
                dependents=[{"party_id": ben, "relationship": "SPOUSE"}],
            ),
            PlansCatalog(),
        ).id
    clock.set(datetime(2026, 1, 15, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        numbers = {f.party_id: f.member_number for f in enrollment_public.coverage_facts(uow, policy_id)}
    return {"ana": numbers[ana], "ben": numbers[ben], "ana_id": str(ana), "ben_id": str(ben)}


def claim_count(platform: Platform, tenant_id: uuid.UUID) -> int:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        return int(uow.session.scalar(select(func.count()).select_from(claims_models.Claim)) or 0)


def test_837_to_835_round_trip_through_claims_and_billing(
    platform: Platform, tenant_id: uuid.UUID, members: dict[str, str]
) -> None:
    links = edi_links.build_links(
        PlansCatalog(), PlanBenefitSource(), payer_bank=PAYER_BANK, payee_banks=lambda uow, payee: CLINIC_BANK
    )
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier=SENDER, provider_ids=[NPI_IN])
    data = claims_file("000000101", members)
    assert validate(data).accepted
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, data, source="cli", links=links)
    assert (result.status, result.claims_accepted, result.claims_rejected) == ("ACCEPTED", 5, 1)
    ids = [uuid.UUID(c.id) for c in result.created]
    assert len(ids) == 5
    ack = reply(result, "277CA")
    assert judge(ack) == []
    stcs = [s[1] for s in segments(ack, "STC")]
    assert stcs.count("A3:33:IL") == 1
    assert [s[2] for s in segments(ack, "REF") if s[1] == "1K"] == [str(i) for i in ids]

    # the same file again: the interchange is a duplicate (TA1 025) and no claim is created
    with platform.db.unit_of_work(tenant_id) as uow:
        again = service.ingest(uow, data, source="cli", links=links)
    assert again.claims_accepted == 0
    assert claim_count(platform, tenant_id) == 5
    # the intake itself is idempotent per transmission and position: a replay answers the first claim
    first = next(item for item in transactions(data, validate(data)) if isinstance(item, ClaimSubmission))
    where = first.origin
    origin = EdiOrigin(
        result.file_id,
        None,
        where.interchange_control_number,
        where.group_control_number,
        where.set_control_number,
        where.segment_number,
        where.offset,
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        replay = links.claims.submit(uow, first, origin)
    assert (replay.accepted, replay.claim_id) == (True, str(ids[0]))
    assert claim_count(platform, tenant_id) == 5

    # before adjudication a 276 is answered "accepted into adjudication" (A2:20)
    with platform.db.unit_of_work(tenant_id) as uow:
        early = service.ingest(
            uow, status_inquiry("000000104", members["ana"], str(ids[2]), "PCN-3"), source="api", links=links
        )
    assert segments(reply(early, "277"), "STC")[0][1:5] == ["A2:20", "20260115", "", "2500.00"]

    # adjudication through the bus
    drain(platform)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        details = [claims.remittance_detail(uow, claim_id) for claim_id in ids]
    assert all(d is not None for d in details)
    adjudicated = [
        (d.status, d.billed.amount, d.allowed.amount, d.paid.amount, d.patient_responsibility.amount)
        for d in details
        if d
    ]
    assert adjudicated == [
        ("APPROVED", 15000, 10000, 7500, 2500),  # copay 25.00, CO-45 50.00
        ("APPROVED", 12000, 10000, 7500, 2500),  # Ben: copay 25.00, CO-45 20.00
        ("APPROVED", 250000, 200000, 80000, 120000),  # deductible 1,000.00 then 20% of 1,000.00
        ("APPROVED", 220000, 200000, 80000, 120000),  # Ben: his 1,000.00 deductible, 20% of 1,000.00
        ("APPROVED", 55000, 50000, 39500, 10500),  # copay 25.00; 20% of 400.00 (deductible met)
    ]

    # billing pays the approved claims in a run; the gateway writes the 835
    with platform.db.unit_of_work(tenant_id) as uow:
        run = billing.run_claim_payments(uow)
        run_id = str(run.id)
        assert (run.payment_count, run.claim_count, run.total_minor) == (1, 5, 7500 + 7500 + 80000 + 80000 + 39500)
    with platform.db.unit_of_work(tenant_id) as uow:
        (remitted,) = service.remit(uow, run_id, links)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        text = service.file_content(uow, remitted.id)[1].decode()
    assert judge(text) == []
    (bpr,) = segments(text, "BPR")
    assert bpr[1:5] == ["I", "2145.00", "C", "ACH"]
    clps = segments(text, "CLP")
    assert [c[1:8] for c in clps] == [
        ["PCN-1", "1", "150.00", "75.00", "25.00", "12", str(ids[0])],
        ["PCN-2", "1", "120.00", "75.00", "25.00", "12", str(ids[1])],
        ["PCN-3", "1", "2500.00", "800.00", "1200.00", "12", str(ids[2])],
        ["PCN-4", "1", "2200.00", "800.00", "1200.00", "12", str(ids[3])],
        ["PCN-5", "1", "550.00", "395.00", "105.00", "12", str(ids[4])],
    ]
    assert [s[1:5] for s in segments(text, "CAS")][:2] == [["CO", "45", "50.00"], ["PR", "3", "25.00"]]
    assert [s[2] for s in segments(text, "REF") if s[1] == "6R"] == [
        "PCN-1-1",
        "PCN-2-1",
        "PCN-3-1",
        "PCN-4-1",
        "PCN-5-1",
        "PCN-5-2",
    ]
    assert segments(text, "PLB") == []

    # 276 for claim 3 → 277 with its real status (paid in the run above)
    with platform.db.unit_of_work(tenant_id) as uow:
        asked = service.ingest(
            uow, status_inquiry("000000102", members["ana"], str(ids[2]), "PCN-3"), source="api", links=links
        )
    answer = reply(asked, "277")
    assert guide_problems(answer) == []  # pyx12 ships no usable X212 map
    (stc,) = segments(answer, "STC")
    assert len(segments(text, "TRN")[0][2]) == 20  # billing's EFT trace: too long for STC09 (16)
    assert stc[1:] == ["F1:65", "20260115", "", "2500.00", "800.00", "20260115"]
    assert [s[1:] for s in segments(answer, "REF")] == [["1K", str(ids[2])], ["EJ", "PCN-3"]]

    # a claim number the provider does not bill under, or unknown: not found (A4:35)
    with platform.db.unit_of_work(tenant_id) as uow:
        unknown = service.ingest(
            uow, status_inquiry("000000103", members["ana"], str(uuid.uuid4()), "PCN-9"), source="api", links=links
        )
    assert segments(reply(unknown, "277"), "STC")[0][1] == "A4:35"


def replacement_file(control: str, members: dict[str, str], original: uuid.UUID) -> bytes:
    """Claim PCN-3 sent again as a replacement (CLM05-3 7, REF*F8 the payer's number) with one more
    line, and a claim dated after today (the intake refuses it)."""
    ana = members["ana"]
    body = [
        "BHT*0019*00*BATCH2*20260115*0900*CH",
        "NM1*41*2*GOOD CLINIC*****46*CLINIC1",
        "PER*IC*BILLING DESK*TE*8005550100",
        "NM1*40*2*OLLY HEALTH*****46*OLLY",
        "HL*1**20*1",
        f"NM1*85*2*GOOD CLINIC*****XX*{NPI_IN}",
        "N3*10 CLINIC RD",
        "N4*ANYTOWN*PA*171110000",
        "REF*EI*123456789",
        "HL*2*1*22*0",
        *subscriber(ana, "RIVERA", "ANA", "19850520"),
    ]
    replacement = claim("PCN-3", [("29880", "2500.00", "20260107"), ("99213", "150.00", "20260107")], "ABK:M2341")
    replacement[0] = replacement[0].replace("11:B:1", "11:B:7")
    body += [replacement[0], f"REF*F8*{original}", *replacement[1:]]
    body += ["HL*3*1*22*0", *subscriber(ana, "RIVERA", "ANA", "19850520")]
    body += claim("PCN-7", [("99213", "90.00", "20260301")])
    st = ["ST*837*0001*005010X222A1", *body]
    return x12(control, [*st, f"SE*{len(st) + 1}*0001"])


def test_a_replacement_is_remitted_with_the_reversal_of_the_claim_it_replaces(
    platform: Platform, tenant_id: uuid.UUID, members: dict[str, str]
) -> None:
    links = edi_links.build_links(PlansCatalog(), PlanBenefitSource())
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier=SENDER, provider_ids=[NPI_IN])
    with platform.db.unit_of_work(tenant_id) as uow:
        first = service.ingest(uow, claims_file("000000201", members), source="cli", links=links)
    original = uuid.UUID(first.created[2].id)  # PCN-3: 29880 billed 2,500.00, paid 800.00
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:
        billing.run_claim_payments(uow)

    data = replacement_file("000000202", members, original)
    with platform.db.unit_of_work(tenant_id) as uow:
        second = service.ingest(uow, data, source="cli", links=links)
    assert (second.claims_accepted, second.claims_rejected) == (1, 1)
    ack = reply(second, "277CA")
    assert judge(ack) == []
    assert [s[1] for s in segments(ack, "STC")][-1] == "A7:187"
    (replacement,) = [uuid.UUID(c.id) for c in second.created]
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:
        run = billing.run_claim_payments(uow)
    with platform.db.unit_of_work(tenant_id) as uow:
        (remitted,) = service.remit(uow, str(run.id), links)
        text = service.file_content(uow, remitted.id)[1].decode()
    assert judge(text) == []
    assert [c[1:8] for c in segments(text, "CLP")] == [
        ["PCN-3", "22", "-2500.00", "-800.00", "-1200.00", "12", str(original)],
        ["PCN-3", "1", "2650.00", "875.00", "1225.00", "12", str(replacement)],
    ]
    # Billing takes back the 800.00 it paid for the original (claims.claim.reversed) from the
    # replacement's 875.00: the payment is 75.00, which the 835's claims add up to (-800.00 + 875.00),
    # so no provider-level adjustment is needed.
    assert run.total_minor == 7500
    (bpr,) = segments(text, "BPR")
    assert bpr[1:5] == ["I", "75.00", "C", "CHK"]  # an EFT without bank numbers: a cheque advice
    assert segments(text, "PLB") == []  # the replaced claim's payment was taken back by billing


def test_a_provider_partner_cannot_bill_under_another_npi(
    platform: Platform, tenant_id: uuid.UUID, members: dict[str, str]
) -> None:
    links = edi_links.build_links(PlansCatalog(), PlanBenefitSource())
    register(
        platform, tenant_id, "OTHER", kind="PROVIDER", qualifier="ZZ", identifier=SENDER, provider_ids=["1245319508"]
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, claims_file("000000301", members), source="cli", links=links)
    assert (result.claims_accepted, result.claims_rejected) == (0, 6)
    ack = reply(result, "277CA")
    assert judge(ack) == []
    assert [s[1] for s in segments(ack, "STC") if s[1].startswith("A7")] == ["A7:562:85"] * 6
    assert claim_count(platform, tenant_id) == 0


def test_claims_sent_to_the_intake_in_chunks_are_answered_in_file_order(
    platform: Platform, tenant_id: uuid.UUID, members: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunks of two: the member nobody has (PCN-6) is refused alone in the last chunk, the others kept.
    monkeypatch.setattr(service, "_CLAIM_CHUNK", 2)
    links = edi_links.build_links(PlansCatalog(), PlanBenefitSource())
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier=SENDER, provider_ids=[NPI_IN])
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, claims_file("000000111", members), source="cli", links=links)
    assert (result.status, result.claims_accepted, result.claims_rejected) == ("ACCEPTED", 5, 1)
    ack = reply(result, "277CA")
    assert judge(ack) == []
    answered, claim_number = [], None
    for segment in ack.replace("\n", "").split("~"):
        parts = segment.split("*")
        if parts[0] == "TRN" and parts[2].startswith("PCN-"):
            claim_number = parts[2]
        elif parts[0] == "STC" and claim_number is not None:
            answered.append((claim_number, parts[1]))
            claim_number = None
    assert [number for number, _ in answered] == [f"PCN-{n}" for n in range(1, 7)]
    assert [status for number, status in answered if status.startswith("A3")] == ["A3:33:IL"]
    assert answered[5] == ("PCN-6", "A3:33:IL")
    assert [s[2] for s in segments(ack, "REF") if s[1] == "1K"] == [c.id for c in result.created]
    assert [c.segment_number for c in result.created] == sorted(c.segment_number for c in result.created)
    assert claim_count(platform, tenant_id) == 5
