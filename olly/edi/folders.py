"""The watched inbox folder: ``<data_dir>/edi/<tenant>/inbox``.

A partner (or an SFTP server) drops a file into ``inbox/``; each file is taken in its own unit of
work, then moved atomically (``os.replace`` within one file system) to ``processed/`` (accepted in
whole or part) or ``failed/`` (rejected, or an error), with the acknowledgements Olly sends written
next to it (``NAME.ta1``, ``NAME.999``, ``NAME.277ca``, ``NAME.271``, ``NAME.277``). A file still
being written should arrive under a name starting with ``.`` or ending in ``.part`` and be renamed
when complete: those are skipped. Outbound files go to ``outbox/<partner code>/``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from olly.edi import service
from olly.edi.ports import Links
from olly.kernel.errors import OllyError
from olly.platform.db import Database
from olly.platform.logging import get_logger

log = get_logger("olly.edi.inbox")


@dataclass(frozen=True, slots=True)
class InboxOutcome:
    name: str
    moved_to: Path
    status: str
    """ACCEPTED, PARTIAL, REJECTED or ERROR."""
    file_id: uuid.UUID | None


def folders(db: Database, tenant_id: uuid.UUID) -> dict[str, Path]:
    root = Path(db.settings.data_dir) / "edi" / str(tenant_id)
    return {name: root / name for name in ("inbox", "processed", "failed", "outbox")}


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    counter = 1
    while target.exists():
        target = folder / f"{name}.{counter}"
        counter += 1
    return target


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".part")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


def waiting(db: Database, tenant_id: uuid.UUID) -> list[Path]:
    inbox = folders(db, tenant_id)["inbox"]
    if not inbox.is_dir():
        return []
    found = [p for p in inbox.iterdir() if p.is_file() and not p.name.startswith(".") and not p.name.endswith(".part")]
    return sorted(found, key=lambda p: (p.stat().st_mtime, p.name))


def process_inbox(
    db: Database,
    tenant_id: uuid.UUID,
    *,
    links: Links | None = None,
    limit: int = 100,
    on_file: Callable[[InboxOutcome], None] | None = None,
) -> list[InboxOutcome]:
    """Take in up to ``limit`` waiting files, oldest first."""
    places = folders(db, tenant_id)
    for place in places.values():
        place.mkdir(parents=True, exist_ok=True)
    outcomes = []
    for path in waiting(db, tenant_id)[:limit]:
        data = path.read_bytes()
        try:
            with db.unit_of_work(tenant_id) as uow:
                result = service.ingest(uow, data, source="inbox", filename=path.name, links=links)
            status, file_id = result.status, result.file_id
            replies = [(r.kind.lower(), r.text) for r in result.replies]
        except OllyError as exc:
            log.warning("edi inbox file failed", code=exc.code)
            status, file_id, replies = "ERROR", None, [("error", f"{exc.code}: {exc.title}\n")]
        except Exception:  # a file that breaks the gateway must not block the folder: park it
            log.exception("edi inbox file failed")
            status, file_id, replies = "ERROR", None, [("error", "internal_error\n")]
        folder = places["failed"] if status in ("REJECTED", "ERROR") else places["processed"]
        target = _free_name(folder, path.name)
        os.replace(path, target)
        by_kind: dict[str, list[str]] = {}
        for kind, text in replies:
            by_kind.setdefault(kind, []).append(text)
        for kind, texts in by_kind.items():
            _write(target.with_name(f"{target.name}.{kind}"), "".join(texts))
        outcome = InboxOutcome(path.name, target, status, file_id)
        outcomes.append(outcome)
        if on_file is not None:
            on_file(outcome)
    return outcomes
