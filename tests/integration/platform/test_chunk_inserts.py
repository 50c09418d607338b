"""The consumers' chunk inserts name their table's columns in the table's order, so on SQLite the
insert binds exactly them (``plain_insert``) and a chunk's rows go to the driver as tuples
(elsewhere, a COPY or an insert: each domain's chunk test compares what is stored)."""

from __future__ import annotations

import uuid

import pytest

from olly.claims import appeals
from olly.claims.authorization_models import AppealableClaim
from olly.eligibility import service as eligibility
from olly.eligibility.models import AccumulatorBalance
from olly.notifications import service as notifications
from olly.notifications.models import Notification
from olly.platform.db import Base, plain_insert, table_of
from olly.platform.runtime import Platform


@pytest.mark.parametrize(
    ("model", "columns"),
    [
        (AppealableClaim, appeals.APPEALABLE_COLUMNS),
        (AccumulatorBalance, eligibility.BALANCE_COLUMNS),
        (Notification, notifications.NOTICE_COLUMNS),
    ],
    ids=["appealable claims", "accumulator balances", "notifications"],
)
def test_a_chunk_s_rows_go_straight_to_sqlite_s_driver(
    sqlite_platform: Platform, tenant_id: uuid.UUID, model: type[Base], columns: tuple[str, ...]
) -> None:
    table = table_of(model)
    assert tuple(column.name for column in table.columns) == columns
    with sqlite_platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert plain_insert(uow.session.connection(), table, columns) is not None
