"""Identity use cases: accounts, sign-in with lockout, MFA, passwords, API clients, break-glass.

Every method that changes data takes the caller's unit of work and never commits. Sign-in and
second-factor checks are the exception that proves the rule: a failed attempt must be counted
even though the request fails, so those methods open their own unit of work, commit the counter,
and only then report the failure.
"""

from __future__ import annotations

import re
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from olly.config import Settings
from olly.kernel.clock import Clock
from olly.kernel.errors import Conflict, FieldError, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.platform.audit import AuditRecord, AuditTrail
from olly.platform.auth import totp
from olly.platform.auth.directory import SubjectDirectory, SubjectRecord, provider_ids_of, roles_of
from olly.platform.auth.errors import InvalidCredentials, MfaRequired
from olly.platform.auth.models import (
    Account,
    ApiClient,
    BreakGlassGrant,
    PasswordResetToken,
    RecoveryCode,
)
from olly.platform.auth.passwords import PasswordHashing, PasswordPolicy, context_words
from olly.platform.auth.plumbing import digest, new_secret
from olly.platform.auth.roles import STAFF_ROLES, AccountKind, Role
from olly.platform.auth.sessions import ACTIVE, MFA_ENROLMENT_REQUIRED, MFA_REQUIRED, SessionRecord, SessionStore
from olly.platform.crypto import NORMALISERS, blind_index_label
from olly.platform.db import Database, UnitOfWork, table_of

PERMANENT_LOCK_AFTER: Final = 100
"""NIST SP 800-63B: no more than 100 consecutive failed attempts on one account."""
RESET_TOKEN_LIFETIME: Final = timedelta(minutes=30)
_NPI = re.compile(r"^\d{10}$")


def valid_npi(npi: str) -> bool:
    """Ten digits whose Luhn check over ``80840`` + the first nine matches the tenth."""
    if not _NPI.match(npi):
        return False
    digits = [int(d) for d in "80840" + npi]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def lockout_for(failures: int, threshold: int, base_seconds: int, max_seconds: int) -> timedelta | None:
    """How long an account stays locked after ``failures`` consecutive failures (doubling each time)."""
    if failures < threshold:
        return None
    return timedelta(seconds=min(base_seconds * 2 ** min(failures - threshold, 30), max_seconds))


def token_cutoff(now: datetime) -> datetime:
    """Tokens carry whole-second ``iat``; refuse every one issued up to and including this second."""
    return now.replace(microsecond=0) + timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class NewAccount:
    kind: AccountKind
    email: str
    password: str | None = None
    display_name: str | None = None
    phone: str | None = None
    party_id: uuid.UUID | None = None
    group_account_id: uuid.UUID | None = None
    npi: str | None = None
    provider_organisation_id: uuid.UUID | None = None
    roles: frozenset[Role] = frozenset()
    queues: frozenset[str] = frozenset()
    oidc_issuer: str | None = None
    oidc_subject: str | None = None


@dataclass(frozen=True, slots=True)
class LoginOutcome:
    account: SubjectRecord
    stage: str


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    secret: str
    uri: str


@dataclass(frozen=True, slots=True)
class NewApiClient:
    client_id: str
    client_secret: str
    record: ApiClient


@dataclass(frozen=True, slots=True)
class AuditContext:
    subject: str
    role: str
    request_id: str | None
    tenant_id: uuid.UUID | None
    extra: dict[str, Any] = field(default_factory=dict)

    def record(
        self, action: str, resource_type: str, resource_id: str | None, outcome: str, **detail: Any
    ) -> AuditRecord:
        return AuditRecord(
            subject=self.subject,
            role=self.role,
            action=action,
            resource_type=resource_type,
            resource_id=resource_id,
            outcome=outcome,  # type: ignore[arg-type]
            purpose="authentication" if resource_type in ("account", "session") else "operations",
            request_id=self.request_id,
            tenant_id=self.tenant_id,
            detail={**self.extra, **detail},
        )


class ResetDelivery(Protocol):
    """Sends a password-reset link to the account's verified address (the notifications domain)."""

    def deliver(self, tenant_id: uuid.UUID, account_id: uuid.UUID, token: str, expires_at: datetime) -> None: ...


class UndeliveredResets:
    """Until a delivery channel is installed, reset requests are accepted and recorded, but no
    message leaves: an operator sets passwords with ``olly accounts``. The token is not kept."""

    def deliver(self, tenant_id: uuid.UUID, account_id: uuid.UUID, token: str, expires_at: datetime) -> None:
        return None


