"""Plan documents for tests: the shipped demo plans as data, and a way to break them one field at a time.

Other domains' tests can load a demo plan with ``load_demo_plans`` (service) or build a document
here and change what they need.
"""

from __future__ import annotations

import copy
from typing import Any, Final

from olly.plans import document, service

DEMO_FILES: Final = {
    "OLLY-PPO-1000": "employer-ppo.yaml",
    "OLLY-HMO-250": "employer-hmo.yaml",
    "OLLY-HDHP-3400": "employer-hdhp.yaml",
    "OLLY-ACA-SILVER": "aca-silver.yaml",
    "OLLY-FLOATER-5L": "family-floater-inr.yaml",
}

DELETE: Final = object()
"""Pass as the value to ``changed`` to remove the key."""


def demo_text(code: str) -> str:
    texts = dict(service.demo_documents())
    return texts[DEMO_FILES[code]]


def demo_data(code: str) -> dict[str, Any]:
    """A demo plan as plain data (decimals as ``Decimal``, dates as ``date``)."""
    data = document.parse_text(demo_text(code), "yaml")
    assert isinstance(data, dict)
    return data


def changed(data: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the dotted ``path`` set to ``value`` (or removed with ``DELETE``)."""
    result = copy.deepcopy(data)
    *parents, last = path.split(".")
    node: Any = result
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node.setdefault(_key(node, part), {})
    if isinstance(node, list):
        node[int(last)] = value
    elif value is DELETE:
        del node[_key(node, last)]
    else:
        node[_key(node, last)] = value
    return result


def _key(node: dict[Any, Any], part: str) -> Any:
    """YAML reads ``3:`` as the number 3: find such keys by their text."""
    if part not in node and part.isdigit() and int(part) in node:
        return int(part)
    return part


def demo_version(code: str, version: int, effective_from: str, **changes: Any) -> dict[str, Any]:
    """A demo plan as another version, effective from ``effective_from`` (ISO date)."""
    data = changed(demo_data(code), "version", version)
    data = changed(data, "effective_from", effective_from)
    for path, value in changes.items():
        data = changed(data, path.replace("__", "."), value)
    return data
