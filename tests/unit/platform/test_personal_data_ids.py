"""``ids_by_type``: a deletion request's items grouped for a handler whose record ids are UUIDs."""

from __future__ import annotations

import uuid
from datetime import date

from olly.platform.personal_data import PersonalDataItem, RecordCategory, ids_by_type


def item(record_type: str, record_id: str) -> PersonalDataItem:
    return PersonalDataItem("claims", record_type, record_id, RecordCategory.CLAIM, date(2026, 1, 1))


def test_record_ids_are_grouped_by_type_in_order_and_non_ids_are_passed_over() -> None:
    first, second, third = (uuid.UUID(int=n) for n in (1, 2, 3))
    grouped = ids_by_type(
        [
            item("claim", str(second)),
            item("accumulators", "2026-01-01"),  # a plan year: not a record id of this kind
            item("coverage", str(third)),
            item("claim", str(first)),
        ]
    )
    assert dict(grouped) == {"claim": [second, first], "coverage": [third]}
    assert grouped["appeal"] == []  # a type the request found nothing of
