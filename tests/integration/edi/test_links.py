"""834 → enrollment and 270 → eligibility → 271 end to end, through the composition adapters."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from olly import edi_links
from olly.edi import service
from olly.edi.models import PendingTransaction
from olly.edi.validate import validate
from olly.eligibility import service as eligibility
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.models import Policy
from olly.platform.runtime import Platform
from tests.factories import ACCOUNT, PPO, FakePlans
from tests.integration.edi.helpers import register, reply, segments
from tests.integration.eligibility.test_eligibility import FakeBenefits


def envelope(sender: str, functional: str, reference: str, control: str, body: list[str]) -> bytes:
    segments_ = [
        f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*{'OLLY':<15}*260115*0900*^*00501*{control}*0*P*:",
        f"GS*{functional}*{sender}*OLLY*20260115*0900*{int(control)}*X*{reference}",
        *body,
        f"GE*1*{int(control)}",
        f"IEA*1*{control}",
    ]
    return ("~\n".join(segments_) + "~\n").encode()


def transaction_set(set_id: str, reference: str, body: list[str]) -> list[str]:
    return [f"ST*{set_id}*0001*{reference}", *body, f"SE*{len(body) + 2}*0001"]


def enrollment_file(control: str, members: list[list[str]]) -> bytes:
    body = ["BGN*00*REF1*20260115*0900****2", "N1*P5*ACME CORP*FI*123456789", "N1*IN*OLLY HEALTH*FI*987654321"]
    for member in members:
        body += member
    return envelope("EMPLOYER1", "BE", "005010X220A1", control, transaction_set("834", "005010X220A1", body))


SUBSCRIBER_ADD = [
    "INS*Y*18*021*28*A***FT",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*LAN****34*219091111",
    "DMG*D8*19800202*F",
    f"HD*021**HLT*{PPO}*EMP",
    "DTP*348*D8*20260201",
]
CHILD_ADD = [
    "INS*N*19*021*28*A",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*KIM",
    "DMG*D8*20120401*F",
    f"HD*021**HLT*{PPO}*FAM",
    "DTP*348*D8*20260201",
]
SUBSCRIBER_TERMINATION = [
    "INS*Y*18*024*07*A***TE",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*LAN****34*219091111",
    "HD*024**HLT",
    "DTP*349*D8*20260430",
]
ADDRESS_CHANGE = [
    "INS*Y*18*001*25*A***FT",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*LAN****34*219091111",
    "N3*1 NEW ROAD",
    "N4*HARRISBURG*PA*17101",
]


def test_834_adds_a_family_then_terminates_it(platform: Platform, tenant_id: uuid.UUID) -> None:
    links = edi_links.build_links(FakePlans(), FakeBenefits())
    register(
        platform, tenant_id, "ACME", kind="EMPLOYER", qualifier="ZZ", identifier="EMPLOYER1", group_account_id=ACCOUNT
    )
    data = enrollment_file("000000001", [SUBSCRIBER_ADD, CHILD_ADD, ADDRESS_CHANGE])
    assert validate(data).accepted
    with platform.db.unit_of_work(tenant_id) as uow:
        added = service.ingest(uow, data, source="cli", links=links)
    assert (added.status, added.enrollment_failures) == ("ACCEPTED", [])
    assert [c.kind for c in added.created] == ["policy", "party", "policy", "party", "policy", "party"]
    policy_id = uuid.UUID(added.created[0].id)
    assert added.created[2].id == str(policy_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        policy = uow.session.get(Policy, policy_id)
        assert policy is not None
        assert (policy.account_id, policy.subscriber_external_id, policy.market, policy.status) == (
            ACCOUNT,
            "E100",
            "GROUP",
            "SUBMITTED",
        )
        facts = enrollment_public.coverage_facts(uow, policy_id)
        assert sorted((f.relationship, f.plan_code, str(f.valid_from), str(f.valid_to)) for f in facts) == [
            ("CHILD", PPO, "2026-02-01", "2026-12-31"),
            ("SELF", PPO, "2026-02-01", "2026-12-31"),
        ]
        # the address change is applied to the subscriber (nothing is kept for a person)
        assert uow.session.scalars(select(PendingTransaction)).all() == []
        enrollment.activate(uow, policy_id)

    with platform.db.unit_of_work(tenant_id) as uow:
        ended = service.ingest(uow, enrollment_file("000000002", [SUBSCRIBER_TERMINATION]), source="cli", links=links)
    assert (ended.status, [(c.kind, c.id) for c in ended.created]) == (
        "ACCEPTED",
        [("policy", str(policy_id)), ("party", added.created[1].id)],
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        policy = uow.session.get(Policy, policy_id)
        assert policy is not None and policy.status == "TERMINATED"
        facts = enrollment_public.coverage_facts(uow, policy_id)
        assert sorted((f.relationship, str(f.valid_to)) for f in facts) == [
            ("CHILD", "2026-04-30"),
            ("SELF", "2026-04-30"),
        ]


def test_834_without_a_group_account_is_kept_not_lost(platform: Platform, tenant_id: uuid.UUID) -> None:
    links = edi_links.build_links(FakePlans(), FakeBenefits())
    register(platform, tenant_id, "ACME", kind="EMPLOYER", qualifier="ZZ", identifier="EMPLOYER1")
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, enrollment_file("000000001", [SUBSCRIBER_ADD]), source="cli", links=links)
    assert result.enrollment_failures == [
        {
            "segment": 7,
            "code": "partner_has_no_group_account",
            "reason": "the sending employer has no group account to enrol into",
        }
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (kept,) = uow.session.scalars(select(PendingTransaction)).all()
        assert (kept.status, kept.segment_number) == ("FAILED_ENROLLMENT", 7)
        assert uow.session.scalars(select(Policy)).all() == []


def inquiry(member_number: str, *, last: str = "NGUYEN", born: str = "19800202") -> bytes:
    body = [
        "BHT*0022*13*10001234*20260115*0900",
        "HL*1**20*1",
        "NM1*PR*2*OLLY HEALTH*****PI*OLLY1",
        "HL*2*1*21*1",
        "NM1*1P*2*GOOD CLINIC*****XX*1234567893",
        "HL*3*2*22*0",
        "TRN*1*93175-012547*9877281234",
        f"NM1*IL*1*{last}*LAN****MI*{member_number}",
        f"DMG*D8*{born}",
        "DTP*291*D8*20260301",
        "EQ*30",
        "EQ*98",
    ]
    return envelope("CLINIC1", "HS", "005010X279A1", "000000011", transaction_set("270", "005010X279A1", body))


def test_270_is_answered_by_eligibility_with_exact_eb_segments(platform: Platform, tenant_id: uuid.UUID) -> None:
    links = edi_links.build_links(FakePlans(), FakeBenefits())
    register(
        platform, tenant_id, "ACME", kind="EMPLOYER", qualifier="ZZ", identifier="EMPLOYER1", group_account_id=ACCOUNT
    )
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier="CLINIC1")
    with platform.db.unit_of_work(tenant_id) as uow:
        added = service.ingest(uow, enrollment_file("000000001", [SUBSCRIBER_ADD]), source="cli", links=links)
    policy_id = uuid.UUID(added.created[0].id)
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        eligibility.sync_policy(uow, policy_id)
        (fact,) = enrollment_public.coverage_facts(uow, policy_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(uow, inquiry(fact.member_number), source="api", links=links)
    assert result.status == "ACCEPTED"
    answer = reply(result, "271")
    assert validate(answer.encode()).accepted
    assert segments(answer, "EB") == [
        ["EB", "1", "IND", "30", "C1", f"{PPO} plan"],
        ["EB", "C", "IND", "30", "", "", "29", "1000.00", "", "", "", "", "Y"],
        ["EB", "C", "FAM", "30", "", "", "29", "2000.00", "", "", "", "", "Y"],
        ["EB", "G", "IND", "30", "", "", "29", "4000.00", "", "", "", "", "Y"],
        ["EB", "G", "FAM", "30", "", "", "29", "8000.00", "", "", "", "", "Y"],
        ["EB", "B", "IND", "98", "", "", "27", "25.00", "", "", "", "", "Y"],
    ]
    assert [s for s in segments(answer, "DTP") if s[1] in ("346", "347")] == [
        ["DTP", "346", "D8", "20260201"],
        ["DTP", "347", "D8", "20261231"],
    ]
    assert segments(answer, "DMG") == [["DMG", "D8", "19800202", "F"]]  # the gender of the 834's DMG03
    # a wrong birth date is no match: AAA 75, no benefits
    with platform.db.unit_of_work(tenant_id) as uow:
        missed = service.ingest(
            uow,
            inquiry(fact.member_number, born="19800203").replace(b"000000011", b"000000012"),
            source="api",
            links=links,
        )
    missed_answer = reply(missed, "271")
    assert segments(missed_answer, "EB") == []
    assert segments(missed_answer, "DMG") == [["DMG", "D8", "19800203"]]  # nobody found: as asked
    assert segments(missed_answer, "AAA")[0][3] == "75"
