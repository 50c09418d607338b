"""The policy decision point at run time: authenticate the request, decide, audit.

``AccessControl`` is built once per app. Domains register their relationship resolvers and
personal-data handlers on it while the app is assembled (``app.state.access``); it binds to the
platform (database, clock, keys) when the app starts.

Order of a decision, so that nothing leaks through the order itself:

1. authenticate (bearer token, else session cookie) — 401 when missing or invalid;
2. a session still awaiting its second factor may only reach the MFA routes — 401;
3. unsafe methods on a cookie session need the session's CSRF token (header, or a form's field) — 403;
4. no role of the caller may ever do the action — 403, without looking the resource up;
5. the resource is looked up: unknown, or someone else's — 404 either way (existence is hidden);
6. session-only routes refuse bearer tokens — 403; step-up routes need a sign-in within the last
   few minutes (sessions only) — 401 ``reauthentication_required``;
7. allowed. Refusals are always audited; allowed access to PHI kinds is audited with its purpose
   (reads through the audit trail's group-commit writer, committed within its flush interval).
"""

from __future__ import annotations

import hmac
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final

from fastapi import Request
from starlette.types import Scope

from olly.kernel.errors import OllyError
from olly.platform.audit import AuditRecord
from olly.platform.auth.catalog import RESOURCE_KINDS
from olly.platform.auth.directory import SubjectDirectory, SubjectRecord
from olly.platform.auth.errors import (
    AccessDenied,
    CsrfRejected,
    InvalidToken,
    MfaEnrolmentRequired,
    MfaRequired,
    NotAuthenticated,
    RateLimited,
    ReauthenticationRequired,
)
from olly.platform.auth.models import Account
from olly.platform.auth.passwords import PasswordHashing
from olly.platform.auth.policy import Access, Locator, PolicyDependency
from olly.platform.auth.principal import ANONYMOUS, Principal
from olly.platform.auth.ratelimit import MemoryRateLimiter, Rate, RateLimiter, RedisRateLimiter
from olly.platform.auth.resolvers import PartyFacts, ResolveContext, ResolverRegistry, ResourceRef
from olly.platform.auth.roles import Role
from olly.platform.auth.rules import (
    BreakGlassScope,
    Decision,
    Reason,
    ResourceFacts,
    SubjectFacts,
    access_scope,
    decide,
    grants_for,
)
from olly.platform.auth.service import IdentityService, ResetDelivery
from olly.platform.auth.sessions import ACTIVE, MFA_ENROLMENT_REQUIRED, SessionRecord, SessionStore
from olly.platform.auth.tokens import TokenKeyRing, TokenService
from olly.platform.http import request_id_of
from olly.platform.logging import get_logger
from olly.platform.personal_data import PersonalDataRegistry

if TYPE_CHECKING:
    from olly.platform.auth.oidc import OidcClient
    from olly.platform.runtime import Platform

log = get_logger("olly.auth")

SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER: Final = "X-CSRF-Token"

PURPOSE_OF_ROLE: Final[dict[Role, str]] = {
    Role.MEMBER: "individual_access",
    Role.EMPLOYER_ADMIN: "plan_administration",
    Role.PROVIDER: "treatment",
    Role.TRADING_PARTNER: "payment",
    Role.CLAIMS_EXAMINER: "payment",
    Role.BILLING: "payment",
    Role.ENROLLMENT_SPECIALIST: "operations",
    Role.CREDENTIALING: "operations",
    Role.PROVIDER_RELATIONS: "operations",
    Role.COMPLIANCE_AUDITOR: "oversight",
    Role.ADMINISTRATOR: "operations",
}


def cookie_names(secure: bool) -> tuple[str, str, str]:
    """Session, CSRF and OIDC-binding cookie names. ``__Host-`` pins them to this host, path /, Secure."""
    prefix = "__Host-" if secure else ""
    return f"{prefix}olly_session", f"{prefix}olly_csrf", f"{prefix}olly_oidc"


