"""834 maintenance applied through the composition adapter: changes (001) of identifying data and
plan, coverage ends (HD 024), terminations (024) and reinstatements (025) of a subscriber or a
dependent, and refusals recorded with their reason on the file and on the kept member."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import select

from olly import edi_links
from olly.edi import service
from olly.edi.models import EdiFile, PendingTransaction
from olly.edi.validate import validate
from olly.eligibility.service import BenefitSource
from olly.enrollment import public as enrollment_public
from olly.enrollment import service as enrollment
from olly.enrollment.models import Policy
from olly.kernel.clock import FixedClock
from olly.platform.runtime import Platform
from olly.policy_admin.models import Party
from tests.factories import ACCOUNT, HMO, PPO, FakePlans
from tests.integration.edi.helpers import register
from tests.integration.edi.test_gateway import events
from tests.integration.edi.test_links import CHILD_ADD, SUBSCRIBER_ADD, SUBSCRIBER_TERMINATION, enrollment_file
from tests.integration.eligibility.test_eligibility import FakeBenefits

CHILD_ADD_WITH_DMG = CHILD_ADD
SUBSCRIBER_CHANGE = [
    "INS*Y*18*001*25*A***FT",
    "REF*0F*E100",
    "DTP*303*D8*20260301",
    "NM1*IL*1*TRAN*LAN*M***34*219091111",
    "N3*12 MARKET ST*APT 4",
    "N4*HARRISBURG*PA*17101",
    "DMG*D8*19800202*F",
    f"HD*001**HLT*{HMO}*FAM",
    "DTP*348*D8*20260301",
]
CHILD_COVERAGE_ENDS = [
    "INS*N*19*001*07*A",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*KIM",
    "DMG*D8*20120401*F",
    f"HD*024**HLT*{PPO}*FAM",
    "DTP*349*D8*20260331",
]
SUBSCRIBER_REINSTATEMENT = [
    "INS*Y*18*025*41*A***FT",
    "REF*0F*E100",
    "NM1*IL*1*TRAN*LAN****34*219091111",
    f"HD*025**HLT*{HMO}*FAM",
    "DTP*348*D8*20260201",
]
CHILD_TERMINATION = [
    "INS*N*19*024*07*A",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*KIM",
    "DMG*D8*20120401*F",
    "HD*024**HLT",
    "DTP*349*D8*20260331",
]
CHILD_REINSTATEMENT = [
    "INS*N*19*025*41*A",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*KIM",
    "DMG*D8*20120401*F",
    f"HD*025**HLT*{PPO}*FAM",
    "DTP*348*D8*20260401",
]
UNKNOWN_SUBSCRIBER_CHANGE = [
    "INS*Y*18*001*25*A***FT",
    "REF*0F*E999",
    "NM1*IL*1*DOE*JO****34*219092222",
    "N3*1 ELM ST",
    "N4*YORK*PA*17401",
    "DMG*D8*19900101*M",
]
UNKNOWN_DEPENDENT_CHANGE = [
    "INS*N*19*001*25*A",
    "REF*0F*E100",
    "NM1*IL*1*NGUYEN*SAM",
    "N3*1 ELM ST",
    "N4*YORK*PA*17401",
    "DMG*D8*20140101*M",
]


def _links() -> edi_links.Links:
    benefits: BenefitSource = FakeBenefits()
    return edi_links.build_links(FakePlans(), benefits)


def _family(platform: Platform, tenant_id: uuid.UUID, links: edi_links.Links) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    register(
        platform, tenant_id, "ACME", kind="EMPLOYER", qualifier="ZZ", identifier="EMPLOYER1", group_account_id=ACCOUNT
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        added = service.ingest(
            uow, enrollment_file("000000001", [SUBSCRIBER_ADD, CHILD_ADD_WITH_DMG]), source="cli", links=links
        )
    assert (added.status, added.enrollment_failures) == ("ACCEPTED", [])
    policy_id = uuid.UUID(added.created[0].id)
    with platform.db.unit_of_work(tenant_id) as uow:
        enrollment.activate(uow, policy_id)
    return policy_id, uuid.UUID(added.created[1].id), uuid.UUID(added.created[3].id)


def _failures(platform: Platform, tenant_id: uuid.UUID, file_id: uuid.UUID) -> tuple[list[object], list[object]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        row = uow.session.get(EdiFile, file_id)
        assert row is not None
        kept = uow.session.scalars(
            select(PendingTransaction)
            .where(PendingTransaction.file_id == file_id)
            .order_by(PendingTransaction.segment_number)
        ).all()
        return row.summary.get("enrollmentFailures", []), [(k.status, k.content["refusal"]) for k in kept]


def test_834_change_updates_the_person_and_the_plan_and_ends_a_dependent(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    links = _links()
    policy_id, subscriber_id, child_id = _family(platform, tenant_id, links)
    data = enrollment_file("000000002", [SUBSCRIBER_CHANGE, CHILD_COVERAGE_ENDS])
    assert validate(data).accepted
    with platform.db.unit_of_work(tenant_id) as uow:
        changed = service.ingest(uow, data, source="cli", links=links)
    assert (changed.status, changed.enrollment_failures) == ("ACCEPTED", [])
    assert [(c.kind, c.id) for c in changed.created] == [
        ("policy", str(policy_id)),
        ("party", str(subscriber_id)),
        ("policy", str(policy_id)),
        ("party", str(child_id)),
    ]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        person = uow.session.get(Party, subscriber_id)
        assert person is not None
        assert (person.given_name, person.family_name, person.display_name, person.birth_date) == (
            "LAN",
            "TRAN",
            "LAN TRAN",
            date(1980, 2, 2),
        )
        assert person.address == {
            "line1": "12 MARKET ST",
            "line2": "APT 4",
            "city": "HARRISBURG",
            "region": "PA",
            "postal_code": "17101",
            "country": "US",
        }
        facts = enrollment_public.coverage_facts(uow, policy_id)
        assert sorted((f.relationship, f.plan_code, str(f.valid_from), str(f.valid_to)) for f in facts) == [
            ("CHILD", HMO, "2026-03-01", "2026-03-31"),
            ("CHILD", PPO, "2026-02-01", "2026-02-28"),
            ("SELF", HMO, "2026-03-01", "2026-03-31"),
            ("SELF", HMO, "2026-04-01", "2026-12-31"),  # repriced without the child (EE)
            ("SELF", PPO, "2026-02-01", "2026-02-28"),
        ]
        assert [
            (t.plan_code, t.tier_code, str(t.period_start))
            for t in enrollment.EnrollmentRepository(uow).terms(policy_id)
        ] == [
            (PPO, "EE", "2026-02-01"),  # replaced from its first day when the child was added
            (PPO, "EE+CH", "2026-02-01"),
            (HMO, "EE+CH", "2026-03-01"),
            (HMO, "EE", "2026-04-01"),
        ]
    # the same change again changes nothing (the person and the plan are as sent already)
    with platform.db.unit_of_work(tenant_id) as uow:
        again = service.ingest(uow, enrollment_file("000000003", [SUBSCRIBER_CHANGE]), source="cli", links=links)
    assert (again.status, again.enrollment_failures, len(again.created)) == ("ACCEPTED", [], 2)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert len(enrollment_public.coverage_facts(uow, policy_id, subscriber_id)) == 3


def test_834_reinstatement_undoes_the_termination(platform: Platform, tenant_id: uuid.UUID) -> None:
    links = _links()
    policy_id, subscriber_id, _ = _family(platform, tenant_id, links)
    with platform.db.unit_of_work(tenant_id) as uow:
        early = service.ingest(uow, enrollment_file("000000002", [SUBSCRIBER_REINSTATEMENT]), source="cli", links=links)
    # not terminated: refused, with its reason on the file and on the kept member
    reason = "only a terminated policy can be reinstated"
    assert early.enrollment_failures == [{"segment": 7, "code": "not_terminated", "reason": reason}]
    assert _failures(platform, tenant_id, early.file_id) == (
        [{"segment": 7, "code": "not_terminated", "reason": reason}],
        [("FAILED_ENROLLMENT", {"code": "not_terminated", "reason": reason})],
    )
    with platform.db.unit_of_work(tenant_id) as uow:
        ended = service.ingest(uow, enrollment_file("000000003", [SUBSCRIBER_TERMINATION]), source="cli", links=links)
    assert ended.enrollment_failures == []
    with platform.db.unit_of_work(tenant_id) as uow:
        back = service.ingest(uow, enrollment_file("000000004", [SUBSCRIBER_REINSTATEMENT]), source="cli", links=links)
    assert (back.enrollment_failures, [(c.kind, c.id) for c in back.created]) == (
        [],
        [("policy", str(policy_id)), ("party", str(subscriber_id))],
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        policy = uow.session.get(Policy, policy_id)
        assert policy is not None and policy.status == "ACTIVE"
        facts = enrollment_public.coverage_facts(uow, policy_id)
        assert sorted((f.relationship, str(f.valid_from), str(f.valid_to)) for f in facts) == [
            ("CHILD", "2026-02-01", "2026-12-31"),
            ("SELF", "2026-02-01", "2026-12-31"),
        ]


def test_834_reinstatement_of_a_child_undoes_her_removal(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    links = _links()
    policy_id, subscriber_id, child_id = _family(platform, tenant_id, links)
    clock.set(datetime(2026, 1, 20, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        ended = service.ingest(uow, enrollment_file("000000002", [CHILD_TERMINATION]), source="cli", links=links)
    assert ended.enrollment_failures == []
    clock.set(datetime(2026, 1, 27, 9, 0, tzinfo=UTC))
    data = enrollment_file("000000003", [CHILD_REINSTATEMENT])
    assert validate(data).accepted
    with platform.db.unit_of_work(tenant_id) as uow:
        back = service.ingest(uow, data, source="cli", links=links)
    assert (back.status, back.enrollment_failures, [(c.kind, c.id) for c in back.created]) == (
        "ACCEPTED",
        [],
        [("policy", str(policy_id)), ("party", str(child_id))],
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        facts = enrollment_public.coverage_facts(uow, policy_id)
        # covered again from 1 April with no gap, the family priced as EE+CH again from that day
        assert sorted((f.relationship, f.tier_code, str(f.valid_from), str(f.valid_to)) for f in facts) == [
            ("CHILD", "EE+CH", "2026-02-01", "2026-03-31"),
            ("CHILD", "EE+CH", "2026-04-01", "2026-12-31"),
            ("SELF", "EE+CH", "2026-02-01", "2026-03-31"),
            ("SELF", "EE+CH", "2026-04-01", "2026-12-31"),
        ]
        assert [
            (t.tier_code, str(t.period_start), t.total_premium_minor)
            for t in enrollment.EnrollmentRepository(uow).terms(policy_id)
        ] == [
            ("EE", "2026-02-01", 60000),  # replaced from its first day when the child was added
            ("EE+CH", "2026-02-01", 100000),
            ("EE", "2026-04-01", 60000),  # the removal's repricing
            ("EE+CH", "2026-04-01", 100000),  # undone by the reinstatement's
        ]
        assert [
            (t.transaction_type, str(t.effective_date))
            for t in enrollment.EnrollmentRepository(uow).transactions(policy_id)
        ][-2:] == [("REMOVE_DEPENDENT", "2026-03-31"), ("REINSTATE_DEPENDENT", "2026-04-01")]
        # as known between the two files, her cover still ends on 31 March
        on_april_first = enrollment.coverage_on(
            uow, child_id, date(2026, 4, 1), as_known_at=datetime(2026, 1, 25, tzinfo=UTC)
        )
        assert on_april_first == []
    (reinstated,) = [
        p for p in events(platform, "enrollment.enrollment.submitted") if p["electionType"] == "REINSTATE_DEPENDENT"
    ]
    assert (reinstated["memberId"], reinstated["effectiveDate"], reinstated["tierCode"]) == (
        str(child_id),
        "2026-04-01",
        "EE+CH",
    )

    # the same 025 again: nothing left to undo, refused with the domain's code and kept
    with platform.db.unit_of_work(tenant_id) as uow:
        again = service.ingest(uow, enrollment_file("000000004", [CHILD_REINSTATEMENT]), source="cli", links=links)
    nothing = "the person has no removal in effect on this policy"
    assert _failures(platform, tenant_id, again.file_id) == (
        [{"segment": 7, "code": "no_removal_to_undo", "reason": nothing}],
        [("FAILED_ENROLLMENT", {"code": "no_removal_to_undo", "reason": nothing})],
    )
    # a child's 025 on a terminated policy: the subscriber's reinstatement comes first
    with platform.db.unit_of_work(tenant_id) as uow:
        service.ingest(uow, enrollment_file("000000005", [SUBSCRIBER_TERMINATION]), source="cli", links=links)
        refused = service.ingest(uow, enrollment_file("000000006", [CHILD_REINSTATEMENT]), source="cli", links=links)
    first = "the subscriber's policy is terminated: reinstate the subscriber (INS03 025) first"
    assert refused.enrollment_failures == [{"segment": 7, "code": "policy_terminated", "reason": first}]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert [t.transaction_type for t in enrollment.EnrollmentRepository(uow).transactions(policy_id)] == [
            "NEW",
            "ADD_DEPENDENT",
            "REMOVE_DEPENDENT",
            "REINSTATE_DEPENDENT",
            "TERMINATION",
        ]
        assert enrollment_public.coverage_facts(uow, policy_id, subscriber_id)[-1].valid_to == date(2026, 4, 30)


def test_834_changes_that_match_no_one_are_refused_with_a_reason(platform: Platform, tenant_id: uuid.UUID) -> None:
    links = _links()
    _family(platform, tenant_id, links)
    with platform.db.unit_of_work(tenant_id) as uow:
        result = service.ingest(
            uow,
            enrollment_file("000000002", [UNKNOWN_SUBSCRIBER_CHANGE, UNKNOWN_DEPENDENT_CHANGE]),
            source="cli",
            links=links,
        )
    unknown_subscriber = "no policy of this group has the subscriber id (REF*0F)"
    unknown_dependent = (
        "no dependent of that relationship on the subscriber's policy matches the member"
        " (SSN, member number REF*23, or name or birth date)"
    )
    expected = [
        {"segment": 7, "code": "unknown_subscriber", "reason": unknown_subscriber},
        {"segment": 13, "code": "unknown_dependent", "reason": unknown_dependent},
    ]
    assert (result.status, result.enrollment_failures) == ("ACCEPTED", expected)
    assert _failures(platform, tenant_id, result.file_id) == (
        expected,
        [
            ("FAILED_ENROLLMENT", {"code": "unknown_subscriber", "reason": unknown_subscriber}),
            ("FAILED_ENROLLMENT", {"code": "unknown_dependent", "reason": unknown_dependent}),
        ],
    )
