"""Avro schemas from the payload models, and the BACKWARD compatibility check CI relies on."""

from __future__ import annotations

import copy
import io
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import ClassVar, Literal

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from olly.claims.events import ClaimSubmitted
from olly.kernel.events import Amount, EventPayload
from olly.platform.bus import avro

ROOT = Path(__file__).resolve().parents[4]


def _variant(**changes: object) -> type[EventPayload]:
    """A copy of ClaimSubmitted's schema history subject, changed as a developer might change it."""
    fields = {name: (info.annotation, info) for name, info in ClaimSubmitted.model_fields.items()}
    for name, value in changes.items():
        if value is None:
            fields.pop(name)
        else:
            fields[name] = value  # type: ignore[assignment]
    namespace = {"__annotations__": {n: a for n, (a, _) in fields.items()}, "TOPIC": ClaimSubmitted.TOPIC}
    namespace.update({n: info for n, (_, info) in fields.items()})
    namespace["__module__"] = ClaimSubmitted.__module__
    namespace["__annotations__"]["TOPIC"] = ClassVar[str]
    return type("ClaimSubmitted", (EventPayload,), namespace)


def current() -> dict:
    return avro.record_schema(ClaimSubmitted)


def test_the_committed_schemas_are_current_and_compatible_with_every_earlier_version() -> None:
    assert avro.check_history(ROOT / "schemas") == []


def test_schema_maps_types_and_optional_fields() -> None:
    schema = current()
    types = {f["name"]: f["type"] for f in schema["fields"]}
    assert schema["name"] == "ClaimSubmitted"
    assert schema["namespace"] == "olly.claims"
    assert types["claimId"] == {"type": "string", "logicalType": "uuid"}
    assert types["serviceDate"] == {"type": "int", "logicalType": "date"}
    assert types["submittedAt"] == {"type": "long", "logicalType": "timestamp-micros"}
    assert types["totalBilledAmount"] == "string"
    assert types["requiresPriorAuth"] == "boolean"
    assert types["priorAuthId"] == ["null", {"type": "string", "logicalType": "uuid"}]
    defaults = {f["name"]: f.get("default", "—") for f in schema["fields"]}
    assert defaults["priorAuthId"] is None
    assert defaults["currency"] == "USD"
    assert defaults["claimId"] == "—"


def test_a_topic_with_several_models_is_a_union_of_records() -> None:
    schema = avro.generated_schemas()["claims.claim.adjudicated-value"]
    assert [r["name"] for r in schema] == ["ClaimApproved", "ClaimDenied"]


def test_removing_a_field_fails_the_check() -> None:
    changed = avro.record_schema(_variant(prior_auth_id=None))
    assert avro.check_compatibility(current(), changed) == ["olly.claims.ClaimSubmitted.priorAuthId: field removed"]


def test_changing_a_type_fails_the_check() -> None:
    changed = copy.deepcopy(current())
    for field in changed["fields"]:
        if field["name"] == "requiresPriorAuth":
            field["type"] = "string"
    problems = avro.check_compatibility(current(), changed)
    assert problems[0] == "olly.claims.ClaimSubmitted.requiresPriorAuth: type changed"
    assert any("cannot be read with the new one" in p for p in problems[1:])


def test_adding_an_optional_field_with_a_default_passes() -> None:
    from pydantic import Field

    changed = avro.record_schema(_variant(place_of_service=(str | None, Field(None))))
    assert changed["fields"][-1] == {"name": "placeOfService", "type": ["null", "string"], "default": None}
    assert avro.check_compatibility(current(), changed) == []


def test_adding_a_required_field_fails_the_check() -> None:
    from pydantic import Field

    changed = avro.record_schema(_variant(place_of_service=(str, Field(...))))
    problems = avro.check_compatibility(current(), changed)
    assert problems[0] == "olly.claims.ClaimSubmitted.placeOfService: added without a default"
    assert len(problems) == 3  # and both sample records fail to resolve


def test_a_new_version_is_appended_to_the_history_and_checked_against_the_old(tmp_path: Path) -> None:
    subject = tmp_path / "claims.claim.submitted-value"
    subject.mkdir()
    old = copy.deepcopy(current())
    old["fields"].append({"name": "legacyCode", "type": "string"})
    (subject / "v1.avsc").write_text(avro.dumps(old))
    problems = [p for p in avro.check_history(tmp_path) if p.startswith("claims.claim.submitted-value (models)")]
    assert problems == [
        "claims.claim.submitted-value (models) vs v1: olly.claims.ClaimSubmitted.legacyCode: field removed"
    ]


def test_avro_round_trip_of_a_payload() -> None:
    event = ClaimSubmitted(
        claim_id=uuid.UUID(int=5),
        member_id=uuid.UUID(int=6),
        provider_id=uuid.UUID(int=7),
        plan_id=uuid.UUID(int=8),
        claim_type="INSTITUTIONAL",
        total_billed_amount="1000.10",
        service_date=date(2026, 1, 2),
        submitted_at=datetime.fromisoformat("2026-01-03T04:05:06+00:00"),
        requires_prior_auth=True,
    )
    parsed = parse_schema(current(), named_schemas={})
    buffer = io.BytesIO()
    schemaless_writer(buffer, parsed, event.model_dump(by_alias=True, mode="python"))
    buffer.seek(0)
    assert ClaimSubmitted.model_validate(schemaless_reader(buffer, parsed, None)) == event


def test_literal_types_stay_strings_so_new_symbols_stay_compatible() -> None:
    class Probe(EventPayload):
        TOPIC: ClassVar[str] = "claims.claim.submitted"
        event_type: Literal["A", "B"]
        amount: Amount

    assert [f["type"] for f in avro.record_schema(Probe)["fields"][:3]] == ["string", "string", "string"]
