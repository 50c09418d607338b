import uuid
from datetime import date

from olly.eligibility import rules

P, A, M = uuid.UUID(int=1), uuid.UUID(int=2), uuid.UUID(int=3)


def row(status: str, start: date, end: date | None, policy: int = 1) -> rules.CoverageRow:
    return rules.CoverageRow(
        uuid.UUID(int=policy), A, M, M, "GROUP", status, "SELF", "M000000001", P, "PPO", "MEDICAL", start, end
    )


def test_decide() -> None:
    assert rules.decide([], date(2026, 1, 1)).reason == "NOT_FOUND"
    active = row("ACTIVE", date(2026, 1, 1), date(2026, 12, 31))
    assert rules.decide([active], date(2026, 6, 1)) == rules.Decision(True, "COVERED", active)
    assert rules.decide([active], date(2025, 12, 31)).reason == "NOT_COVERED_ON_DATE"
    assert rules.decide([active], date(2027, 1, 1)).reason == "TERMINATED"
    pending = row("SUBMITTED", date(2026, 1, 1), None)
    assert rules.decide([pending], date(2026, 1, 5)).reason == "PENDING_ACTIVATION"
    ended = row("TERMINATED", date(2026, 1, 1), date(2026, 3, 31))
    assert rules.decide([ended], date(2026, 3, 31)).covered
    assert rules.decide([ended], date(2026, 4, 1)).reason == "TERMINATED"


def test_service_types_map_to_categories() -> None:
    assert rules.category_for("98") == "office_visit"
    assert rules.category_for("uc") == "urgent_care"
    assert rules.category_for("30") is None
    assert rules.category_for("lab") == "lab"
