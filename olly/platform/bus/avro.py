"""Avro schemas derived from the payload models, their committed history, and the compatibility check.

One schema per topic, registered under the subject ``{topic}-value`` (TopicNameStrategy): a record
when the topic carries one payload model, a union of records when it carries several (a claim is
approved *or* denied on ``claims.claim.adjudicated``).

The committed history lives in ``schemas/{topic}-value/v{N}.avsc``. ``olly events schemas`` adds a
version when the models change; the compatibility check then proves every version readable by every
later one (BACKWARD, transitively) by writing sample data with the old schema and reading it with
the new one through fastavro's schema resolution, and refuses removed fields and changed types
outright (the catalog allows only optional fields with defaults to be added).
"""

from __future__ import annotations

import io
import json
import re
import types
import typing
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

from fastavro import parse_schema, schemaless_reader, schemaless_writer
from pydantic.fields import FieldInfo

from olly.kernel.events import EventPayload
from olly.platform.bus import catalog
from olly.platform.bus.payloads import payload_classes

AvroSchema = dict[str, Any] | list[Any] | str

_VERSION_FILE: Final = re.compile(r"^v(\d+)\.avsc$")
UUID_TYPE: Final = {"type": "string", "logicalType": "uuid"}
DATE_TYPE: Final = {"type": "int", "logicalType": "date"}
TIMESTAMP_TYPE: Final = {"type": "long", "logicalType": "timestamp-micros"}


class SchemaGenerationError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Models → Avro
# ---------------------------------------------------------------------------------------------
def _avro_type(annotation: Any) -> AvroSchema:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _avro_type(typing.get_args(annotation)[0])
    if origin is typing.Literal:
        return "string"
    if origin in (typing.Union, types.UnionType):
        members = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(members) != 1:
            raise SchemaGenerationError("only ``X | None`` unions map to Avro")
        return ["null", _avro_type(members[0])]
    if annotation is uuid.UUID:
        return dict(UUID_TYPE)
    if annotation is datetime:
        return dict(TIMESTAMP_TYPE)
    if annotation is date:
        return dict(DATE_TYPE)
    if annotation is bool:
        return "boolean"
    if annotation is int:
        return "long"
    if annotation is str:
        return "string"
    raise SchemaGenerationError(f"no Avro mapping for {annotation!r}")


def _field(name: str, info: FieldInfo) -> dict[str, Any]:
    avro_type = _avro_type(info.annotation)
    field: dict[str, Any] = {"name": info.alias or name, "type": avro_type}
    if info.description:
        field["doc"] = info.description
    if not info.is_required():
        default = info.get_default(call_default_factory=True)
        if isinstance(avro_type, list) and default is not None:
            # Avro takes a union's default from its first branch.
            field["type"] = [branch for branch in avro_type if branch != "null"] + ["null"]
        field["default"] = _json_default(default)
    return field


def _json_default(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    raise SchemaGenerationError(f"default {value!r} has no Avro form; use None, a string, a number or a bool")


def record_name(cls: type[EventPayload]) -> str:
    namespace = cls.__module__.rsplit(".", 1)[0]
    return f"{namespace}.{cls.__name__}"


def record_schema(cls: type[EventPayload]) -> dict[str, Any]:
    namespace, name = record_name(cls).rsplit(".", 1)
    schema: dict[str, Any] = {"type": "record", "name": name, "namespace": namespace}
    doc = (cls.__doc__ or "").strip().splitlines()
    if doc:
        schema["doc"] = doc[0]
    schema["fields"] = [_field(name, info) for name, info in cls.model_fields.items()]
    return schema


def topic_schema(classes: tuple[type[EventPayload], ...]) -> AvroSchema:
    records = [record_schema(cls) for cls in classes]
    return records[0] if len(records) == 1 else records


def generated_schemas() -> dict[str, AvroSchema]:
    """Schemas for every catalog topic that has payload models, by subject ``{topic}-value``."""
    return {
        f"{spec.name}-value": topic_schema(payload_classes()[spec.name])
        for spec in catalog.source_topics()
        if spec.name in payload_classes()
    }


# ---------------------------------------------------------------------------------------------
# The committed history
# ---------------------------------------------------------------------------------------------
def dumps(schema: AvroSchema) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


def history(root: Path, subject: str) -> list[AvroSchema]:
    """Every committed version of a subject, oldest first."""
    folder = root / subject
    if not folder.is_dir():
        return []
    versions = sorted(
        (int(match.group(1)), path)
        for path in folder.iterdir()
        if (match := _VERSION_FILE.match(path.name)) is not None
    )
    return [json.loads(path.read_text()) for _, path in versions]


def write_schemas(root: Path) -> list[str]:
    """Append a version for every subject whose models changed; return the files written."""
    written = []
    for subject, schema in generated_schemas().items():
        versions = history(root, subject)
        if versions and versions[-1] == schema:
            continue
        path = root / subject / f"v{len(versions) + 1}.avsc"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dumps(schema))
        written.append(str(path))
    return written


