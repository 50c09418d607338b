"""HTTP routes of the notifications domain: a member's inbox (their own and their minor
dependents' notifications) and marking one read. The member portal's inbox calls these views."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Depends, Request

from olly.notifications import service
from olly.notifications.access import NotificationFacts, NotificationPersonalData
from olly.notifications.schemas import InboxRead, NotificationRead
from olly.platform.auth import SELF, Access, path, policy
from olly.platform.auth.access import AccessControl
from olly.platform.http import platform_of

router = APIRouter(prefix="/api/v1", tags=["notifications"])


def install(control: AccessControl) -> None:
    control.resolvers.register("notification", NotificationFacts())
    control.personal_data.register(NotificationPersonalData())


def _read(item: service.InboxItem) -> NotificationRead:
    return NotificationRead(
        id=item.id,
        party_id=item.party_id,
        kind=item.kind,
        title=item.title,
        body=item.body,
        link=item.link,
        created_at=item.created_at,
        read_at=item.read_at,
    )


@router.get("/notifications", response_model=InboxRead, summary="The caller's notifications, newest first")
def inbox(request: Request, access: Access = Depends(policy("notification.read", resource=SELF))) -> InboxRead:
    people = access.scope.party_ids | access.scope.dependent_party_ids
    with platform_of(request).db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        items = service.inbox(uow, people)
        unread = service.unread_count(uow, people)
    return InboxRead(unread=unread, items=[_read(i) for i in items])


@router.post("/notifications/{notification_id}/read", status_code=204, summary="Mark a notification read")
def mark_read(
    notification_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("notification.write", resource=path("notification_id"))),
) -> None:
    with platform_of(request).db.unit_of_work(access.principal.tenant_id) as uow:
        service.mark_read(uow, notification_id)
        platform_of(request).audit.append(
            uow.session.connection(), [access.audit_record(resource_id=str(notification_id))]
        )
