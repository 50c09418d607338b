"""A savepoint (one row of a bulk import) may be released inside a unit of work; a commit may not."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from olly.platform.runtime import Platform
from olly.platform.tenancy import Tenant


def _tenant(slug: str) -> Tenant:
    return Tenant(id=uuid.uuid4(), slug=slug, name=slug.title(), created_at=datetime.now(UTC))


def _slugs(session: Session) -> set[str]:
    return set(session.scalars(select(Tenant.slug)))


def test_savepoints_release_and_roll_back_inside_a_unit_of_work(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        kept = uow.session.begin_nested()
        uow.session.add(_tenant("kept"))
        kept.commit()
        dropped = uow.session.begin_nested()
        uow.session.add(_tenant("dropped"))
        uow.session.flush()
        dropped.rollback()
    with platform.db.unit_of_work(tenant_id) as uow:
        slugs = _slugs(uow.session)
    assert "kept" in slugs
    assert "dropped" not in slugs


def test_a_commit_inside_a_savepoint_is_still_refused(platform: Platform, tenant_id: uuid.UUID) -> None:
    with pytest.raises(RuntimeError, match="services never commit"), platform.db.unit_of_work(tenant_id) as uow:
        uow.session.begin_nested()
        uow.session.add(_tenant("sneaky"))
        uow.session.commit()
    with platform.db.unit_of_work(tenant_id) as uow:
        assert "sneaky" not in _slugs(uow.session)


def test_before_commit_writes_in_the_transaction_and_a_rollback_drops_it(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.before_commit(lambda: uow.session.add(_tenant("gathered")))
    with pytest.raises(ValueError, match="refused"), platform.db.unit_of_work(tenant_id) as uow:
        uow.before_commit(lambda: uow.session.add(_tenant("never")))
        raise ValueError("refused")
    with platform.db.unit_of_work(tenant_id) as uow:
        slugs = _slugs(uow.session)
    assert "gathered" in slugs
    assert "never" not in slugs


def test_a_callback_registered_before_the_commit_still_runs_in_the_transaction(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    """A consumer's gathered writes may put an object, whose writing registers a callback of its own."""
    order: list[str] = []

    def gathered() -> None:
        order.append("gathered")
        uow.before_commit(lambda: (order.append("registered while committing"), uow.session.add(_tenant("late"))))

    with platform.db.unit_of_work(tenant_id) as uow:
        uow.before_commit(gathered)
    assert order == ["gathered", "registered while committing"]
    with platform.db.unit_of_work(tenant_id) as uow:
        assert "late" in _slugs(uow.session)
