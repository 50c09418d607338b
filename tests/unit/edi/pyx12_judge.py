"""pyx12 as an independent judge of the X12 Olly writes.

pyx12 logs errors and still returns True for some of them, so the judge reads its JSON error
report and returns every error it recorded, at every level. For 277 (X212) pyx12 ships a map it
does not register: ``judge(..., register_x212=True)`` copies pyx12's map folder to a temporary
directory and registers it there.
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import pyx12
import pyx12.params
import pyx12.x12n_document

_MAPS = Path(pyx12.__file__).parent / "map"


@cache
def _x212_map_path() -> str:
    target = Path(tempfile.mkdtemp(prefix="olly-pyx12-maps-"))
    shutil.copytree(_MAPS, target, dirs_exist_ok=True)
    index = target / "maps.xml"
    text = index.read_text()
    entry = '<map vriic="005010X212" fic="HN" abbr="277">277.5010.X212.xml</map>'
    text = text.replace(
        '<map vriic="005010X214" fic="HN" abbr="277">', entry + '\n    <map vriic="005010X214" fic="HN" abbr="277">'
    )
    index.write_text(text)
    return str(target)


def _collect(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        for error in node.get("errors", []) or []:
            found.append(json.dumps(error, sort_keys=True))
        for value in node.values():
            if isinstance(value, (list, dict)):
                _collect(value, found)
    elif isinstance(node, list):
        for item in node:
            _collect(item, found)


class _Collector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def judge(text: str, *, register_x212: bool = False) -> list[str]:
    """Every error pyx12 finds in ``text`` (an empty list means it validates clean)."""
    collector = _Collector()
    logger = logging.getLogger("pyx12")
    logger.addHandler(collector)
    try:
        return _judge(text, register_x212, collector)
    finally:
        logger.removeHandler(collector)


def _judge(text: str, register_x212: bool, collector: _Collector) -> list[str]:
    param = pyx12.params.params()
    map_path = None
    if register_x212:
        map_path = _x212_map_path()
        param.set("map_path", map_path)
    report = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(
        param=param, src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_json=report, map_path=map_path
    )
    found: list[str] = list(collector.messages)
    raw = report.getvalue()
    if raw.strip():
        _collect(json.loads(raw), found)
    if not ok and not found:
        found.append("pyx12 reported failure")
    return found
