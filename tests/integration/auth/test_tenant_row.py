"""Resolvers' one-row look-up never crosses tenants."""

from __future__ import annotations

import uuid
from datetime import date

from olly.notifications.access import NotificationFacts
from olly.notifications.models import Notification
from olly.platform.auth.resolvers import ResolveContext, ResourceRef, tenant_row
from olly.platform.db import table_of
from olly.platform.runtime import Platform


def _notification(platform: Platform, tenant_id: uuid.UUID, party_id: uuid.UUID) -> uuid.UUID:
    notification_id = uuid.uuid4()
    with platform.db.connect() as connection:
        connection.execute(
            table_of(Notification)
            .insert()
            .values(
                id=notification_id,
                tenant_id=tenant_id,
                party_id=party_id,
                kind="CLAIM_PAID",
                parameters=None,
                link=None,
                source_topic="claims.claim.paid",
                source_event_id=uuid.uuid4(),
                created_at=platform.clock.now(),
                read_at=None,
            )
        )
    return notification_id


def test_a_row_is_found_in_its_own_tenant_only(platform: Platform, tenant_id: uuid.UUID) -> None:
    party, stranger_tenant = uuid.uuid4(), uuid.uuid4()
    mine = _notification(platform, tenant_id, party)
    theirs = _notification(platform, stranger_tenant, party)
    here = ResolveContext(tenant_id=tenant_id, today=date(2026, 1, 15), db=platform.db)

    row = tenant_row(here, Notification, ("party_id", "kind"), id=mine)
    assert row is not None and (row.party_id, row.kind) == (party, "CLAIM_PAID")
    assert tenant_row(here, Notification, ("party_id",), id=theirs) is None
    assert tenant_row(here, Notification, ("party_id",), id=uuid.uuid4()) is None
    # every key must match: the right id with another party is no row
    assert tenant_row(here, Notification, ("party_id",), id=mine, party_id=uuid.uuid4()) is None


def test_a_resolver_treats_another_tenants_row_as_unknown(platform: Platform, tenant_id: uuid.UUID) -> None:
    party = uuid.uuid4()
    mine = _notification(platform, tenant_id, party)
    theirs = _notification(platform, uuid.uuid4(), party)
    here = ResolveContext(tenant_id=tenant_id, today=date(2026, 1, 15), db=platform.db)
    facts = NotificationFacts()

    found = facts.resolve(here, ResourceRef("notification", str(mine)))
    assert found is not None and found.party_ids == frozenset({party}) and found.resource_id == str(mine)
    assert facts.resolve(here, ResourceRef("notification", str(theirs))) is None
    assert facts.resolve(here, ResourceRef("notification", "not-a-uuid")) is None
