"""The peer the eligibility benchmark compares against: a bare FastAPI endpoint doing one
primary-key lookup on the same database, with nothing else (no audit, no cache, no events)."""

from __future__ import annotations

import os
import uuid

from fastapi import FastAPI
from sqlalchemy import select

from olly.platform.db import build_engine, table_of
from olly.policy_admin.models import Party

engine = build_engine(os.environ["OLLY_DATABASE_URL"])
parties = table_of(Party)
app = FastAPI()


@app.get("/peer")
def peer(memberId: uuid.UUID) -> dict[str, object]:
    with engine.connect() as connection:
        row = connection.execute(select(parties.c.id, parties.c.kind).where(parties.c.id == memberId)).first()
    return {"member_id": str(memberId), "found": row is not None}
