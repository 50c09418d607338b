"""Every query of the plans domain. Rows are filtered to the unit of work's tenant automatically."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from olly.plans.models import BenefitRecord, Plan, PlanVersionRecord


def plan_by_code(session: Session, code: str, *, for_update: bool = False) -> Plan | None:
    """The plan with ``code``; ``for_update`` locks it so concurrent loads of one code queue up."""
    statement = select(Plan).where(Plan.code == code)
    if for_update:
        statement = statement.with_for_update()
    return session.scalars(statement).one_or_none()


def all_plans(session: Session) -> list[Plan]:
    return list(session.scalars(select(Plan).order_by(Plan.code)))


def add_plan(session: Session, plan: Plan) -> None:
    session.add(plan)
    session.flush()


def versions_of(session: Session, plan_id: uuid.UUID) -> list[PlanVersionRecord]:
    statement = select(PlanVersionRecord).where(PlanVersionRecord.plan_id == plan_id)
    return list(session.scalars(statement.order_by(PlanVersionRecord.version)))


def version_of(session: Session, plan_id: uuid.UUID, version: int) -> PlanVersionRecord | None:
    statement = select(PlanVersionRecord).where(
        PlanVersionRecord.plan_id == plan_id, PlanVersionRecord.version == version
    )
    return session.scalars(statement).one_or_none()


def version_in_force(session: Session, plan_id: uuid.UUID, on: date) -> PlanVersionRecord | None:
    """The version with the latest start on or before ``on``, if it has not ended before ``on``.

    A later version supersedes an earlier one from its start; an ``effective_to`` on the latest
    started version ends the plan (no fallback to an older version).
    """
    statement = (
        select(PlanVersionRecord)
        .where(PlanVersionRecord.plan_id == plan_id, PlanVersionRecord.effective_from <= on)
        .order_by(PlanVersionRecord.effective_from.desc())
        .limit(1)
    )
    record = session.scalars(statement).one_or_none()
    if record is None or (record.effective_to is not None and record.effective_to < on):
        return None
    return record


def version_in_force_by_code(session: Session, code: str, on: date) -> PlanVersionRecord | None:
    """``version_in_force`` in one query from the plan code, without loading the document.

    The hot path of claims and eligibility: the parsed document is cached by version id, so only
    a cache miss reads it (``document_of``). Touching ``document`` on the returned row raises.
    """
    statement = (
        select(PlanVersionRecord)
        .join(Plan, Plan.id == PlanVersionRecord.plan_id)
        .where(Plan.code == code, PlanVersionRecord.effective_from <= on)
        .order_by(PlanVersionRecord.effective_from.desc())
        .limit(1)
        .options(defer(PlanVersionRecord.document, raiseload=True))
    )
    record = session.scalars(statement).one_or_none()
    if record is None or (record.effective_to is not None and record.effective_to < on):
        return None
    return record


def document_of(session: Session, version_id: uuid.UUID) -> dict[str, Any]:
    statement = select(PlanVersionRecord.document).where(PlanVersionRecord.id == version_id)
    return dict(session.scalars(statement).one())


def versions_in_force(session: Session, on: date) -> dict[uuid.UUID, PlanVersionRecord]:
    """For every plan with a version in force on ``on``, that version (by plan id)."""
    latest_start = (
        select(PlanVersionRecord.plan_id, func.max(PlanVersionRecord.effective_from).label("started"))
        .where(PlanVersionRecord.effective_from <= on)
        .group_by(PlanVersionRecord.plan_id)
        .subquery()
    )
    statement = select(PlanVersionRecord).join(
        latest_start,
        (PlanVersionRecord.plan_id == latest_start.c.plan_id)
        & (PlanVersionRecord.effective_from == latest_start.c.started),
    )
    return {
        record.plan_id: record
        for record in session.scalars(statement)
        if record.effective_to is None or record.effective_to >= on
    }


def latest_versions(session: Session) -> dict[uuid.UUID, int]:
    statement = select(PlanVersionRecord.plan_id, func.max(PlanVersionRecord.version)).group_by(
        PlanVersionRecord.plan_id
    )
    return {row[0]: row[1] for row in session.execute(statement)}


def add_version(session: Session, record: PlanVersionRecord, benefits: Iterable[BenefitRecord]) -> None:
    session.add(record)
    session.flush()  # the version row first: the benefit rows refer to it
    session.add_all(list(benefits))
    session.flush()


def benefit_rows(session: Session, plan_version_id: uuid.UUID) -> list[BenefitRecord]:
    statement = select(BenefitRecord).where(BenefitRecord.plan_version_id == plan_version_id)
    return list(session.scalars(statement.order_by(BenefitRecord.category, BenefitRecord.network)))


def benefit_row(session: Session, plan_version_id: uuid.UUID, category: str, network: str) -> BenefitRecord | None:
    statement = select(BenefitRecord).where(
        BenefitRecord.plan_version_id == plan_version_id,
        BenefitRecord.category == category,
        BenefitRecord.network == network,
    )
    return session.scalars(statement).one_or_none()
