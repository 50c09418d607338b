"""Identity's own resolvers (accounts, API clients, break-glass grants) and its personal-data handler."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from olly.platform.auth.models import (
    Account,
    ApiClient,
    BreakGlassGrant,
    PasswordResetToken,
    PortalSession,
    RecoveryCode,
)
from olly.platform.auth.resolvers import ResolveContext, ResourceRef, parse_uuid, tenant_row
from olly.platform.auth.rules import ResourceFacts
from olly.platform.db import UnitOfWork, table_of
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory

if TYPE_CHECKING:
    from olly.platform.auth.access import AccessControl


class AccountFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        account_id = parse_uuid(ref.resource_id)
        if account_id is None:
            return None
        row = tenant_row(context, Account, ("id", "party_id"), id=account_id)
        if row is None:
            return None
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(row.id),
            account_ids=frozenset({row.id}),
            party_ids=frozenset({row.party_id}) if row.party_id else frozenset(),
        )


class ApiClientFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        row = tenant_row(context, ApiClient, ("client_id",), client_id=ref.resource_id or "")
        return ResourceFacts(kind=ref.kind, resource_id=row.client_id) if row is not None else None


class BreakGlassFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        grant_id = parse_uuid(ref.resource_id)
        if grant_id is None:
            return None
        row = tenant_row(context, BreakGlassGrant, ("id", "account_id", "party_id"), id=grant_id)
        if row is None:
            return None
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(row.id),
            account_ids=frozenset({row.account_id}),
            party_ids=frozenset({row.party_id}) if row.party_id else frozenset(),
        )


class IdentityPersonalData:
    """A person's sign-in accounts are deleted outright (nothing in them must be kept); the
    break-glass grants that opened their records are access evidence, kept under a pseudonym."""

    domain = "identity"

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        items = [
            PersonalDataItem(
                "identity",
                "account",
                str(account.id),
                RecordCategory.ACCOUNT,
                account.created_at.date(),
                "sign-in account: e-mail, phone, name, password hash, second factor, sessions",
            )
            for account in uow.session.scalars(select(Account).where(Account.party_id == subject.party_id))
        ]
        items += [
            PersonalDataItem(
                "identity",
                "break_glass_grant",
                str(grant.id),
                RecordCategory.ACCESS_LOG,
                grant.opened_at.date(),
                "emergency access to this person's records by a staff member",
            )
            for grant in uow.session.scalars(
                select(BreakGlassGrant).where(BreakGlassGrant.party_id == subject.party_id)
            )
        ]
        return items

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        grant_ids = [parse_uuid(i.record_id) for i in items if i.record_type == "break_glass_grant"]
        if grant_ids:
            uow.session.execute(
                update(BreakGlassGrant).where(BreakGlassGrant.id.in_(grant_ids)).values(party_id=subject.pseudonym)
            )
        for item in items:
            if item.record_type == "account":
                self.delete(uow, subject, [item])

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        account_ids = [parse_uuid(i.record_id) for i in items if i.record_type == "account"]
        if account_ids:
            connection = uow.session.connection()
            for model in (PortalSession, PasswordResetToken):
                table = table_of(model)
                connection.execute(delete(table).where(table.c.account_id.in_(account_ids)))
            uow.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id.in_(account_ids)))
            uow.session.execute(delete(Account).where(Account.id.in_(account_ids)))
        grant_ids = [parse_uuid(i.record_id) for i in items if i.record_type == "break_glass_grant"]
        if grant_ids:
            uow.session.execute(delete(BreakGlassGrant).where(BreakGlassGrant.id.in_(grant_ids)))


def register_identity(control: AccessControl) -> None:
    for kind, resolver in (
        ("account", AccountFacts()),
        ("api_client", ApiClientFacts()),
        ("break_glass", BreakGlassFacts()),
    ):
        if control.resolvers.get(kind) is None:
            control.resolvers.register(kind, resolver)
    if control.personal_data.get("identity") is None:
        control.personal_data.register(IdentityPersonalData())
