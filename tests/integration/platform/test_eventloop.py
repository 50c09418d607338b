"""Inside ``on_event_loop()`` the database refuses to run, so an attempt on the loop gives up."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from olly.platform.eventloop import WouldBlock, on_event_loop, refuse_on_event_loop
from olly.platform.runtime import Platform


def test_the_database_refuses_inside_an_attempt_on_the_event_loop(platform: Platform, tenant_id: uuid.UUID) -> None:
    with on_event_loop():
        with pytest.raises(WouldBlock, match="database"):
            platform.db.unit_of_work(tenant_id, read_only=True)
        with pytest.raises(WouldBlock, match="database"), platform.db.connect():
            pass
    # Outside the attempt (and after it, the mark is gone) both work.
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert uow.session.execute(text("SELECT 1")).scalar_one() == 1
    with platform.db.connect() as connection:
        assert connection.execute(text("SELECT 2")).scalar_one() == 2


def test_the_mark_is_removed_when_the_attempt_fails() -> None:
    with pytest.raises(WouldBlock), on_event_loop():
        refuse_on_event_loop("anything")
    refuse_on_event_loop("anything")  # no longer marked: nothing raised
