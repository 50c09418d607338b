"""A deletion request finds a person's policies, cover, underwriting flags and COBRA cases, and
pseudonymises or deletes them without touching anyone else's.

Ana (employee) is covered by her employer's group PPO-2026 from 1 January 2026 with Ben (spouse);
her employment ends on 20 March 2026 (the ``terminated`` fixture): group cover ends on 31 March,
both are offered continuation to 30 September 2027 (two notices, stored together in one pack).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from olly.enrollment import public, service
from olly.enrollment.models import (
    CobraCase,
    CoverageSpan,
    Policy,
    PolicyElement,
    PolicyTerm,
    PolicyTransaction,
    UnderwritingFlag,
)
from olly.enrollment.personal_data import EnrollmentPersonalData
from olly.enrollment.repository import EnrollmentRepository
from olly.enrollment.rules import CobraEvent, Market, WithdrawalReason
from olly.enrollment.schemas import CobraEventCreate, EnrollmentCreate
from olly.kernel.clock import FixedClock
from olly.kernel.errors import NotFound
from olly.platform.db import UnitOfWork
from olly.platform.objectstore import object_store_of
from olly.platform.personal_data import DataSubject, RecordCategory
from olly.platform.runtime import Platform
from tests.factories import PPO, FakePlans, enroll
from tests.integration.enrollment.cobra_support import at, elect, group_policy

PSEUDONYM = uuid.UUID("01900000-0000-7000-8000-0000000000ff")
ENROLLMENT = RecordCategory.ENROLLMENT


def found(handler: EnrollmentPersonalData, platform: Platform, subject: DataSubject) -> list[tuple[Any, ...]]:
    with platform.db.unit_of_work(subject.tenant_id, read_only=True) as uow:
        return [(i.record_type, i.record_id, i.category, i.record_date) for i in handler.find(uow, subject)]


def rows_naming(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID) -> dict[str, int]:
    """How many rows of each enrollment table hold this party id (the change history's details too)."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        session = uow.session

        def count(column: Any) -> int:
            return int(session.scalar(select(func.count()).where(column == party_id)) or 0)

        history = session.scalars(select(PolicyTransaction.detail))
        return {
            "policies": count(Policy.subscriber_party_id),
            "policy_elements": count(PolicyElement.party_id),
            "coverage_spans": count(CoverageSpan.party_id),
            "underwriting_flags": count(UnderwritingFlag.party_id),
            "cobra_cases": count(CobraCase.party_id),
            "policy_transactions": sum(1 for detail in history if str(party_id) in json.dumps(detail)),
        }


NOTHING = dict.fromkeys(
    ("policies", "policy_elements", "coverage_spans", "underwriting_flags", "cobra_cases", "policy_transactions"), 0
)


def everything_of(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID) -> list[tuple[Any, ...]]:
    """Every row of one person, as plain values: what must not change when someone else is erased."""
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        session = uow.session
        rows: list[tuple[Any, ...]] = [
            ("policy", p.id, p.status, p.subscriber_external_id)
            for p in session.scalars(select(Policy).where(Policy.subscriber_party_id == party_id).order_by(Policy.id))
        ]
        rows += [
            ("element", e.id, e.policy_id, e.relationship, e.member_number)
            for e in session.scalars(
                select(PolicyElement).where(PolicyElement.party_id == party_id).order_by(PolicyElement.id)
            )
        ]
        rows += [
            ("span", s.id, s.valid_from, s.valid_to, s.superseded_at)
            for s in session.scalars(
                select(CoverageSpan).where(CoverageSpan.party_id == party_id).order_by(CoverageSpan.id)
            )
        ]
        rows += [
            ("flag", f.id, f.flag, f.detail, f.diagnosis_codes, f.withdrawn_at, f.withdrawal_reason, f.withdrawal_note)
            for f in session.scalars(select(UnderwritingFlag).where(UnderwritingFlag.party_id == party_id))
        ]
        rows += [
            ("case", c.id, c.status, c.notice_object_key)
            for c in session.scalars(select(CobraCase).where(CobraCase.party_id == party_id))
        ]
        return rows


def group_of_ana_and_ben_after_the_election(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, clock: FixedClock, group: uuid.UUID, ana: uuid.UUID
) -> uuid.UUID:
    """The employer's id for Ana on the group policy (as a roster records it), then Ana alone elects
    continuation on 10 April 2026: a COBRA policy from 1 April to the plan year's end."""
    with platform.db.unit_of_work(tenant_id) as uow:
        EnrollmentRepository(uow).policy(group).subscriber_external_id = "E0042"  # type: ignore[union-attr]
    at(clock, date(2026, 4, 10))
    return elect(platform, tenant_id, plans, group, ana)


def test_a_subscribers_policies_cover_and_cobra_case_are_pseudonymised(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    cobra = group_of_ana_and_ben_after_the_election(platform, tenant_id, plans, clock, terminated, ana)
    with platform.db.unit_of_work(tenant_id) as uow:  # a stranger: Eve's own group policy
        eve_policy = service.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=uuid.uuid4(),
                subscriber_party_id=family["grandma"],
                plan_code=PPO,
                effective_date=date(2026, 5, 1),
            ),
            plans,
        ).id
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        elements = {(e.policy_id, e.party_id): e for e in EnrollmentRepository(uow).elements_of_party(ana)}
        anas_group, anas_cobra = elements[(terminated, ana)], elements[(cobra, ana)]
        old_numbers = (anas_group.member_number, anas_cobra.member_number)
        cases = {c.party_id: c for c in service.cobra_cases(uow, terminated)}
        anas_case, bens_case = cases[ana], cases[ben]
        anas_notice, bens_notice = anas_case.notice_object_key, bens_case.notice_object_key
        assert anas_notice is not None and bens_notice is not None
    bens_rows = everything_of(platform, tenant_id, ben)
    eves_rows = everything_of(platform, tenant_id, family["grandma"])

    handler = EnrollmentPersonalData()
    subject = DataSubject(tenant_id, ana, PSEUDONYM)
    # the group cover ended on 31 March; the continuation's term runs to 31 December; the election
    # gives continuation to 30 September 2027
    expected = [
        ("policy", str(terminated), ENROLLMENT, date(2026, 3, 31)),
        ("policy", str(cobra), ENROLLMENT, date(2026, 12, 31)),
        ("policy_member", str(anas_group.id), ENROLLMENT, date(2026, 3, 31)),
        ("policy_member", str(anas_cobra.id), ENROLLMENT, date(2026, 12, 31)),
        ("cobra_case", str(anas_case.id), ENROLLMENT, date(2027, 9, 30)),
    ]
    assert found(handler, platform, subject) == expected
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.pseudonymise(uow, subject, handler.find(uow, subject))

    assert found(handler, platform, subject) == []
    assert found(handler, platform, DataSubject(tenant_id, PSEUDONYM, PSEUDONYM)) == expected
    assert rows_naming(platform, tenant_id, ana) == NOTHING
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        # the kept records read as any other, under the pseudonym
        group_policy_read = public.policy(uow, terminated)
        assert group_policy_read is not None and group_policy_read.subscriber_party_id == PSEUDONYM
        facts = sorted(public.coverage_facts(uow, terminated), key=lambda f: f.relationship)
        assert [(f.party_id, f.relationship, f.valid_to) for f in facts] == [
            (PSEUDONYM, "SELF", date(2026, 3, 31)),
            (ben, "SPOUSE", date(2026, 3, 31)),
        ]
        (cobra_fact,) = public.coverage_facts(uow, cobra)
        assert (cobra_fact.party_id, cobra_fact.subscriber_party_id, cobra_fact.valid_from, cobra_fact.valid_to) == (
            PSEUDONYM,
            PSEUDONYM,
            date(2026, 4, 1),
            date(2026, 12, 31),
        )
        assert [c.policy.id for c in service.coverage_on(uow, PSEUDONYM, date(2026, 6, 1))] == [cobra]
        assert EnrollmentRepository(uow).policy(terminated).subscriber_external_id is None  # type: ignore[union-attr]
        # the number on Ana's card no longer finds her cover
        repo = EnrollmentRepository(uow)
        assert [repo.element_by_member_number(n) for n in old_numbers] == [None, None]
        new_numbers = [e.member_number for e in repo.elements_of_party(PSEUDONYM)]
        assert len(set(new_numbers)) == 2 and not set(new_numbers) & set(old_numbers)
        assert all(n.startswith("M") and len(n) == 10 for n in new_numbers)
        # her printed notice (which names her) is gone; Ben's, in the same pack, still opens
        assert [(c.party_id, c.status, c.notice_object_key) for c in service.cobra_cases(uow, terminated)] == [
            (PSEUDONYM, "ELECTED", None),
            (ben, "OFFERED", bens_notice),
        ]
        with pytest.raises(NotFound):
            object_store_of(uow).get(uow, anas_notice)
        with pytest.raises(NotFound):
            service.cobra_notice(uow, anas_case.id)
        assert service.cobra_notice(uow, bens_case.id).startswith(b"%PDF")
    assert everything_of(platform, tenant_id, ben) == bens_rows
    assert everything_of(platform, tenant_id, family["grandma"]) == eves_rows
    assert [i[:3] for i in found(handler, platform, DataSubject(tenant_id, family["grandma"], PSEUDONYM))] == [
        ("policy", str(eve_policy), ENROLLMENT),
        ("policy_member", str(eves_rows[1][1]), ENROLLMENT),
    ]


