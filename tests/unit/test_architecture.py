"""Guards on the layout itself, so that a new domain is born inside the rules."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: Packages that are not bounded contexts: shared vocabulary, infrastructure, reference data, and the
#: adapters and composition layers (X12 gateway, portals, FHIR façade) that sit on top of the domains.
NOT_DOMAINS = {"kernel", "platform", "codesets", "edi", "web", "fhir"}


def contracts() -> list[dict[str, object]]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]  # type: ignore[no-any-return]


def test_every_domain_is_inside_the_independence_contract() -> None:
    packages = {p.parent.name for p in (ROOT / "olly").glob("*/__init__.py")}
    domains = {f"olly.{name}" for name in packages - NOT_DOMAINS}
    (independence,) = [c for c in contracts() if c["type"] == "independence"]
    listed = set(independence["modules"])  # type: ignore[arg-type]
    assert domains - listed == set(), "add the new domain to the independence contract in pyproject.toml"
    assert listed - domains == set(), "the contract lists a package that is not a domain"


def test_domain_tables_live_in_their_own_schema() -> None:
    from olly.platform.db import Base, import_all_models

    import_all_models()
    for mapper in Base.registry.mappers:
        module = mapper.class_.__module__.split(".")
        if module[1] in NOT_DOMAINS:
            continue
        assert mapper.local_table.schema == module[1], f"{mapper.class_.__name__} must live in schema {module[1]}"
