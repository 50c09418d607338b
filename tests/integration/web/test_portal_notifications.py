"""The member's inbox over HTTP on both engines: a claim's adjudication becomes one notification
(once, however often the event is delivered), the navigation shows the unread count, and marking
read is a CSRF-protected post that only the notification's owner (or guardian) may make."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.claims import public as claims_public
from olly.notifications import handlers, service
from olly.platform.bus.messages import Message
from olly.platform.runtime import Platform
from tests.integration.claims.support import ClaimsWorld, claim_body, drain, line, seed
from tests.integration.web.test_portal_claims import _csrf, _member
from tests.support.identity import https_client


@pytest.fixture
def world(platform: Platform) -> ClaimsWorld:
    return seed(platform, platform.settings.default_tenant_id)


@pytest.fixture
def client(platform: Platform, world: ClaimsWorld) -> Iterator[TestClient]:
    with https_client(create_app(platform, run_bus=False)) as test_client:
        yield test_client


def _claim(platform: Platform, member: uuid.UUID) -> str:
    with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
        data = claims_public.ClaimCreate.model_validate(claim_body(member, line("99213", "150.00")))
        claim_id = str(claims_public.submit_claim(uow, data, source="API").claim_id)
    drain(platform)
    return claim_id


def _items(html: str) -> list[tuple[str, str]]:
    block = html.split('data-testid="inbox">', 1)[1].split("</ul>", 1)[0]
    return [
        (re.sub(r"<[^>]+>", "", title).replace("New ", "").strip(), body.strip())
        for title, body in re.findall(r'<h2 class="inbox-title">(.*?)</h2>\s*<p>(.*?)</p>', block, re.S)
    ]


def test_an_adjudicated_claim_reaches_the_inbox_once_and_is_marked_read(
    client: TestClient, platform: Platform, world: ClaimsWorld
) -> None:
    claim_id = _claim(platform, world.ana)
    _claim(platform, world.ben)  # Ben is an adult: his notification is his alone
    _member(client, platform, world.ana)
    assert client.get("/notifications/unread").text.strip() == (
        '<span class="badge" data-testid="unread-count">1<span class="visually-hidden"> unread</span></span>'
    )
    page = client.get("/notifications")
    assert page.status_code == 200
    assert _items(page.text) == [
        (
            "Your explanation of benefits is ready",
            "A claim was processed: the plan pays 75.00 USD and your share is 25.00 USD.",
        )
    ]
    assert f'href="/claims/{claim_id}"' in page.text
    assert 'hx-get="/notifications/unread"' in page.text  # the navigation loads the count
    api = client.get("/api/v1/notifications").json()
    assert api["unread"] == 1
    (item,) = api["items"]
    assert (item["kind"], item["link"], item["read_at"]) == (
        "CLAIM_APPROVED",
        f"/claims/{claim_id}",
        None,
    )

    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        (bens,) = service.inbox(uow, [world.ben])
    others = client.post(f"/notifications/{bens.id}/read", data={"csrf_token": _csrf(page.text)})
    assert others.status_code == 404  # someone else's: its existence is not revealed
    no_token = client.post(f"/notifications/{item['id']}/read")
    assert no_token.status_code == 403
    assert client.get("/api/v1/notifications").json()["unread"] == 1

    marked = client.post(
        f"/notifications/{item['id']}/read", data={"csrf_token": _csrf(page.text)}, follow_redirects=False
    )
    assert (marked.status_code, marked.headers["location"]) == (303, "/notifications?read=1")
    after = client.get("/notifications?read=1")
    assert "Marked as read." in after.text and "Nothing unread." in after.text
    assert 'action="/notifications/' not in after.text  # no form left to mark it again
    assert client.get("/notifications/unread").text.strip() == "<span></span>"
    with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
        assert [i.read_at is None for i in service.inbox(uow, [world.ben])] == [True]  # Ben's untouched


def test_a_redelivered_event_adds_no_second_notification(platform: Platform, world: ClaimsWorld) -> None:
    tenant = platform.settings.default_tenant_id
    payload = {
        "eventType": "CLAIM_DENIED",
        "claimId": str(uuid.uuid4()),
        "memberId": str(world.solo),
        "appealDeadline": "2026-07-09",
    }
    with platform.db.unit_of_work(tenant) as uow:
        now = uow.clock.now()
    message = Message(
        topic="claims.claim.adjudicated",
        partition=0,
        offset=1,
        key=payload["claimId"],
        event_id=uuid.uuid4(),
        event_type="CLAIM_DENIED",
        schema_version="1.0",
        tenant_id=tenant,
        correlation_id=uuid.uuid4(),
        causation_id=None,
        occurred_at=now,
        created_at=now,
        payload=payload,
    )
    for _ in range(2):
        with platform.db.unit_of_work(tenant) as uow:
            handlers.on_claim_adjudicated(uow, message)
    with platform.db.unit_of_work(tenant, read_only=True) as uow:
        found = service.inbox(uow, [world.solo])
        assert [(n.kind, n.body, n.link) for n in found] == [
            ("CLAIM_DENIED", "A claim was denied. You may appeal until 2026-07-09.", f"/claims/{payload['claimId']}")
        ]
        assert service.unread_count(uow, [world.solo]) == 1
