"""How the platform reaches notifications: the resolver of the policy decision point and the
personal-data handler of deletion requests (an in-app message is correspondence: deleted)."""

from __future__ import annotations

from olly.notifications import repository
from olly.notifications.models import Notification
from olly.platform.auth.resolvers import ResolveContext, ResourceRef, parse_uuid, tenant_row
from olly.platform.auth.rules import ResourceFacts
from olly.platform.db import UnitOfWork
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory


class NotificationFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        notification_id = parse_uuid(ref.resource_id)
        if notification_id is None:
            return None
        row = tenant_row(context, Notification, ("party_id",), id=notification_id)
        if row is None:
            return None
        return ResourceFacts(kind=ref.kind, resource_id=str(notification_id), party_ids=frozenset({row.party_id}))


class NotificationPersonalData:
    domain = "notifications"

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        return [
            PersonalDataItem(
                "notifications",
                "notification",
                str(n.id),
                RecordCategory.CORRESPONDENCE,
                n.created_at.date(),
                "an in-app notification",
            )
            for n in repository.of_party(uow.session, subject.party_id)
        ]

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        # Nothing obliges Olly to keep an inbox message: deletion is the only disposition.
        self.delete(uow, subject, items)

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repository.delete_notifications(uow.session, [i for i in (parse_uuid(x.record_id) for x in items) if i])
