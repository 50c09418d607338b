"""Employer roster import: each row atomic, a report of the rows that failed and why."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from olly import roster as service
from olly.enrollment import service as enrollment
from olly.enrollment.models import CoverageSpan, Policy
from olly.platform.runtime import Platform
from olly.policy_admin.models import Party
from tests.factories import ACCOUNT, PPO, FakePlans

HEADER = ",".join(service.ROSTER_COLUMNS)
ROSTER = f"""\ufeff{HEADER}
E1,CHILD,Kim,Ngo,2012-04-01,,,,,2026-01-01,,
E1,SELF,Lan,Ngo,1980-02-02,219-09-1111,lan@example.org,,{PPO},2026-01-01,,
E1,SPOUSE,Minh,Ngo,1979-03-03,219-09-2222,,,,2026-01-01,,
E2,SELF,Oli,Park,1990-07-07,219-09-3333,,,,2026-01-01,,
E2,CHILD,Pat,Park,2020-01-01,,,,,2026-01-01,,
E3,SELF,Quinn,Ruiz,2031-01-01,,,,{PPO},2026-01-01,,
E4,SELF,Rae,Sato,1970-01-01,123-45-678,,,{PPO},2026-01-01,,
E5,PARENT,Sal,Tan,1940-01-01,,,,,2026-01-01,,
E1,SELF,Lan,Ngo,1980-02-02,219-09-1111,,,{PPO},2026-01-01,,
"""


def test_roster_import_is_atomic_per_row_with_a_report(platform: Platform, tenant_id: uuid.UUID) -> None:
    report = service.import_roster(lambda: platform.db.unit_of_work(tenant_id), ACCOUNT, ROSTER, FakePlans())
    assert (report.rows, report.enrolled_employees, report.added_dependents) == (9, 1, 2)
    assert [(f.row, f.employee_id, [(e.field, e.code) for e in f.errors]) for f in report.failures] == [
        (4, "E2", [("plan_code", "required")]),
        (5, "E2", [("employee_id", "unknown_employee")]),
        (6, "E3", [("birth_date", "future_date")]),
        (7, "E4", [("ssn", "value_error")]),
        (8, "E5", [("employee_id", "unknown_employee")]),
        (9, "E1", [("employee_id", "business_rule_violation")]),
    ]
    text = report.failures_csv()
    assert text.splitlines()[0] == "row,employee_id,field,problem"
    assert "123-45-678" not in text and "Rae" not in text and "2031" not in text  # no values echoed
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        policy = uow.session.scalars(select(Policy)).one()
        assert (policy.subscriber_external_id, policy.status) == ("E1", "SUBMITTED")
        # each dependent row repriced the policy from 1 January (EE → EE+CH → EE+FAM, PPO +100.00):
        # the three are covered, as now known, on the last term only
        live = uow.session.scalars(select(CoverageSpan).where(CoverageSpan.superseded_at.is_(None))).all()
        terms = enrollment.EnrollmentRepository(uow).terms(policy.id)
        assert [(t.tier_code, t.period_start, t.total_premium_minor) for t in terms] == [
            ("EE", date(2026, 1, 1), 60000),
            ("EE+CH", date(2026, 1, 1), 100000),
            ("EE+FAM", date(2026, 1, 1), 160000),
        ]
        assert [(s.term_id, s.valid_from) for s in live] == [(terms[-1].id, date(2026, 1, 1))] * 3
        # failed rows left nothing behind: only the three Ngo family members exist
        assert uow.session.scalar(select(func.count()).select_from(Party)) == 3
        kim = [
            c for p in uow.session.scalars(select(Party)) for c in enrollment.coverage_on(uow, p.id, date(2026, 1, 1))
        ]
        assert sorted(c.element.relationship for c in kim) == ["CHILD", "SELF", "SPOUSE"]


def test_a_roster_without_the_required_columns_is_refused_whole(platform: Platform, tenant_id: uuid.UUID) -> None:
    import pytest

    from olly.kernel.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as info:
        service.import_roster(
            lambda: platform.db.unit_of_work(tenant_id), ACCOUNT, "employee_id,name\nE1,x\n", FakePlans()
        )
    assert info.value.errors[0].field == "header"
