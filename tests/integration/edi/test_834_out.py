"""The 834 Olly writes for an employer partner: everyone covered under its group, pyx12-valid, read
back by Olly's own 834 reader, stored, in the outbox and announced (EDI_834_GENERATED)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from olly.cli import app as cli
from olly.edi import read_all, service
from olly.edi.enrollment import EnrollmentChange
from olly.kernel.clock import FixedClock
from olly.kernel.errors import NotFound, ValidationFailed
from olly.platform.runtime import Platform
from olly.policy_admin.models import Account
from tests.factories import ACCOUNT, HMO, PPO
from tests.integration.edi.helpers import register
from tests.integration.edi.test_834_maintenance import (
    CHILD_COVERAGE_ENDS,
    CHILD_REINSTATEMENT,
    CHILD_TERMINATION,
    SUBSCRIBER_CHANGE,
    _family,
    _links,
)
from tests.integration.edi.test_gateway import events
from tests.integration.edi.test_links import enrollment_file
from tests.integration.edi.test_ways_in import cli_env  # noqa: F401  (fixture)
from tests.unit.edi.pyx12_judge import judge


def _account(platform: Platform, tenant_id: uuid.UUID) -> None:
    with platform.db.unit_of_work(tenant_id) as uow:
        uow.session.add(
            Account(
                id=ACCOUNT,
                kind="GROUP",
                account_number="G-1001",
                name="ACME CORP",
                billing_level="ACCOUNT",
                currency="USD",
                party_id=None,
                created_at=uow.clock.now(),
            )
        )


def _family_with_a_plan_change(platform: Platform, tenant_id: uuid.UUID) -> tuple[uuid.UUID, uuid.UUID]:
    links = _links()
    _account(platform, tenant_id)
    _, subscriber_id, child_id = _family(platform, tenant_id, links)
    with platform.db.unit_of_work(tenant_id) as uow:
        changed = service.ingest(uow, enrollment_file("000000002", [SUBSCRIBER_CHANGE]), source="cli", links=links)
    assert changed.enrollment_failures == []
    return subscriber_id, child_id


def test_834_snapshot_of_an_employer_group(platform: Platform, tenant_id: uuid.UUID) -> None:
    subscriber, child = _family_with_a_plan_change(platform, tenant_id)
    with platform.db.unit_of_work(tenant_id) as uow:
        row = service.send_enrollment(uow, "ACME", date(2026, 1, 15), _links())
        file_id = row.id
    assert (row.kind, row.reference, row.summary) == (
        "834",
        "834:2026-01-15",
        {"asOf": "2026-01-15", "members": 2, "subscribers": 1},
    )
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        text = service.file_content(uow, file_id)[1].decode()
    assert judge(text) == []
    lines = text.split("~\n")
    assert lines[3:7] == [
        "BGN*00*ACME-20260115*20260115*0900****4",
        "DTP*007*D8*20260115",
        "N1*P5*ACME CORP*94*G-1001",
        "N1*IN*OLLY HEALTH*FI*000000000",
    ]
    result = read_all(text.encode())
    assert result.report.accepted
    members = [t for t in result.transactions if isinstance(t, EnrollmentChange)]
    assert [
        (
            m.is_subscriber,
            m.relationship_code,
            m.maintenance,
            m.subscriber_id,
            m.group_policy_number,
            m.member_id,
            m.last_name,
            m.first_name,
            m.birth_date,
            m.address_lines,
            [(c.plan_description, c.coverage_level, str(c.begin), str(c.end)) for c in m.coverages],
        )
        for m in members
    ] == [
        (
            True,
            "18",
            "030",
            "E100",
            "G-1001",
            "219091111",
            "TRAN",
            "LAN",
            date(1980, 2, 2),
            ("12 MARKET ST", "APT 4"),
            [
                (PPO, "ECH", "2026-02-01", "2026-02-28"),  # the child's 834 addition repriced the policy to EE+CH
                (HMO, "ECH", "2026-03-01", "2026-12-31"),
            ],
        ),
        (
            False,
            "19",
            "030",
            "E100",
            "G-1001",
            None,
            "NGUYEN",
            "KIM",
            date(2012, 4, 1),
            (),
            [
                (PPO, "ECH", "2026-02-01", "2026-02-28"),
                (HMO, "ECH", "2026-03-01", "2026-12-31"),
            ],
        ),
    ]
    # REF*23: each member's own number, so a sponsor keeping it names the member exactly
    from olly.enrollment.models import PolicyElement

    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        numbers = {e.party_id: e.member_number for e in uow.session.query(PolicyElement)}
    assert [m.member_reference for m in members] == [numbers[subscriber], numbers[child]]
    assert all(numbers[party] for party in (subscriber, child))
    outbox = Path(platform.settings.data_dir, "edi", str(tenant_id), "outbox", "ACME")
    assert (outbox / service.outbound_name(row)).read_text() == text
    assert [
        (e["eventType"], e["receiverId"], e["implementationGuide"]) for e in events(platform, "edi.outbound.generated")
    ] == [("EDI_834_GENERATED", "EMPLOYER1", "005010X220A1")]
    # as of March only the plan in force from then on is reported
    with platform.db.unit_of_work(tenant_id) as uow:
        later = service.send_enrollment(uow, "ACME", date(2026, 3, 1), _links())
        later_text = service.file_content(uow, later.id)[1].decode()
    assert [
        m.coverages[0].plan_description
        for m in read_all(later_text.encode()).transactions
        if isinstance(m, EnrollmentChange)
    ] == [HMO, HMO]


def test_834_is_refused_for_a_partner_without_members(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier="CLINIC1")
    with platform.db.unit_of_work(tenant_id) as uow:
        with pytest.raises(ValidationFailed, match="no members to report"):
            service.send_enrollment(uow, "CLINIC", date(2026, 1, 15), _links())
        with pytest.raises(NotFound, match="no such active trading partner"):
            service.send_enrollment(uow, "NOPE", date(2026, 1, 15), _links())
    _account(platform, tenant_id)
    register(
        platform, tenant_id, "ACME", kind="EMPLOYER", qualifier="ZZ", identifier="EMPLOYER1", group_account_id=ACCOUNT
    )
    with platform.db.unit_of_work(tenant_id) as uow, pytest.raises(NotFound, match="nobody is covered"):
        service.send_enrollment(uow, "ACME", date(2026, 1, 15), _links())


def test_cli_writes_the_834(cli_env: Platform, tenant_id: uuid.UUID) -> None:  # noqa: F811
    _family_with_a_plan_change(cli_env, tenant_id)
    runner = CliRunner()
    written = runner.invoke(cli, ["edi", "enrollment", "ACME", "--as-of", "2026-03-01"])
    assert written.exit_code == 0, written.output
    assert "2 member(s), 1 subscriber(s), as of 2026-03-01" in written.output
    bad = runner.invoke(cli, ["edi", "enrollment", "ACME", "--as-of", "March"])
    assert bad.exit_code == 2 and "--as-of and --since must be dates" in bad.output


def test_834_of_the_changes_since_a_day(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> None:
    _family_with_a_plan_change(platform, tenant_id)
    clock.set(datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    with platform.db.unit_of_work(tenant_id) as uow:
        ended = service.ingest(uow, enrollment_file("000000003", [CHILD_COVERAGE_ENDS]), source="cli", links=_links())
    assert ended.enrollment_failures == []
    with platform.db.unit_of_work(tenant_id) as uow:
        row = service.send_enrollment(uow, "ACME", date(2026, 2, 10), _links(), since=date(2026, 2, 1))
        text = service.file_content(uow, row.id)[1].decode()
    assert (row.reference, row.summary) == (
        "834:2026-02-01..2026-02-10",
        {"asOf": "2026-02-10", "since": "2026-02-01", "members": 1, "subscribers": 0},
    )
    assert judge(text) == []
    lines = text.split("~\n")
    assert lines[3] == "BGN*00*ACME-20260210*20260210*0900****2"
    assert [line for line in lines if line.startswith(("INS", "HD", "DTP*34"))] == [
        "INS*N*19*024*07*A",
        f"HD*024**HLT*{PPO}*ECH",
        "DTP*348*D8*20260201",
        "DTP*349*D8*20260228",
        f"HD*024**HLT*{HMO}*ECH",
        "DTP*348*D8*20260301",
        "DTP*349*D8*20260331",
    ]
    (change,) = [t for t in read_all(text.encode()).transactions if isinstance(t, EnrollmentChange)]
    assert (change.maintenance, change.subscriber_id, change.last_name, change.first_name) == (
        "024",
        "E100",
        "NGUYEN",
        "KIM",
    )
    # from the start: the family's additions (once each), the plan change, then the child's end
    with platform.db.unit_of_work(tenant_id) as uow:
        everything = service.send_enrollment(uow, "ACME", date(2026, 2, 10), _links(), since=date(2026, 1, 1))
        full = service.file_content(uow, everything.id)[1].decode()
    assert judge(full) == []
    assert [line for line in full.split("~\n") if line.startswith("INS")] == [
        "INS*Y*18*021*28*A***FT",
        "INS*N*19*021*28*A",
        "INS*Y*18*001*AI*A***FT",
        "INS*N*19*001*AI*A",
        "INS*N*19*024*07*A",
    ]
    with platform.db.unit_of_work(tenant_id) as uow:
        with pytest.raises(NotFound, match="no member of the partner's group changed"):
            service.send_enrollment(uow, "ACME", date(2026, 2, 9), _links(), since=date(2026, 2, 1))
        with pytest.raises(ValidationFailed):
            service.send_enrollment(uow, "ACME", date(2026, 2, 10), _links(), since=date(2026, 3, 1))


def test_834_of_changes_reports_a_dependent_reinstated_with_025(
    platform: Platform, tenant_id: uuid.UUID, clock: FixedClock
) -> None:
    links = _links()
    _account(platform, tenant_id)
    _family(platform, tenant_id, links)
    clock.set(datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    for control, member in (("000000002", CHILD_TERMINATION), ("000000003", CHILD_REINSTATEMENT)):
        with platform.db.unit_of_work(tenant_id) as uow:
            applied = service.ingest(uow, enrollment_file(control, [member]), source="cli", links=links)
        assert applied.enrollment_failures == []
    with platform.db.unit_of_work(tenant_id) as uow:
        row = service.send_enrollment(uow, "ACME", date(2026, 2, 10), links, since=date(2026, 2, 1))
        text = service.file_content(uow, row.id)[1].decode()
    assert judge(text) == []
    # the removal, then the reinstatement (INS04 41), each with the child's cover as now known
    assert [line for line in text.split("~\n") if line.startswith(("INS", "HD", "DTP*34"))] == [
        "INS*N*19*024*07*A",
        f"HD*024**HLT*{PPO}*ECH",
        "DTP*348*D8*20260201",
        "DTP*349*D8*20260331",
        f"HD*024**HLT*{PPO}*ECH",
        "DTP*348*D8*20260401",
        "DTP*349*D8*20261231",
        "INS*N*19*025*41*A",
        f"HD*025**HLT*{PPO}*ECH",
        "DTP*348*D8*20260201",
        "DTP*349*D8*20260331",
        f"HD*025**HLT*{PPO}*ECH",
        "DTP*348*D8*20260401",
        "DTP*349*D8*20261231",
    ]
