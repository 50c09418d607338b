"""`olly claims backfill-coverage`: claims' coverage read model rebuilt from enrollment's current state
for coverage whose events claims never consumed; idempotent; stale schedules re-copied."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from olly.claims import backfill, handlers
from olly.claims import models as m
from olly.cli import app
from olly.config import get_settings
from olly.enrollment import service as enrollment
from olly.enrollment.plan_catalog import PlansCatalog
from olly.enrollment.rules import Market
from olly.enrollment.schemas import EnrollmentCreate
from olly.plans import service as plans_service
from olly.platform.runtime import Platform, build_platform
from tests.factories import ACCOUNT, person
from tests.integration.claims.support import POS, load_pos_plan

PPO, FLOATER = "OLLY-PPO-1000", "OLLY-FLOATER-5L"


def enrol(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID], start: date = date(2026, 1, 1)
) -> tuple[uuid.UUID, uuid.UUID]:
    """Ana's family on the PPO and Ben's mother on the floater (Eve declares E11), both active; the
    events stay unconsumed, as if claims had been installed afterwards."""
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    with platform.db.unit_of_work(tenant_id) as uow:
        group = enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP,
                account_id=ACCOUNT,
                subscriber_party_id=family["ana"],
                plan_code=PPO,
                effective_date=start,
                dependents=[{"party_id": family["cy"], "relationship": "CHILD"}],
            ),
            PlansCatalog(),
        ).id
        floater = enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.SUM_INSURED,
                account_id=uuid.uuid4(),
                subscriber_party_id=family["ben"],
                plan_code=FLOATER,
                effective_date=start,
                dependents=[{"party_id": family["grandma"], "relationship": "PARENT"}],
            ),
            PlansCatalog(),
        ).id
        enrollment.flag_underwriting(
            uow, floater, party_id=family["grandma"], flag="PRE_EXISTING_DISEASE", waiting_period_months=36,
            diagnosis_codes=["e11"],
        )  # fmt: skip
        enrollment.activate(uow, group)
        enrollment.activate(uow, floater)
    return group, floater


def coverage(platform: Platform, tenant_id: uuid.UUID) -> dict[uuid.UUID, tuple]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        rows = uow.session.scalars(select(m.CoverageView))
        return {
            r.member_id: (r.id, r.policy_id, r.family_id, r.plan_code, r.periods, r.birth_date, r.pre_existing)
            for r in rows
        }


def test_backfill_builds_coverage_once_and_refreshes_stale_schedules(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    group, floater = enrol(platform, tenant_id, family)
    # A PPO schedule copied before claims knew about out-of-network allowables.
    with platform.db.unit_of_work(tenant_id) as uow:
        row = handlers.sync_schedule(uow, PPO, uuid.uuid4(), date(2026, 1, 1))
        assert row is not None
        row.schedule = {k: v for k, v in row.schedule.items() if k != "outOfNetworkAllowable"}
    assert coverage(platform, tenant_id) == {}
    with platform.db.unit_of_work(tenant_id) as uow:
        report = backfill.backfill(uow, backfill.policies(uow), backfill.BackfillReport())
    assert (report.policies, report.members, report.added) == (2, 4, 4)
    assert report.schedules == {(PPO, date(2026, 1, 1)), (FLOATER, date(2026, 1, 1))}
    first = coverage(platform, tenant_id)
    year = [["2026-01-01", "2026-12-31"]]
    assert {member: row[1:] for member, row in first.items()} == {
        family["ana"]: (group, str(group), PPO, year, date(1985, 5, 20), None),
        family["cy"]: (group, str(group), PPO, year, date(2015, 9, 1), None),
        family["ben"]: (floater, str(floater), FLOATER, year, date(1986, 2, 11), None),
        family["grandma"]: (
            floater, str(floater), FLOATER, year, date(1950, 1, 1), {"codes": ["E11"], "months": 36},
        ),
    }  # fmt: skip
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        view = uow.session.scalars(select(m.BenefitScheduleView).where(m.BenefitScheduleView.plan_code == PPO)).one()
        assert view.schedule["outOfNetworkAllowable"]["percentOfBilled"] == "50"
    # Again: nothing new, the same rows.
    with platform.db.unit_of_work(tenant_id) as uow:
        again = backfill.backfill(uow, backfill.policies(uow), backfill.BackfillReport())
    assert (again.policies, again.members, again.added) == (2, 4, 0)
    assert coverage(platform, tenant_id) == first


runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("OLLY_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("OLLY_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'olly.db'}")
    monkeypatch.delenv("OLLY_MASTER_KEY", raising=False)
    get_settings.cache_clear()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    yield tmp_path
    get_settings.cache_clear()


def test_the_command_reports_and_is_idempotent(env: Path) -> None:
    platform = build_platform()
    try:
        tenant = platform.settings.default_tenant_id
        people = {
            "ana": person(platform, tenant, "Ana", date(1985, 5, 20)),
            "ben": person(platform, tenant, "Ben", date(1986, 2, 11)),
            "cy": person(platform, tenant, "Cy", date(2015, 9, 1)),
            "grandma": person(platform, tenant, "Eve", date(1950, 1, 1)),
        }
        today = platform.clock.now().date()  # the command runs on the real clock
        enrol(platform, tenant, people, date(today.year + (today.month == 12), today.month % 12 + 1, 1))
    finally:
        platform.close()
    first = runner.invoke(app, ["claims", "backfill-coverage", "--batch-size", "1"])
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == (
        "2 policies: coverage of 4 member(s) copied (4 new to claims); 2 plan schedule(s) refreshed"
    )
    second = runner.invoke(app, ["claims", "backfill-coverage"])
    assert second.stdout.strip() == (
        "2 policies: coverage of 4 member(s) copied (0 new to claims); 2 plan schedule(s) refreshed"
    )


def test_backfill_copies_a_pos_plan_as_pos_where_an_earlier_copy_said_ppo(
    platform: Platform, tenant_id: uuid.UUID, family: dict[str, uuid.UUID]
) -> None:
    """Claims used to copy a POS plan's type as PPO; the back-fill re-copies it as the catalog says."""
    with platform.db.unit_of_work(tenant_id) as uow:
        plans_service.load_demo_plans(uow, plans_service.limits_from_settings(platform.settings))
    load_pos_plan(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        policy = enrollment.enroll(
            uow,
            EnrollmentCreate(
                market=Market.GROUP, account_id=ACCOUNT, subscriber_party_id=family["ana"], plan_code=POS,
                effective_date=date(2026, 1, 1),
            ),
            PlansCatalog(),
        ).id  # fmt: skip
        enrollment.activate(uow, policy)
    with platform.db.unit_of_work(tenant_id) as uow:
        handlers.sync_policy(uow, policy)
        (row,) = uow.session.scalars(select(m.CoverageView))
        assert (row.plan_code, row.plan_type) == (POS, "POS")
        row.plan_type = "PPO"  # as an earlier release copied it
    with platform.db.unit_of_work(tenant_id) as uow:
        report = backfill.backfill(uow, backfill.policies(uow), backfill.BackfillReport())
    assert (report.policies, report.members, report.added) == (1, 1, 0)
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.scalars(select(m.CoverageView.plan_type)).all() == ["POS"]