class IdentityService:
    def __init__(
        self,
        db: Database,
        settings: Settings,
        clock: Clock,
        passwords: PasswordHashing,
        sessions: SessionStore,
        directory: SubjectDirectory,
        audit: AuditTrail,
        resets: ResetDelivery | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.passwords = passwords
        self.sessions = sessions
        self.directory = directory
        self.audit = audit
        self.resets: ResetDelivery = resets or UndeliveredResets()

    # -- look-ups ---------------------------------------------------------------------------------
    def password_policy(self, kind: str) -> PasswordPolicy:
        minimum = (
            self.settings.password_min_length_staff if kind == AccountKind.STAFF else self.settings.password_min_length
        )
        return PasswordPolicy(min_length=minimum)

    def find_by_email(self, uow: UnitOfWork, email: str) -> Account | None:
        tenant_id = uow.require_tenant()
        index = self.db.session_info["crypto"].blind_index(
            uow.session.connection(),
            tenant_id,
            blind_index_label("login_accounts", "email"),
            NORMALISERS["casefold"](email),
        )
        return uow.session.scalars(select(Account).where(Account.email_index == index)).first()

    def get(self, uow: UnitOfWork, account_id: uuid.UUID) -> Account:
        account = uow.session.get(Account, account_id)
        if account is None:
            raise NotFound("no such account")
        return account

    def record_of(self, account: Account) -> SubjectRecord:
        return SubjectRecord(
            subject=f"account:{account.id}",
            tenant_id=account.tenant_id,
            kind=account.kind,
            active=account.status == "active",
            roles=roles_of(account.kind, account.roles),
            tokens_valid_after=account.tokens_valid_after,
            account_id=account.id,
            party_id=account.party_id,
            group_account_id=account.group_account_id,
            provider_ids=provider_ids_of(account.npi, account.provider_organisation_id),
            queues=frozenset(account.queues or ()),
            mfa_enabled=account.mfa_enabled_at is not None,
        )

    # -- accounts ---------------------------------------------------------------------------------
    def create_account(self, uow: UnitOfWork, new: NewAccount) -> Account:
        errors = self._link_errors(new)
        if new.password is not None:
            errors += self.password_policy(new.kind).problems(new.password, context_words(new.email))
        if errors:
            raise ValidationFailed(errors)
        if self.find_by_email(uow, new.email) is not None:
            raise Conflict("an account with this e-mail address already exists", extra={"field": "email"})
        now = self.clock.now()
        account = Account(
            id=uuid7(),
            kind=new.kind.value,
            status="active",
            email=new.email.strip(),
            phone=new.phone,
            display_name=new.display_name,
            password_hash=self.passwords.hash(new.password) if new.password is not None else None,
            password_changed_at=now if new.password is not None else None,
            party_id=new.party_id,
            group_account_id=new.group_account_id,
            npi=new.npi,
            provider_organisation_id=new.provider_organisation_id,
            roles=sorted(r.value for r in new.roles) if new.kind == AccountKind.STAFF else [],
            queues=sorted(new.queues) if new.kind == AccountKind.STAFF else [],
            oidc_issuer=new.oidc_issuer,
            oidc_subject=new.oidc_subject,
            failed_attempts=0,
            locked_until=None,
            tokens_valid_after=now.replace(microsecond=0),
            created_at=now,
            updated_at=now,
        )
        uow.session.add(account)
        try:
            uow.flush()
        except IntegrityError:
            raise Conflict("an account with this identity already exists") from None
        return account

    @staticmethod
    def _link_errors(new: NewAccount) -> list[FieldError]:
        errors: list[FieldError] = []
        if "@" not in new.email or len(new.email) > 320:
            errors.append(FieldError("email", "must be an e-mail address", "invalid_email"))
        if new.kind == AccountKind.MEMBER and new.party_id is None:
            errors.append(FieldError("partyId", "a member account names the member's party", "required"))
        if new.kind == AccountKind.EMPLOYER_ADMIN and new.group_account_id is None:
            errors.append(FieldError("groupAccountId", "an employer administrator names the group", "required"))
        if new.kind == AccountKind.PROVIDER:
            if new.npi is None and new.provider_organisation_id is None:
                errors.append(FieldError("npi", "a provider user names an NPI or an organisation", "required"))
            if new.npi is not None and not valid_npi(new.npi):
                errors.append(FieldError("npi", "must be 10 digits with a valid check digit", "invalid_npi"))
        if new.kind == AccountKind.STAFF:
            if not new.roles or not new.roles <= STAFF_ROLES:
                errors.append(FieldError("roles", "staff hold one or more staff roles", "invalid_roles"))
        elif new.roles or new.queues:
            errors.append(FieldError("roles", "only staff accounts hold roles and queues", "not_allowed"))
        return errors

    def set_status(self, uow: UnitOfWork, account_id: uuid.UUID, *, active: bool, by: AuditContext) -> Account:
        account = self.get(uow, account_id)
        now = self.clock.now()
        account.updated_at = now
        if active:
            account.status, account.disabled_at = "active", None
            account.failed_attempts, account.locked_until = 0, None
        else:
            account.status, account.disabled_at = "disabled", now
            account.tokens_valid_after = token_cutoff(now)
            self.sessions.revoke_account(uow.session.connection(), account.id, "account_disabled")
        uow.flush()
        self.audit.append(
            uow.session.connection(),
            [by.record("account.enable" if active else "account.disable", "account", str(account.id), "allowed")],
        )
        uow.after_commit(lambda: self.directory.invalidate(f"account:{account_id}"))
        return account

    def unlock(self, uow: UnitOfWork, account_id: uuid.UUID) -> Account:
        account = self.get(uow, account_id)
        account.failed_attempts, account.locked_until, account.updated_at = 0, None, self.clock.now()
        if account.status == "locked":
            account.status = "active"
        return account

    # -- sign-in ------------------------------------------------------------------------------------
    def login(self, tenant_id: uuid.UUID, email: str, password: str, ctx: AuditContext) -> LoginOutcome:
        """Check a password; on success the caller opens a session at the returned stage."""
        outcome: LoginOutcome | None = None
        with self.db.unit_of_work(tenant_id) as uow:
            now = self.clock.now()
            account = self.find_by_email(uow, email)
            connection = uow.session.connection()
            if account is None:
                self.passwords.verify(None, password)
                self.audit.append(connection, [ctx.record("auth.login", "account", None, "denied", reason="unknown")])
            elif account.status != "active" or (account.locked_until is not None and now < account.locked_until):
                self.passwords.verify(None, password)
                reason = "locked" if account.status == "active" else account.status
                self.audit.append(
                    connection, [ctx.record("auth.login", "account", str(account.id), "denied", reason=reason)]
                )
            elif not self.passwords.verify(account.password_hash, password):
                self._count_failure(account, now)
                self.audit.append(
                    connection,
                    [
                        ctx.record(
                            "auth.login",
                            "account",
                            str(account.id),
                            "denied",
                            reason="bad_password",
                            failures=account.failed_attempts,
                        )
                    ],
                )
            else:
                if account.password_hash and self.passwords.needs_rehash(account.password_hash):
                    account.password_hash = self.passwords.hash(password)
                account.failed_attempts, account.locked_until = 0, None
                account.last_login_at = account.updated_at = now
                record = self.record_of(account)
                if record.mfa_enabled:
                    stage = MFA_REQUIRED
                elif account.kind == AccountKind.STAFF:
                    stage = MFA_ENROLMENT_REQUIRED
                else:
                    stage = ACTIVE
                outcome = LoginOutcome(record, stage)
                self.audit.append(
                    connection, [ctx.record("auth.login", "account", str(account.id), "allowed", stage=stage)]
                )
        if outcome is None:
            raise InvalidCredentials("the e-mail address or password is not correct")
        return outcome

    def _count_failure(self, account: Account, now: datetime) -> None:
        account.failed_attempts += 1
        account.updated_at = now
        lock = lockout_for(
            account.failed_attempts,
            self.settings.lockout_threshold,
            self.settings.lockout_base_seconds,
            self.settings.lockout_max_seconds,
        )
        if lock is not None:
            account.locked_until = now + lock
        if account.failed_attempts >= PERMANENT_LOCK_AFTER:
            account.status = "locked"  # until an administrator unlocks it or the password is reset

    # -- second factor ----------------------------------------------------------------------------
    def verify_second_factor(
        self, session: SessionRecord, code: str | None, recovery_code: str | None, ctx: AuditContext
    ) -> tuple[str, str]:
        """Accept a TOTP or recovery code for a session awaiting it; returns the new session id and CSRF token."""
        assert session.account.account_id is not None
        result: tuple[str, str] | None = None
        with self.db.unit_of_work(session.tenant_id) as uow:
            account = self.get(uow, session.account.account_id)
            now = self.clock.now()
            connection = uow.session.connection()
            locked = account.locked_until is not None and now < account.locked_until
            method = self._check_factor(uow, account, code, recovery_code, now) if not locked else None
            if method is None:
                if not locked:
                    self._count_failure(account, now)
                if account.locked_until is not None and now < account.locked_until:
                    self.sessions.revoke(connection, session.id, "mfa_lockout")
                self.audit.append(
                    connection, [ctx.record("auth.mfa", "account", str(account.id), "denied", locked=locked)]
                )
            else:
                account.failed_attempts, account.locked_until = 0, None
                result = self.sessions.promote(connection, session, ACTIVE)
                self.audit.append(
                    connection, [ctx.record("auth.mfa", "account", str(account.id), "allowed", method=method)]
                )
        if result is None:
            raise InvalidCredentials("the code is not correct")
        return result

    def _check_factor(
        self, uow: UnitOfWork, account: Account, code: str | None, recovery_code: str | None, now: datetime
    ) -> str | None:
        if code and account.mfa_secret:
            step = totp.matching_step(account.mfa_secret, code, now, account.totp_last_step)
            if step is not None:
                account.totp_last_step = step
                return "totp"
        if recovery_code:
            found = uow.session.scalars(
                select(RecoveryCode).where(
                    RecoveryCode.account_id == account.id,
                    RecoveryCode.code_hash == totp.recovery_digest(recovery_code),
                    RecoveryCode.used_at.is_(None),
                )
            ).first()
            if found is not None:
                found.used_at = now
                return "recovery_code"
        return None

    def begin_totp(self, uow: UnitOfWork, account_id: uuid.UUID) -> TotpEnrolment:
        account = self.get(uow, account_id)
        secret = totp.new_secret()
        account.mfa_pending_secret = secret
        account.updated_at = self.clock.now()
        return TotpEnrolment(secret, totp.provisioning_uri(secret, f"account-{str(account.id)[-12:]}"))

    def confirm_totp(self, uow: UnitOfWork, account_id: uuid.UUID, code: str) -> list[str]:
        """Activate the pending TOTP secret if ``code`` matches it; returns fresh recovery codes."""
        account = self.get(uow, account_id)
        now = self.clock.now()
        if not account.mfa_pending_secret:
            raise ValidationFailed([FieldError("code", "start TOTP enrolment first", "no_enrolment")])
        step = totp.matching_step(account.mfa_pending_secret, code, now, None)
        if step is None:
            raise ValidationFailed([FieldError("code", "the code does not match the new secret", "mismatch")])
        account.mfa_secret, account.mfa_pending_secret = account.mfa_pending_secret, None
        account.totp_last_step, account.mfa_enabled_at, account.updated_at = step, now, now
        uow.after_commit(lambda: self.directory.invalidate(f"account:{account_id}"))
        return self.new_recovery_codes(uow, account)

    def new_recovery_codes(self, uow: UnitOfWork, account: Account) -> list[str]:
        uow.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
        codes = totp.new_recovery_codes()
        now = self.clock.now()
        for code in codes:
            uow.session.add(
                RecoveryCode(id=uuid7(), account_id=account.id, code_hash=totp.recovery_digest(code), created_at=now)
            )
        return codes

    def disable_totp(self, uow: UnitOfWork, account_id: uuid.UUID, code: str) -> None:
        account = self.get(uow, account_id)
        if account.kind == AccountKind.STAFF:
            raise ValidationFailed([FieldError("code", "staff accounts must keep a second factor", "required")])
        now = self.clock.now()
        step = totp.matching_step(account.mfa_secret, code, now, account.totp_last_step) if account.mfa_secret else None
        if step is None:
            raise ValidationFailed([FieldError("code", "the code is not correct", "mismatch")])
        account.mfa_secret = account.mfa_pending_secret = None
        account.mfa_enabled_at, account.totp_last_step, account.updated_at = None, None, now
        uow.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account.id))
        uow.after_commit(lambda: self.directory.invalidate(f"account:{account_id}"))

    def reauthenticate(self, session: SessionRecord, password: str, code: str | None, ctx: AuditContext) -> None:
        """Step-up: the person proves again who they are before an irreversible action."""
        assert session.account.account_id is not None
        ok = False
        with self.db.unit_of_work(session.tenant_id) as uow:
            account = self.get(uow, session.account.account_id)
            now = self.clock.now()
            connection = uow.session.connection()
            locked = account.locked_until is not None and now < account.locked_until
            if not locked and self.passwords.verify(account.password_hash, password):
                ok = account.mfa_enabled_at is None or self._check_factor(uow, account, code, None, now) is not None
            if ok:
                account.failed_attempts = 0
                self.sessions.mark_authenticated(connection, session.id)
            elif not locked:
                self._count_failure(account, now)
            self.audit.append(
                connection,
                [ctx.record("auth.reauthenticate", "account", str(account.id), "allowed" if ok else "denied")],
            )
        if not ok:
            if session.account.mfa_enabled and not code:
                raise MfaRequired("enter your password and a code from your authenticator")
            raise InvalidCredentials("the password or code is not correct")

    # -- passwords --------------------------------------------------------------------------------
    def change_password(
        self, uow: UnitOfWork, session: SessionRecord | None, account_id: uuid.UUID, current: str, new: str
    ) -> None:
        account = self.get(uow, account_id)
        if not self.passwords.verify(account.password_hash, current):
            raise InvalidCredentials("the current password is not correct")
        self._set_password(uow, account, new, keep_session=session.id if session else None)

    def _set_password(self, uow: UnitOfWork, account: Account, new: str, *, keep_session: uuid.UUID | None) -> None:
        self.password_policy(account.kind).check(new, context_words(account.email))
        now = self.clock.now()
        account.password_hash = self.passwords.hash(new)
        account.password_changed_at = account.updated_at = now
        account.tokens_valid_after = token_cutoff(now)
        account.failed_attempts, account.locked_until = 0, None
        if account.status == "locked":
            account.status = "active"
        self.sessions.revoke_account(uow.session.connection(), account.id, "password_changed", keep=keep_session)
        account_id = account.id
        uow.after_commit(lambda: self.directory.invalidate(f"account:{account_id}"))

    def request_password_reset(self, uow: UnitOfWork, email: str) -> None:
        """Issue a reset token if the address belongs to an active account; silent either way."""
        account = self.find_by_email(uow, email)
        if account is None or account.status == "disabled":
            return
        now = self.clock.now()
        token = new_secret()
        expires = now + RESET_TOKEN_LIFETIME
        uow.session.connection().execute(
            table_of(PasswordResetToken)
            .insert()
            .values(
                id=uuid7(),
                token_hash=digest(token),
                tenant_id=account.tenant_id,
                account_id=account.id,
                created_at=now,
                expires_at=expires,
                used=False,
            )
        )
        tenant_id, account_id = account.tenant_id, account.id
        uow.after_commit(lambda: self.resets.deliver(tenant_id, account_id, token, expires))

    def reset_password(self, uow: UnitOfWork, token: str, new: str) -> uuid.UUID:
        tokens = table_of(PasswordResetToken)
        connection = uow.session.connection()
        row = connection.execute(
            select(tokens).where(tokens.c.token_hash == digest(token), tokens.c.tenant_id == uow.require_tenant())
        ).first()
        if row is None or row.used or self.clock.now() >= row.expires_at:
            raise InvalidCredentials("the reset link is not valid or has expired")
        account = self.get(uow, row.account_id)
        if account.status == "disabled":
            raise InvalidCredentials("the reset link is not valid or has expired")
        self._set_password(uow, account, new, keep_session=None)
        connection.execute(tokens.update().where(tokens.c.account_id == account.id).values(used=True))
        return account.id

    # -- API clients ------------------------------------------------------------------------------
    def create_api_client(self, uow: UnitOfWork, name: str, provider_ids: list[str]) -> NewApiClient:
        if not provider_ids:
            raise ValidationFailed(
                [FieldError("providerIds", "name the NPIs or organisations it submits for", "required")]
            )
        client_id = "tp_" + secrets.token_hex(12)
        client_secret = new_secret(32)
        now = self.clock.now()
        record = ApiClient(
            id=uuid7(),
            client_id=client_id,
            name=name,
            secret_hash=self.passwords.hash(client_secret),
            status="active",
            provider_ids=sorted(set(provider_ids)),
            created_at=now,
            tokens_valid_after=now.replace(microsecond=0),
        )
        uow.session.add(record)
        uow.flush()
        return NewApiClient(client_id, client_secret, record)

    def set_api_client_status(self, uow: UnitOfWork, client_id: str, *, active: bool) -> ApiClient:
        record = uow.session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
        if record is None:
            raise NotFound("no such API client")
        now = self.clock.now()
        record.status = "active" if active else "disabled"
        record.disabled_at = None if active else now
        if not active:
            record.tokens_valid_after = token_cutoff(now)
        uow.after_commit(lambda: self.directory.invalidate(f"client:{client_id}"))
        return record

    def authenticate_client(self, client_id: str, client_secret: str) -> SubjectRecord:
        with self.db.unit_of_work(None, all_tenants=True, read_only=True) as uow:
            record = uow.session.scalars(select(ApiClient).where(ApiClient.client_id == client_id)).first()
            stored = record.secret_hash if record is not None and record.status == "active" else None
            ok = self.passwords.verify(stored, client_secret)
        if not ok or record is None:
            raise InvalidCredentials("the client credentials are not valid")
        state = self.directory.subject(f"client:{client_id}")
        if state is None or not state.active:
            raise InvalidCredentials("the client credentials are not valid")
        return state

    # -- break-glass ------------------------------------------------------------------------------
    def open_break_glass(
        self, uow: UnitOfWork, account_id: uuid.UUID, reason: str, party_id: uuid.UUID | None, minutes: int
    ) -> BreakGlassGrant:
        if len(reason.strip()) < 20:
            raise ValidationFailed([FieldError("reason", "state the emergency in at least 20 characters", "too_short")])
        if not 1 <= minutes <= self.settings.break_glass_max_minutes:
            raise ValidationFailed(
                [FieldError("minutes", f"between 1 and {self.settings.break_glass_max_minutes}", "out_of_range")]
            )
        now = self.clock.now()
        grant = BreakGlassGrant(
            id=uuid7(),
            account_id=account_id,
            reason=reason.strip(),
            party_id=party_id,
            opened_at=now,
            expires_at=now + timedelta(minutes=minutes),
            review_status="pending",
        )
        uow.session.add(grant)
        uow.flush()
        uow.after_commit(lambda: self.directory.invalidate(f"glass:{account_id}"))
        return grant

    def break_glass_grants(self, uow: UnitOfWork, *, pending_only: bool) -> list[BreakGlassGrant]:
        query = select(BreakGlassGrant).order_by(BreakGlassGrant.opened_at.desc())
        if pending_only:
            query = query.where(BreakGlassGrant.review_status == "pending")
        return list(uow.session.scalars(query.limit(500)))

    def review_break_glass(
        self, uow: UnitOfWork, grant_id: uuid.UUID, reviewer: uuid.UUID, outcome: str, note: str | None
    ) -> BreakGlassGrant:
        grant = uow.session.get(BreakGlassGrant, grant_id)
        if grant is None:
            raise NotFound("no such break-glass grant")
        if grant.account_id == reviewer:
            raise ValidationFailed([FieldError("grantId", "nobody reviews their own emergency access", "self_review")])
        if grant.review_status != "pending":
            raise Conflict("this grant has already been reviewed")
        now = self.clock.now()
        grant.review_status, grant.reviewed_at, grant.reviewed_by, grant.review_note = outcome, now, reviewer, note
        if grant.expires_at > now:
            grant.expires_at = now  # reviewing closes the grant
        grantee = grant.account_id
        uow.after_commit(lambda: self.directory.invalidate(f"glass:{grantee}"))
        return grant

    # -- OIDC staff --------------------------------------------------------------------------------
    def staff_from_oidc(
        self,
        uow: UnitOfWork,
        issuer: str,
        subject: str,
        email: str | None,
        name: str | None,
        roles: frozenset[Role],
    ) -> Account:
        """The staff account linked to this IdP subject, created on first sign-in; roles follow the IdP."""
        account = uow.session.scalars(
            select(Account).where(Account.oidc_issuer == issuer, Account.oidc_subject == subject)
        ).first()
        now = self.clock.now()
        if account is None:
            if not roles:
                raise InvalidCredentials("the identity provider grants this person no Olly role")
            account = self.create_account(
                uow,
                NewAccount(
                    kind=AccountKind.STAFF,
                    email=email or f"{subject}@oidc.invalid",
                    display_name=name,
                    roles=roles,
                    oidc_issuer=issuer,
                    oidc_subject=subject,
                ),
            )
        elif account.kind != AccountKind.STAFF:
            raise InvalidCredentials("this identity is not a staff account")
        else:
            account.roles = sorted(r.value for r in roles)
            account.updated_at = now
        account.last_login_at = now
        account_id = account.id
        uow.after_commit(lambda: self.directory.invalidate(f"account:{account_id}"))
        return account