def test_a_dependents_cover_history_and_notice_are_pseudonymised_on_the_subscribers_policy(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    ana, cy = family["ana"], family["cy"]
    policy_id = group_policy(platform, tenant_id, plans, family, ("cy", "CHILD"))
    clock.set(datetime(2026, 6, 3, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:  # Cy turns 26 in June: he leaves Ana's policy
        (case,) = service.record_cobra_event(
            uow,
            policy_id,
            CobraEventCreate(event=CobraEvent.LOSS_OF_DEPENDENT_STATUS, event_date=date(2026, 6, 1), party_id=cy),
            plans,
        )
        case_id, notice = case.id, case.notice_object_key
    assert notice is not None
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (cys,) = EnrollmentRepository(uow).elements_of_party(cy)
        assert object_store_of(uow).get(uow, notice).startswith(b"%PDF")  # a notice of its own, not packed
        history = [
            (t.transaction_type, t.detail.get("partyId")) for t in EnrollmentRepository(uow).transactions(policy_id)
        ]
        assert history == [("NEW", None), ("REMOVE_DEPENDENT", str(cy))]
    anas_rows = everything_of(platform, tenant_id, ana)

    handler = EnrollmentPersonalData()
    subject = DataSubject(tenant_id, cy, PSEUDONYM)
    # Cy's cover ended on 30 June; he was offered continuation until the window closed on 30 August
    assert found(handler, platform, subject) == [
        ("policy_member", str(cys.id), ENROLLMENT, date(2026, 6, 30)),
        ("cobra_case", str(case_id), ENROLLMENT, date(2026, 8, 30)),
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.pseudonymise(uow, subject, handler.find(uow, subject))

    assert rows_naming(platform, tenant_id, cy) == NOTHING
    assert everything_of(platform, tenant_id, ana) == anas_rows
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        repo = EnrollmentRepository(uow)
        history = [(t.transaction_type, t.detail.get("partyId")) for t in repo.transactions(policy_id)]
        assert history == [("NEW", None), ("REMOVE_DEPENDENT", str(PSEUDONYM))]
        assert public.policy(uow, policy_id).subscriber_party_id == ana  # type: ignore[union-attr]
        assert [(d.party_id, d.relationship) for d in public.policy_dependents(uow, policy_id)] == [
            (PSEUDONYM, "CHILD")
        ]
        assert [(c.party_id, c.status, c.notice_object_key) for c in service.cobra_cases(uow, policy_id)] == [
            (PSEUDONYM, "OFFERED", None)
        ]
        # the notice was stored on its own: the file itself is gone once the request committed
        with pytest.raises(NotFound):
            object_store_of(uow).backend.get(notice)


def floater_covering(uow: UnitOfWork, plans: FakePlans, subscriber: uuid.UUID, parent: uuid.UUID) -> uuid.UUID:
    """A family floater of the subscriber's covering their parent, activated."""
    floater = service.enroll(
        uow,
        EnrollmentCreate(
            market=Market.SUM_INSURED,
            account_id=uuid.uuid4(),
            subscriber_party_id=subscriber,
            plan_code=PPO,
            effective_date=date(2026, 1, 1),
            dependents=[{"party_id": parent, "relationship": "PARENT"}],
        ),
        plans,
    ).id
    service.activate(uow, floater)
    return floater


def test_an_underwriting_flag_keeps_its_codes_and_loses_the_underwriters_words(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID]
) -> None:
    ben, eve = family["ben"], family["grandma"]
    with platform.db.unit_of_work(tenant_id) as uow:
        floater = floater_covering(uow, plans, ben, eve)
        eves_flag = service.flag_underwriting(
            uow,
            floater,
            party_id=eve,
            flag="PRE_EXISTING_DISEASE",
            waiting_period_months=36,
            detail="Eve Rivera: type 2 diabetes since 2019",
            diagnosis_codes=["E11"],
        ).id
        service.flag_underwriting(uow, floater, party_id=ben, flag="LOADING", loading_percent=10, detail="smoker")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (eves_element,) = EnrollmentRepository(uow).elements_of_party(eve)
    bens_rows = everything_of(platform, tenant_id, ben)

    handler = EnrollmentPersonalData()
    subject = DataSubject(tenant_id, eve, PSEUDONYM)
    # the policy is in force: its cover, and the flag with it, run to the end of the current term
    assert found(handler, platform, subject) == [
        ("policy_member", str(eves_element.id), ENROLLMENT, date(2026, 12, 31)),
        ("underwriting_flag", str(eves_flag), ENROLLMENT, date(2026, 12, 31)),
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.pseudonymise(uow, subject, handler.find(uow, subject))

    assert rows_naming(platform, tenant_id, eve) == NOTHING
    assert everything_of(platform, tenant_id, ben) == bens_rows
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        flags = {f.id: f for f in EnrollmentRepository(uow).underwriting_flags(floater)}
        kept = flags[eves_flag]
        assert (kept.party_id, kept.flag, kept.waiting_period_months, kept.detail, kept.diagnosis_codes) == (
            PSEUDONYM,
            "PRE_EXISTING_DISEASE",
            36,
            None,
            ["E11"],
        )
        assert [(c.party_id, c.diagnosis_codes) for c in public.declared_conditions(uow, floater)] == [
            (PSEUDONYM, ("E11",))
        ]


def test_a_withdrawn_underwriting_flag_loses_the_withdrawals_note_and_keeps_when_and_why(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    ben, eve = family["ben"], family["grandma"]
    with platform.db.unit_of_work(tenant_id) as uow:
        floater = floater_covering(uow, plans, ben, eve)
        eves_flag = service.flag_underwriting(
            uow, floater, party_id=eve, flag="PRE_EXISTING_DISEASE", waiting_period_months=36, diagnosis_codes=["E11"]
        ).id
        bens_flag = service.flag_underwriting(uow, floater, party_id=ben, flag="LOADING", loading_percent=10).id
    withdrawn_at = datetime(2026, 2, 3, 10, 30, tzinfo=UTC)
    clock.set(withdrawn_at)
    with platform.db.unit_of_work(tenant_id) as uow:
        for flag_id, note in ((eves_flag, "Eve Rivera's sister's diabetes"), (bens_flag, "Ben quit smoking in 2020")):
            service.withdraw_underwriting(uow, floater, flag_id, reason=WithdrawalReason.OTHER, note=note)
    bens_rows = everything_of(platform, tenant_id, ben)

    handler = EnrollmentPersonalData()
    subject = DataSubject(tenant_id, eve, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.pseudonymise(uow, subject, handler.find(uow, subject))

    assert rows_naming(platform, tenant_id, eve) == NOTHING
    assert everything_of(platform, tenant_id, ben) == bens_rows  # Ben's note is his, and stays
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        kept = EnrollmentRepository(uow).underwriting_flag(eves_flag)
        assert kept is not None
        assert (kept.party_id, kept.withdrawn_at, kept.withdrawal_reason, kept.withdrawal_note) == (
            PSEUDONYM,
            withdrawn_at,
            "OTHER",
            None,
        )
        assert public.declared_conditions(uow, floater) == []  # still withdrawn


def test_delete_removes_the_persons_rows_and_a_policy_nobody_else_is_on(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    ana, ben = family["ana"], family["ben"]
    cobra = group_of_ana_and_ben_after_the_election(platform, tenant_id, plans, clock, terminated, ana)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        anas_notice = next(c.notice_object_key for c in service.cobra_cases(uow, terminated) if c.party_id == ana)
        assert anas_notice is not None
    bens_rows = everything_of(platform, tenant_id, ben)

    handler = EnrollmentPersonalData()
    subject = DataSubject(tenant_id, ana, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.delete(uow, subject, handler.find(uow, subject))

    assert rows_naming(platform, tenant_id, ana) == NOTHING
    assert rows_naming(platform, tenant_id, PSEUDONYM) == {**NOTHING, "policies": 1}
    assert everything_of(platform, tenant_id, ben) == bens_rows
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        # the continuation covered Ana alone: it is gone with its terms and history
        assert public.policy(uow, cobra) is None
        for model in (PolicyTerm, PolicyTransaction, CoverageSpan, PolicyElement):
            assert list(uow.session.scalars(select(model).where(model.policy_id == cobra))) == []
        # the group policy still covered Ben, whose COBRA case names it: it stays for him, without Ana
        group = public.policy(uow, terminated)
        assert group is not None and (group.subscriber_party_id, group.status) == (PSEUDONYM, "TERMINATED")
        assert EnrollmentRepository(uow).policy(terminated).subscriber_external_id is None  # type: ignore[union-attr]
        assert [(f.party_id, f.relationship) for f in public.coverage_facts(uow, terminated)] == [(ben, "SPOUSE")]
        assert [c.party_id for c in service.cobra_cases(uow, terminated)] == [ben]
        with pytest.raises(NotFound):
            object_store_of(uow).get(uow, anas_notice)
    assert found(handler, platform, subject) == []


def test_cover_without_an_end_is_still_running_and_dated_today(
    platform: Platform, tenant_id: uuid.UUID, plans: FakePlans, family: dict[str, uuid.UUID], clock: FixedClock
) -> None:
    """A span may have no end (cover until further notice). Its retention has not begun: dated from
    its start, cover that began more than six years ago and still runs would be deleted."""
    policy_id = enroll(platform, tenant_id, plans, family, ())
    with platform.db.unit_of_work(tenant_id) as uow:
        (span,) = EnrollmentRepository(uow).current_spans(policy_id)
        span.valid_to = None
        element_id = span.element_id
    clock.set(datetime(2033, 2, 1, 9, 0, tzinfo=UTC))
    assert found(EnrollmentPersonalData(), platform, DataSubject(tenant_id, family["ana"], PSEUDONYM)) == [
        ("policy", str(policy_id), ENROLLMENT, date(2033, 2, 1)),
        ("policy_member", str(element_id), ENROLLMENT, date(2033, 2, 1)),
    ]


def test_a_continuation_policy_past_its_retention_stays_while_the_kept_cobra_case_names_it(
    platform: Platform,
    tenant_id: uuid.UUID,
    plans: FakePlans,
    family: dict[str, uuid.UUID],
    clock: FixedClock,
    terminated: uuid.UUID,
) -> None:
    """Retention decides per record: Ana's COBRA case (dated 30 September 2027) is kept while the
    policies and cover it led to are deleted."""
    ana = family["ana"]
    cobra = group_of_ana_and_ben_after_the_election(platform, tenant_id, plans, clock, terminated, ana)
    handler = EnrollmentPersonalData()
    subject = DataSubject(tenant_id, ana, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id) as uow:
        items = handler.find(uow, subject)
        handler.pseudonymise(uow, subject, [i for i in items if i.record_type == "cobra_case"])
        handler.delete(uow, subject, [i for i in items if i.record_type != "cobra_case"])

    assert rows_naming(platform, tenant_id, ana) == NOTHING
    assert rows_naming(platform, tenant_id, PSEUDONYM) == {**NOTHING, "policies": 2, "cobra_cases": 1}
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (case,) = [c for c in service.cobra_cases(uow, terminated) if c.party_id == PSEUDONYM]
        assert (case.status, case.cobra_policy_id) == ("ELECTED", cobra)
        continuation = public.policy(uow, cobra)
        assert continuation is not None and continuation.subscriber_party_id == PSEUDONYM
        assert public.coverage_facts(uow, cobra) == []