# ---------------------------------------------------------------------------------------------
# Compatibility
# ---------------------------------------------------------------------------------------------
def _records(schema: AvroSchema) -> list[dict[str, Any]]:
    branches = schema if isinstance(schema, list) else [schema]
    return [b for b in branches if isinstance(b, dict) and b.get("type") == "record"]


def _full_name(record: dict[str, Any]) -> str:
    return f"{record.get('namespace', '')}.{record['name']}".lstrip(".")


def _sample(avro_type: AvroSchema, filled: bool) -> Any:
    if isinstance(avro_type, list):
        concrete = [t for t in avro_type if t != "null"]
        if not filled and "null" in avro_type:
            return None
        return _sample(concrete[0], filled)
    if isinstance(avro_type, dict):
        logical = avro_type.get("logicalType")
        if logical == "uuid":
            return uuid.UUID(int=0x1234)
        if logical == "date":
            return date(2026, 1, 15)
        if logical == "timestamp-micros":
            return datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
        if avro_type.get("type") == "record":
            return {f["name"]: _sample(f["type"], filled) for f in avro_type["fields"]}
        if avro_type.get("type") == "enum":
            return avro_type["symbols"][0]
        return _sample(avro_type["type"], filled)
    return {"string": "x", "long": 7, "int": 7, "boolean": True, "double": 1.5, "float": 1.5, "bytes": b"x"}.get(
        avro_type
    )


def _samples(schema: AvroSchema) -> Iterator[tuple[str, Any]]:
    union = isinstance(schema, list)
    for record in _records(schema):
        for filled in (True, False):
            datum = _sample(record, filled)
            yield _full_name(record), ((_full_name(record), datum) if union else datum)


def check_compatibility(old: AvroSchema, new: AvroSchema) -> list[str]:
    """Why ``new`` cannot replace ``old`` under the catalog's rules; empty when it can.

    * data written with ``old`` must be readable with ``new`` (fastavro schema resolution);
    * no field of a record may be removed and no field may change type;
    * a field added to an existing record must have a default.
    """
    problems: list[str] = []
    new_records = {_full_name(r): r for r in _records(new)}
    for record in _records(old):
        name = _full_name(record)
        counterpart = new_records.get(name)
        if counterpart is None:
            problems.append(f"{name}: record removed")
            continue
        new_fields = {f["name"]: f for f in counterpart["fields"]}
        old_fields = {f["name"]: f for f in record["fields"]}
        for field_name, field in old_fields.items():
            if field_name not in new_fields:
                problems.append(f"{name}.{field_name}: field removed")
            elif _type_key(new_fields[field_name]["type"]) != _type_key(field["type"]):
                problems.append(f"{name}.{field_name}: type changed")
        for field_name, field in new_fields.items():
            if field_name not in old_fields and "default" not in field:
                problems.append(f"{name}.{field_name}: added without a default")
    try:
        writer = parse_schema(old, named_schemas={})
        reader = parse_schema(new, named_schemas={})
    except Exception as exc:  # noqa: BLE001 - any parse failure is a reason to refuse
        return [*problems, f"schema does not parse: {exc}"]
    for name, datum in _samples(old):
        buffer = io.BytesIO()
        schemaless_writer(buffer, writer, datum)
        buffer.seek(0)
        try:
            schemaless_reader(buffer, writer, reader)
        except Exception as exc:  # noqa: BLE001 - fastavro raises several types for a failed resolution
            problems.append(f"{name}: data written with the old schema cannot be read with the new one ({exc})")
    return problems


def _type_key(avro_type: AvroSchema) -> str:
    return json.dumps(_strip_docs(avro_type), sort_keys=True)


def _strip_docs(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_docs(v) for k, v in value.items() if k not in ("doc", "default")}
    if isinstance(value, list):
        return [_strip_docs(v) for v in value]
    return value


def check_history(root: Path) -> list[str]:
    """Problems in the committed history and against the current models; empty when all is well."""
    problems = []
    generated = generated_schemas()
    for subject, schema in generated.items():
        versions = history(root, subject)
        if not versions:
            problems.append(f"{subject}: no committed schema; run `olly events schemas`")
            continue
        for index, later in enumerate(versions[1:], start=1):
            for earlier_index in range(index):
                for problem in check_compatibility(versions[earlier_index], later):
                    problems.append(f"{subject} v{index + 1} vs v{earlier_index + 1}: {problem}")
        if versions[-1] != schema:
            for problem in check_compatibility(versions[-1], schema):
                problems.append(f"{subject} (models) vs v{len(versions)}: {problem}")
            problems.append(f"{subject}: models changed since v{len(versions)}; run `olly events schemas`")
    return problems
