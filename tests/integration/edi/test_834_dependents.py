"""Which dependent an 834 change (001) or termination (024) is about when it carries no SSN: the
subscriber's policy (REF*0F) and the relationship (INS02), then the member number (REF*23) when sent,
else the one dependent matching the name and birth date, else the one matching either; more than one
is refused (``ambiguous_dependent``) and nothing of that member is written."""

from __future__ import annotations

import uuid
from datetime import date

from olly.edi import service
from olly.enrollment import public as enrollment_public
from olly.platform.runtime import Platform
from olly.policy_admin.models import Party
from tests.factories import PPO
from tests.integration.edi.test_834_maintenance import _failures, _family, _links
from tests.integration.edi.test_links import enrollment_file

AMBIGUOUS = (
    "more than one dependent of that relationship on the subscriber's policy matches the member's"
    " name or birth date: send the SSN or the member number (REF*23)"
)
UNKNOWN = (
    "no dependent of that relationship on the subscriber's policy matches the member"
    " (SSN, member number REF*23, or name or birth date)"
)


def _child(maintenance: str, first: str, born: str, *extra: str, relationship: str = "19") -> list[str]:
    return [
        f"INS*N*{relationship}*{maintenance}*{'28' if maintenance == '021' else '25'}*A",
        "REF*0F*E100",
        *extra,
        f"NM1*IL*1*NGUYEN*{first}",
        "N3*9 RIVER RD",
        "N4*LANCASTER*PA*17601",
        f"DMG*D8*{born}*F",
        f"HD*{maintenance}**HLT*{PPO}*FAM",
        "DTP*348*D8*20260201",
    ]


def _people(platform: Platform, tenant_id: uuid.UUID, *party_ids: uuid.UUID) -> list[tuple[str, date, object]]:
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        found = [uow.session.get(Party, p) for p in party_ids]
        return [(p.given_name or "", p.birth_date, (p.address or {}).get("city")) for p in found if p is not None]


def _ingest(platform: Platform, tenant_id: uuid.UUID, control: str, *members: list[str]) -> service.IngestResult:
    with platform.db.unit_of_work(tenant_id) as uow:
        return service.ingest(uow, enrollment_file(control, list(members)), source="cli", links=_links())


def test_a_dependent_without_ssn_is_found_by_name_or_birth_date_and_corrected(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    policy_id, _, kim = _family(platform, tenant_id, _links())  # KIM, born 2012-04-01, no SSN
    # the given name corrected (the birth date matches), then the birth date (the name matches)
    renamed = _ingest(platform, tenant_id, "000000002", _child("001", "KIMBERLY", "20120401"))
    assert (renamed.enrollment_failures, [(c.kind, c.id) for c in renamed.created]) == (
        [],
        [("policy", str(policy_id)), ("party", str(kim))],
    )
    assert _people(platform, tenant_id, kim) == [("KIMBERLY", date(2012, 4, 1), "LANCASTER")]
    redated = _ingest(platform, tenant_id, "000000003", _child("001", "KIMBERLY", "20120402"))
    assert redated.enrollment_failures == []
    assert _people(platform, tenant_id, kim) == [("KIMBERLY", date(2012, 4, 2), "LANCASTER")]
    # both differing at once, without a member number: nobody matches
    lost = _ingest(platform, tenant_id, "000000004", _child("001", "KIM", "20120403"))
    assert lost.enrollment_failures == [{"segment": 7, "code": "unknown_dependent", "reason": UNKNOWN}]
    # the relationship counts: no spouse on the policy has her name or birth date
    spouse = _ingest(platform, tenant_id, "000000005", _child("001", "KIMBERLY", "20120402", relationship="01"))
    assert spouse.enrollment_failures == [{"segment": 7, "code": "unknown_dependent", "reason": UNKNOWN}]
    assert _people(platform, tenant_id, kim) == [("KIMBERLY", date(2012, 4, 2), "LANCASTER")]


def test_the_member_number_in_ref_23_decides_alone(platform: Platform, tenant_id: uuid.UUID) -> None:
    policy_id, _, kim = _family(platform, tenant_id, _links())
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        (number,) = {f.member_number for f in enrollment_public.coverage_facts(uow, policy_id, kim)}
    both = _ingest(platform, tenant_id, "000000002", _child("001", "KIMBERLY", "20120403", f"REF*23*{number}"))
    assert both.enrollment_failures == []
    assert _people(platform, tenant_id, kim) == [("KIMBERLY", date(2012, 4, 3), "LANCASTER")]
    # a number that is not one of the policy's children is not overruled by a matching name
    wrong = _ingest(platform, tenant_id, "000000003", _child("001", "KIMBERLY", "20120403", "REF*23*NOPE1"))
    assert wrong.enrollment_failures == [{"segment": 7, "code": "unknown_dependent", "reason": UNKNOWN}]


def test_two_children_that_could_be_meant_are_an_error_and_nothing_is_written(
    platform: Platform, tenant_id: uuid.UUID
) -> None:
    policy_id, _, kim = _family(platform, tenant_id, _links())
    twin = _ingest(platform, tenant_id, "000000002", _child("021", "MAI", "20120401"))  # KIM's twin
    assert twin.enrollment_failures == []
    mai = uuid.UUID(twin.created[1].id)
    before = _people(platform, tenant_id, kim, mai)
    assert before == [("KIM", date(2012, 4, 1), None), ("MAI", date(2012, 4, 1), None)]  # an add keeps no address
    # a corrected name on the twins' birth date could be either: refused, address included
    result = _ingest(platform, tenant_id, "000000003", _child("001", "KIMMY", "20120401"))
    expected = [{"segment": 7, "code": "ambiguous_dependent", "reason": AMBIGUOUS}]
    assert (result.status, result.enrollment_failures, result.created) == ("ACCEPTED", expected, [])
    assert _failures(platform, tenant_id, result.file_id) == (
        expected,
        [("FAILED_ENROLLMENT", {"code": "ambiguous_dependent", "reason": AMBIGUOUS})],
    )
    assert _people(platform, tenant_id, kim, mai) == before
    # a termination is identified the same way: ambiguous is refused, and nobody's coverage ends
    ended = _ingest(platform, tenant_id, "000000004", [*_child("024", "KIMMY", "20120401")[:-1], "DTP*349*D8*20260331"])
    assert [f["code"] for f in ended.enrollment_failures] == ["ambiguous_dependent"]
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert {f.valid_to for f in enrollment_public.coverage_facts(uow, policy_id) if f.party_id in (kim, mai)} == {
            date(2026, 12, 31)
        }
    # the full name and birth date single KIM out, although her twin shares the birth date
    exact = _ingest(platform, tenant_id, "000000005", _child("001", "KIM", "20120401"))
    assert (exact.enrollment_failures, exact.created[1].id) == ([], str(kim))
    assert _people(platform, tenant_id, kim, mai) == [
        ("KIM", date(2012, 4, 1), "LANCASTER"),
        ("MAI", date(2012, 4, 1), None),
    ]
