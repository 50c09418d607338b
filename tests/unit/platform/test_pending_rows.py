"""``PendingRows``: a chunk's new rows, found and replaced by key, written together once before commit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from olly.platform.db import PendingRows, UnitOfWork


class _Work:
    def __init__(self) -> None:
        self.hooks: list[Callable[[], None]] = []

    def before_commit(self, callback: Callable[[], None]) -> None:
        self.hooks.append(callback)

    def commit(self) -> None:
        for hook in self.hooks:
            hook()


def test_rows_are_written_together_in_the_order_first_added_with_their_latest_values() -> None:
    work, written = _Work(), []
    rows: PendingRows[str, tuple[Any, ...]] = PendingRows(cast(UnitOfWork, work), written.append)
    rows["b"] = ("b", 1)
    rows["a"] = ("a", 1)
    assert rows.get("b") == ("b", 1) and "c" not in rows
    rows["b"] = ("b", 2)  # a later message of the chunk changes the row an earlier one added
    assert written == []
    work.commit()
    assert written == [[("b", 2), ("a", 1)]]
    assert rows == {}
    work.commit()  # nothing gathered since: nothing written
    assert written == [[("b", 2), ("a", 1)]]


def test_nothing_gathered_writes_nothing() -> None:
    work, written = _Work(), []
    PendingRows(cast(UnitOfWork, work), written.append)
    work.commit()
    assert written == []
