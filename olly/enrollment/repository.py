"""Every query of the enrollment domain."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import date, datetime

from sqlalchemy import and_, delete, or_, select

from olly.enrollment.models import (
    CobraCase,
    CoverageSpan,
    Policy,
    PolicyElement,
    PolicyTerm,
    PolicyTransaction,
    Quote,
    UnderwritingFlag,
)
from olly.platform.crypto import NORMALISERS, blind_index_label, session_crypto
from olly.platform.db import UnitOfWork

Row = CobraCase | Policy | PolicyTerm | PolicyElement | CoverageSpan | PolicyTransaction | Quote | UnderwritingFlag


class EnrollmentRepository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.session = uow.session

    def add(self, *rows: Row) -> None:
        self.session.add_all(rows)

    def policy(self, policy_id: uuid.UUID, *, for_update: bool = False) -> Policy | None:
        return self.session.get(Policy, policy_id, with_for_update=for_update)

    def policy_by_number(self, number: str) -> Policy | None:
        return self.session.scalars(select(Policy).where(Policy.policy_number == number)).first()

    def policy_for_employee(self, account_id: uuid.UUID, employee_id: str) -> Policy | None:
        return self.session.scalars(
            select(Policy).where(Policy.account_id == account_id, Policy.subscriber_external_id == employee_id)
        ).first()

    def term(self, term_id: uuid.UUID) -> PolicyTerm | None:
        return self.session.get(PolicyTerm, term_id)

    def terms(self, policy_id: uuid.UUID) -> list[PolicyTerm]:
        """In force order: a term repriced from its first day (a roster's dependents added on the
        plan year's first day) is followed by the one that replaced it (made later, a later UUIDv7)."""
        return list(
            self.session.scalars(
                select(PolicyTerm)
                .where(PolicyTerm.policy_id == policy_id)
                .order_by(PolicyTerm.period_start, PolicyTerm.created_at, PolicyTerm.id)
            )
        )

    def elements(self, policy_id: uuid.UUID) -> list[PolicyElement]:
        return list(
            self.session.scalars(
                select(PolicyElement).where(PolicyElement.policy_id == policy_id).order_by(PolicyElement.created_at)
            )
        )

    def element_by_member_number(self, member_number: str) -> PolicyElement | None:
        crypto = session_crypto(self.session, "looked up")
        digest = crypto.blind_index(
            self.session.connection(),
            self.uow.require_tenant(),
            blind_index_label(PolicyElement.__tablename__, "member_number"),
            NORMALISERS["alnum"](member_number),
        )
        return self.session.scalars(select(PolicyElement).where(PolicyElement.member_number_index == digest)).first()

    def elements_of_party(self, party_id: uuid.UUID) -> list[PolicyElement]:
        return list(self.session.scalars(select(PolicyElement).where(PolicyElement.party_id == party_id)))

    def current_spans(self, policy_id: uuid.UUID) -> list[CoverageSpan]:
        return list(
            self.session.scalars(
                select(CoverageSpan)
                .where(CoverageSpan.policy_id == policy_id, CoverageSpan.superseded_at.is_(None))
                .order_by(CoverageSpan.valid_from)
            )
        )

    def spans_superseded_at(self, policy_id: uuid.UUID, at: datetime) -> list[CoverageSpan]:
        """The policy's spans that a change recorded at ``at`` replaced (recorded before it)."""
        return list(
            self.session.scalars(
                select(CoverageSpan)
                .where(
                    CoverageSpan.policy_id == policy_id,
                    CoverageSpan.superseded_at == at,
                    CoverageSpan.recorded_at < at,
                )
                .order_by(CoverageSpan.valid_from, CoverageSpan.id)
            )
        )

    def spans_on(self, party_id: uuid.UUID, on: date, as_known_at: datetime | None = None) -> list[CoverageSpan]:
        """The spans covering ``party_id`` on ``on``, as now known or as known at ``as_known_at``."""
        believed = (
            CoverageSpan.superseded_at.is_(None)
            if as_known_at is None
            else and_(
                CoverageSpan.recorded_at <= as_known_at,
                or_(CoverageSpan.superseded_at.is_(None), CoverageSpan.superseded_at > as_known_at),
            )
        )
        return list(
            self.session.scalars(
                select(CoverageSpan).where(
                    CoverageSpan.party_id == party_id,
                    believed,
                    CoverageSpan.valid_from <= on,
                    or_(CoverageSpan.valid_to.is_(None), CoverageSpan.valid_to >= on),
                )
            )
        )

    def underwriting_flags(self, policy_id: uuid.UUID) -> list[UnderwritingFlag]:
        return list(self.session.scalars(select(UnderwritingFlag).where(UnderwritingFlag.policy_id == policy_id)))

    def underwriting_flag(self, flag_id: uuid.UUID, *, for_update: bool = False) -> UnderwritingFlag | None:
        return self.session.get(UnderwritingFlag, flag_id, with_for_update=for_update)

    def transactions(self, policy_id: uuid.UUID) -> list[PolicyTransaction]:
        return list(
            self.session.scalars(
                select(PolicyTransaction)
                .where(PolicyTransaction.policy_id == policy_id)
                .order_by(PolicyTransaction.recorded_at, PolicyTransaction.id)
            )
        )

    def policies_due_for_activation(self, on: date) -> list[Policy]:
        first_start = select(PolicyTerm.policy_id).where(PolicyTerm.period_start <= on).scalar_subquery()
        return list(
            self.session.scalars(select(Policy).where(Policy.status == "SUBMITTED", Policy.id.in_(first_start)))
        )

    def submitted_policies_of_account(self, account_id: uuid.UUID) -> list[Policy]:
        return list(
            self.session.scalars(
                select(Policy).where(Policy.account_id == account_id, Policy.status == "SUBMITTED").order_by(Policy.id)
            )
        )

    def cobra_cases(self, group_policy_id: uuid.UUID) -> list[CobraCase]:
        return list(
            self.session.scalars(
                select(CobraCase)
                .where(CobraCase.group_policy_id == group_policy_id)
                .order_by(CobraCase.created_at, CobraCase.id)
            )
        )

    def cobra_cases_of_policy(self, cobra_policy_id: uuid.UUID) -> list[CobraCase]:
        return list(
            self.session.scalars(
                select(CobraCase).where(CobraCase.cobra_policy_id == cobra_policy_id).order_by(CobraCase.id)
            )
        )

    # -- one person's records (deletion requests) -------------------------------------------------
    def policies_of_subscriber(self, party_id: uuid.UUID) -> list[Policy]:
        return list(
            self.session.scalars(
                select(Policy).where(Policy.subscriber_party_id == party_id).order_by(Policy.created_at, Policy.id)
            )
        )

    def spans_of_element(self, element_id: uuid.UUID) -> list[CoverageSpan]:
        """Every span of one covered person on one policy, superseded ones included."""
        return list(self.session.scalars(select(CoverageSpan).where(CoverageSpan.element_id == element_id)))

    def underwriting_flags_of_party(self, party_id: uuid.UUID) -> list[UnderwritingFlag]:
        return list(
            self.session.scalars(
                select(UnderwritingFlag)
                .where(UnderwritingFlag.party_id == party_id)
                .order_by(UnderwritingFlag.recorded_at, UnderwritingFlag.id)
            )
        )

    def cobra_cases_of_party(self, party_id: uuid.UUID) -> list[CobraCase]:
        return list(
            self.session.scalars(
                select(CobraCase).where(CobraCase.party_id == party_id).order_by(CobraCase.created_at, CobraCase.id)
            )
        )

    def is_policy_referenced(self, policy_id: uuid.UUID) -> bool:
        """Whether anyone is (or was) covered on the policy, or a flag or a COBRA case names it (as the
        group policy the case continues, or as the continuation policy it was elected into)."""
        queries = (
            select(PolicyElement.id).where(PolicyElement.policy_id == policy_id),
            select(UnderwritingFlag.id).where(UnderwritingFlag.policy_id == policy_id),
            select(CobraCase.id).where(
                or_(CobraCase.group_policy_id == policy_id, CobraCase.cobra_policy_id == policy_id)
            ),
        )
        return any(self.session.scalar(query.limit(1)) is not None for query in queries)

    def delete_underwriting_flags(self, flag_ids: Collection[uuid.UUID]) -> None:
        self.session.execute(delete(UnderwritingFlag).where(UnderwritingFlag.id.in_(list(flag_ids))))

    def delete_cobra_cases(self, case_ids: Collection[uuid.UUID]) -> None:
        self.session.execute(delete(CobraCase).where(CobraCase.id.in_(list(case_ids))))

    def delete_elements(self, element_ids: Collection[uuid.UUID]) -> None:
        """Covered people and their coverage spans."""
        ids = list(element_ids)
        self.session.execute(delete(CoverageSpan).where(CoverageSpan.element_id.in_(ids)))
        self.session.execute(delete(PolicyElement).where(PolicyElement.id.in_(ids)))

    def delete_policy(self, policy_id: uuid.UUID) -> None:
        """A policy nobody is covered on any more, with its terms and history (spans first: they
        refer to the terms)."""
        self.session.execute(delete(CoverageSpan).where(CoverageSpan.policy_id == policy_id))
        self.session.execute(delete(PolicyTerm).where(PolicyTerm.policy_id == policy_id))
        self.session.execute(delete(PolicyTransaction).where(PolicyTransaction.policy_id == policy_id))
        self.session.execute(delete(Policy).where(Policy.id == policy_id))