class AccessControl:
    def __init__(self) -> None:
        self.resolvers = ResolverRegistry()
        self.personal_data = PersonalDataRegistry()
        self.resets: ResetDelivery | None = None
        self.http_transport: Any = None
        """An httpx transport for the OIDC provider (tests put a fake issuer here)."""
        self._platform: Platform | None = None
        self.resolvers.register("party", PartyFacts())

    # -- binding ----------------------------------------------------------------------------------
    def bind(self, platform: Platform, *, limiter: RateLimiter | None = None) -> None:
        from olly.platform.auth.identity_facts import register_identity
        from olly.platform.auth.oidc import OidcClient

        self._platform = platform
        settings = platform.settings
        self.settings = settings
        self.clock = platform.clock
        self.db = platform.db
        self.audit = platform.audit
        self.directory = SubjectDirectory(platform.db, platform.clock, settings.revocation_cache_seconds)
        self.tokens = TokenService(
            TokenKeyRing.from_settings(settings),
            settings.token_issuer,
            settings.token_audience,
            settings.access_token_ttl_seconds,
        )
        self.sessions = SessionStore(platform.db, platform.clock, settings)
        self.passwords = PasswordHashing(settings.argon2_memory_kib, settings.argon2_time_cost)
        self.identity = IdentityService(
            platform.db,
            settings,
            platform.clock,
            self.passwords,
            self.sessions,
            self.directory,
            platform.audit,
            self.resets,
        )
        if limiter is not None:
            self.limiter: RateLimiter = limiter
        elif settings.redis_url:
            self.limiter = RedisRateLimiter.from_url(settings.redis_url, platform.clock)
        else:
            self.limiter = MemoryRateLimiter(platform.clock)
        self.oidc: OidcClient | None = (
            OidcClient(settings, platform.clock, self.http_transport) if settings.oidc_issuer else None
        )
        if self.resets is None and settings.smtp_host:
            from olly.platform.mail import MailedResets

            self.identity.resets = MailedResets(settings, self._account_address)
        self.session_cookie, self.csrf_cookie, self.oidc_cookie = cookie_names(settings.session_cookie_secure)
        register_identity(self)

    def close(self) -> None:
        """Send what the mail thread still holds (a reset link asked for just before shutdown)."""
        if not self.bound:
            return
        from olly.platform.mail import MailedResets

        if isinstance(self.identity.resets, MailedResets):
            self.identity.resets.close()

    def _account_address(self, tenant_id: uuid.UUID, account_id: uuid.UUID) -> str | None:
        """The sign-in address of an account (opened from its sealed column), for a reset e-mail."""
        with self.db.unit_of_work(tenant_id, read_only=True) as uow:
            account = uow.session.get(Account, account_id)
            return account.email if account is not None and account.status != "disabled" else None

    @property
    def bound(self) -> bool:
        return self._platform is not None

    # -- rate limits ------------------------------------------------------------------------------
    def rate(self, bucket: str) -> Rate:
        s = self.settings
        rates = {
            "public": Rate(s.public_rate_per_minute, 60),
            "login": Rate(s.login_rate_per_minute, 60),
            "password_reset": Rate(s.password_reset_rate_per_hour, 3600),
            "token": Rate(max(s.login_rate_per_minute, 30), 60),
        }
        return rates[bucket]

    def limit(self, bucket: str, key: str) -> None:
        decision = self.limiter.hit(bucket, key, self.rate(bucket))
        if not decision.allowed:
            raise RateLimited(decision.retry_after_seconds)

    def limit_public(self, request: Request, bucket: str) -> None:
        self.limit(bucket, client_address(request))

    # -- authentication ---------------------------------------------------------------------------
    def authenticate(self, request: Request) -> Principal | None:
        cached = getattr(request.state, "olly_principal", None)
        if isinstance(cached, Principal):
            return cached
        principal: Principal | None = None
        authorization = request.headers.get("authorization")
        if authorization is not None:
            scheme, _, credentials = authorization.partition(" ")
            if scheme.lower() != "bearer" or not credentials.strip():
                raise InvalidToken("present a bearer token: Authorization: Bearer <token>")
            principal = self.principal_from_token(credentials.strip())
        else:
            cookie = request.cookies.get(self.session_cookie)
            if cookie:
                session = self.sessions.lookup(cookie)
                request.state.olly_session = session
                principal = principal_of(session.account, "session", session)
        if principal is not None:
            request.state.olly_principal = principal
        return principal

    def principal_from_token(self, token: str) -> Principal:
        claims = self.tokens.verify(token, self.clock.now())
        record = self.directory.subject(claims.subject)
        if (
            record is None
            or not record.active
            or record.tenant_id != claims.tenant_id
            or claims.issued_at < record.tokens_valid_after
        ):
            raise InvalidToken()
        if claims.session_id is not None and not self.directory.session_active(claims.session_id):
            raise InvalidToken()
        method = "client" if record.kind == "api_client" else "bearer"
        return principal_of(record, method, None, session_id=claims.session_id)

    def session_of(self, request: Request) -> SessionRecord | None:
        session = getattr(request.state, "olly_session", None)
        return session if isinstance(session, SessionRecord) else None

    # -- decisions --------------------------------------------------------------------------------
    def subject_facts(self, principal: Principal, context: ResolveContext) -> SubjectFacts:
        dependents: tuple[Any, ...] = ()
        if Role.MEMBER in principal.roles and principal.party_id is not None:
            dependents = tuple(self.resolvers.household.dependents(context, principal.party_id))
        glass: tuple[BreakGlassScope, ...] = ()
        if principal.is_staff and principal.account_id is not None:
            glass = self.open_break_glass(principal.account_id, principal.tenant_id)
        return SubjectFacts(
            roles=principal.roles,
            account_id=principal.account_id,
            party_id=principal.party_id,
            group_account_id=principal.group_account_id,
            provider_ids=principal.provider_ids,
            queues=principal.queues,
            dependents=dependents,
            break_glass=glass,
        )

    def open_break_glass(self, account_id: uuid.UUID, tenant_id: uuid.UUID) -> tuple[BreakGlassScope, ...]:
        return tuple(BreakGlassScope(g.grant_id, g.party_id) for g in self.directory.open_grants(account_id, tenant_id))

    def evaluate(self, request: Request, declared: PolicyDependency, payload: Any) -> Access:
        action = declared.action
        try:
            principal = self.authenticate(request)
        except OllyError as exc:
            self._audit_denial(request, None, declared, exc.code, None)
            raise
        if principal is None:
            self._audit_denial(request, None, declared, "unauthenticated", None)
            raise NotAuthenticated()
        request.state.tenant_id = principal.tenant_id  # what ``olly.platform.http.tenant_of`` answers
        if principal.session_stage != ACTIVE and not declared.allow_pending_mfa:
            self._audit_denial(request, principal, declared, principal.session_stage, None)
            if principal.session_stage == MFA_ENROLMENT_REQUIRED:
                raise MfaEnrolmentRequired("set up an authenticator app: POST /auth/mfa/totp/enrol")
            raise MfaRequired("enter the code from your authenticator: POST /auth/mfa/verify")
        session = self.session_of(request)
        if principal.auth_method == "session" and request.method not in SAFE_METHODS:
            presented = str(request.headers.get(CSRF_HEADER) or getattr(request.state, "olly_form_csrf", ""))
            if session is None or not hmac.compare_digest(presented.encode(), session.csrf_token.encode()):
                self._audit_denial(request, principal, declared, "csrf", None)
                raise CsrfRejected(f"send the {CSRF_HEADER} header from the sign-in response")
        now = self.clock.now()
        context = ResolveContext(principal.tenant_id, now.date(), self.db)
        subject = self.subject_facts(principal, context)
        if not grants_for(principal.roles, action) and not subject.break_glass:
            decision = decide(subject, action, None, context.today)  # explains the refusal
            self._audit_denial(request, principal, declared, decision.reason.value, None)
            raise AccessDenied("your role does not allow this")

        facts: ResourceFacts | None = None
        resource_id: str | None = None
        if declared.resource is not None:
            kind = declared.resource_kind or action.kind.name
            ref = reference(declared.resource, kind, request, payload, principal)
            resource_id = ref.resource_id
            if declared.resource.source == "self":
                facts = self_facts(kind, principal)
            else:
                resolver = self.resolvers.get(kind)
                if resolver is None:
                    log.error("no relationship resolver registered", kind=kind)
                    self._audit_denial(request, principal, declared, "no_resolver", resource_id)
                    raise AccessDenied("access to this kind of resource is not configured")
                facts = resolver.resolve(context, ref) if ref.resource_id is not None else ResourceFacts(kind)
                if facts is None:
                    named = None if declared.resource.evidence else resource_id  # evidence: a search, not an id
                    self._audit_denial(request, principal, declared, "not_found", named)
                    raise _not_found()
                # From here the audit names the resource by the resolver's own id: a locator may
                # itself be personal data (the member number of an eligibility search).
                resource_id = facts.resource_id
        decision = decide(subject, action, facts, context.today)
        if not decision.allowed:
            self._audit_denial(request, principal, declared, decision.reason.value, resource_id)
            if decision.status == 404:
                raise _not_found()
            raise AccessDenied("your role does not allow this")
        if declared.session_only and principal.auth_method != "session":
            self._audit_denial(request, principal, declared, "session_only", resource_id)
            raise AccessDenied("this action belongs to a portal session (cookie), not a bearer token")
        if declared.fresh_auth_seconds is not None:
            fresh = principal.authenticated_at is not None and now - principal.authenticated_at <= timedelta(
                seconds=declared.fresh_auth_seconds
            )
            if not fresh:
                self._audit_denial(request, principal, declared, "reauthentication_required", resource_id)
                raise ReauthenticationRequired("confirm your password first: POST /auth/reauthenticate")
        purpose = self._purpose(declared, decision)
        access = Access(
            principal=principal,
            action=action,
            decision=decision,
            facts=facts,
            scope=access_scope(subject, action, context.today),
            purpose=purpose,
            request_id=request_id_of(request),
            decided_at=now,
        )
        if action.kind.phi or decision.reason is Reason.BREAK_GLASS:
            detail: dict[str, Any] = {"method": request.method, "route": _route_path(request)}
            if decision.break_glass_grant_id is not None:
                detail["breakGlassGrant"] = str(decision.break_glass_grant_id)
                detail["flagged"] = True
            record = access.audit_record(resource_id=resource_id, detail=detail)
            if action.is_read and decision.reason is not Reason.BREAK_GLASS:
                # Group commit: an allowed read's record joins the next batch (within
                # ``AuditTrail.flush_interval``) instead of costing a commit per request. Refusals,
                # writes and break-glass reads are written before the answer leaves.
                self.audit.submit(record)
            else:
                self.audit.record(record)
        return access

    @staticmethod
    def _purpose(declared: PolicyDependency, decision: Decision) -> str:
        if decision.reason is Reason.BREAK_GLASS:
            return "break_glass"
        if declared.purpose:
            return declared.purpose
        return PURPOSE_OF_ROLE.get(decision.role, "operations") if decision.role else "operations"

    def _audit_denial(
        self,
        request: Request,
        principal: Principal | None,
        declared: PolicyDependency,
        reason: str,
        resource_id: str | None,
    ) -> None:
        self.audit.record(
            AuditRecord(
                subject=principal.subject if principal else ANONYMOUS,
                role=principal.role_label if principal else ANONYMOUS,
                action=declared.action.name,
                resource_type=declared.action.kind.name,
                resource_id=resource_id,
                outcome="denied",
                purpose=None,
                request_id=request_id_of(request),
                tenant_id=principal.tenant_id if principal else None,
                detail={"reason": reason, "method": request.method, "route": _route_path(request)},
            )
        )

    def audit_undeclared(self, scope: Scope, route_path: str) -> None:
        state = scope.get("state") or {}
        self.audit.record(
            AuditRecord(
                subject=ANONYMOUS,
                role=ANONYMOUS,
                action="route.call",
                resource_type="route",
                resource_id=None,
                outcome="denied",
                request_id=state.get("request_id"),
                detail={"reason": "policy_undeclared", "method": scope.get("method"), "route": route_path},
            )
        )


def _not_found() -> OllyError:
    from olly.kernel.errors import NotFound

    return NotFound("no such resource")


def _route_path(request: Request) -> str:
    route = request.scope.get("route")
    path = getattr(route, "path", None)  # (a getattr default would build the request's URL every time)
    return str(path) if path is not None else request.url.path


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def principal_of(
    record: SubjectRecord,
    method: str,
    session: SessionRecord | None,
    *,
    session_id: uuid.UUID | None = None,
) -> Principal:
    return Principal(
        subject=record.subject,
        tenant_id=record.tenant_id,
        kind=record.kind,
        roles=record.roles,
        auth_method=method,  # type: ignore[arg-type]
        account_id=record.account_id,
        client_id=record.client_id,
        party_id=record.party_id,
        group_account_id=record.group_account_id,
        provider_ids=record.provider_ids,
        queues=record.queues,
        session_id=session.id if session else session_id,
        session_stage=session.stage if session else ACTIVE,
        authenticated_at=session.authenticated_at if session else None,
        mfa_enabled=record.mfa_enabled,
    )


def reference(locator: Locator, kind: str, request: Request, payload: Any, principal: Principal) -> ResourceRef:
    value: Any = None
    evidence: dict[str, Any] = {}
    if locator.source == "path":
        value = request.path_params.get(locator.name or "")
    elif locator.source == "query":
        value = request.query_params.get(locator.name or "")
    elif locator.source == "body":
        value = _dig(payload, locator.name or "")
        evidence = {name: _dig(payload, name) for name in locator.evidence}
    elif locator.source == "self":
        value = principal.party_id or principal.account_id
    if value is not None and not isinstance(value, (str, int, uuid.UUID)):
        value = None
    return ResourceRef(kind, str(value) if value is not None else None, evidence)


def _dig(payload: Any, dotted: str) -> Any:
    current = payload
    for part in dotted.split("."):
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current


def self_facts(kind: str, principal: Principal) -> ResourceFacts:
    return ResourceFacts(
        kind=kind,
        resource_id=str(principal.party_id or principal.account_id or ""),
        party_ids=frozenset({principal.party_id}) if principal.party_id else frozenset(),
        account_ids=frozenset({principal.account_id}) if principal.account_id else frozenset(),
        group_account_ids=frozenset({principal.group_account_id}) if principal.group_account_id else frozenset(),
        provider_ids=principal.provider_ids,
    )


def known_kinds() -> frozenset[str]:
    return frozenset(RESOURCE_KINDS)
