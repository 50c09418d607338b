"""Identity HTTP API: sign-in, second factor, sessions and tokens, OIDC, client credentials,
account administration and break-glass. Every route declares its policy."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Form, Query, Request, Response
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy import select

from olly.kernel.errors import NotFound
from olly.platform.auth.access import AccessControl, client_address
from olly.platform.auth.errors import AccessDenied, InvalidCredentials, RateLimited, ReauthenticationRequired
from olly.platform.auth.models import Account, ApiClient, OidcLoginState
from olly.platform.auth.plumbing import digest, new_secret, reading
from olly.platform.auth.policy import SELF, Access, path, policy, public
from olly.platform.auth.roles import AccountKind
from olly.platform.auth.schemas import (
    AcceptedResponse,
    AccessTokenResponse,
    AccountCreate,
    AccountRead,
    ApiClientCreate,
    ApiClientCreated,
    ApiClientRead,
    BreakGlassOpen,
    BreakGlassRead,
    BreakGlassReview,
    LoginRequest,
    MeResponse,
    MfaVerifyRequest,
    PasswordChangeRequest,
    PasswordResetConfirm,
    PasswordResetRequest,
    ReauthenticateRequest,
    RecoveryCodesResponse,
    SessionResponse,
    TotpCodeRequest,
    TotpEnrolResponse,
)
from olly.platform.auth.service import AuditContext, NewAccount
from olly.platform.auth.sessions import ACTIVE, MFA_ENROLMENT_REQUIRED, MFA_REQUIRED, SessionRecord
from olly.platform.db import table_of
from olly.platform.http import request_id_of
from olly.platform.tenancy import Tenant

router = APIRouter(tags=["identity"])
STEP_UP_SECONDS = 300
"""How recent a sign-in or re-authentication must be to change the second factor."""

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
OIDC_STATE_LIFETIME_SECONDS = 600


def control_of(request: Request) -> AccessControl:
    control: AccessControl = request.app.state.access
    return control


# Helpers the sign-in routes share with the portals' sign-in pages (olly/web/shell.py).


def anonymous_audit_context(request: Request, tenant_id: uuid.UUID | None) -> AuditContext:
    return AuditContext("anonymous", "anonymous", request_id_of(request), tenant_id, {"client": "portal"})


def audit_context(request: Request, access: Access) -> AuditContext:
    p = access.principal
    return AuditContext(p.subject, p.role_label, request_id_of(request), p.tenant_id)


def tenant_by_slug(control: AccessControl, slug: str | None) -> uuid.UUID | None:
    if slug is None:
        return control.settings.default_tenant_id
    tenants = table_of(Tenant)
    with reading(control.db) as connection:
        return connection.execute(select(tenants.c.id).where(tenants.c.slug == slug)).scalar_one_or_none()


def set_session_cookies(control: AccessControl, response: Response, token: str, csrf: str) -> None:
    secure = control.settings.session_cookie_secure
    response.set_cookie(control.session_cookie, token, httponly=True, secure=secure, samesite="lax", path="/")
    response.set_cookie(control.csrf_cookie, csrf, httponly=False, secure=secure, samesite="lax", path="/")


def clear_session_cookies(control: AccessControl, response: Response) -> None:
    secure = control.settings.session_cookie_secure
    for name in (control.session_cookie, control.csrf_cookie):
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


def _session_required(control: AccessControl, request: Request) -> SessionRecord:
    session = control.session_of(request)
    if session is None:
        raise AccessDenied("this action belongs to a portal session (cookie), not a bearer token")
    return session


def hashed_login(value: str) -> str:
    return digest("login|" + value.strip().casefold())


# -- sign-in ------------------------------------------------------------------------------------------
@router.post(
    "/auth/login",
    response_model=SessionResponse,
    summary="Sign in with e-mail and password; sets the session cookie",
    dependencies=[Depends(public("sign-in", rate=None))],
    responses={401: {"description": "wrong e-mail or password (never says which)"}, 429: {"description": "slow down"}},
)
def login(body: LoginRequest, request: Request, response: Response) -> SessionResponse:
    control = control_of(request)
    control.limit("login", client_address(request))
    control.limit("login", hashed_login(body.email))
    tenant_id = tenant_by_slug(control, body.tenant)
    if tenant_id is None:
        control.passwords.verify(None, body.password)
        raise InvalidCredentials("the e-mail address or password is not correct")
    outcome = control.identity.login(tenant_id, body.email, body.password, anonymous_audit_context(request, tenant_id))
    with control.db.connect() as connection:
        # A session presented at sign-in is ended: the authenticated session always gets a new id.
        presented = request.cookies.get(control.session_cookie)
        if presented:
            control.sessions.revoke_token(connection, presented, "replaced_at_login")
        token, session = control.sessions.create(connection, outcome.account, outcome.stage)
    set_session_cookies(control, response, token, session.csrf_token)
    response.headers.update(NO_STORE)
    return SessionResponse(stage=outcome.stage, csrf_token=session.csrf_token, expires_at=session.idle_expires_at)


@router.post(
    "/auth/logout",
    status_code=204,
    summary="End this session",
    responses={204: {"description": "signed out"}},
)
def logout(
    request: Request, access: Access = Depends(policy("session.write", resource=SELF, allow_pending_mfa=True))
) -> Response:
    control = control_of(request)
    response = Response(status_code=204)
    session = control.session_of(request)
    if session is not None:
        with control.db.connect() as connection:
            control.sessions.revoke(connection, session.id, "signed_out")
        control.directory.invalidate(f"session:{session.id}")
    clear_session_cookies(control, response)
    return response


@router.post("/auth/mfa/verify", response_model=SessionResponse, summary="Enter the second factor after the password")
def mfa_verify(
    body: MfaVerifyRequest,
    request: Request,
    response: Response,
    access: Access = Depends(policy("session.write", resource=SELF, allow_pending_mfa=True, session_only=True)),
) -> SessionResponse:
    control = control_of(request)
    session = _session_required(control, request)
    if session.stage != MFA_REQUIRED:
        raise AccessDenied("this session is not waiting for a second factor")
    control.limit("login", f"mfa|{session.id}")
    token, csrf = control.identity.verify_second_factor(
        session, body.code, body.recovery_code, audit_context(request, access)
    )
    set_session_cookies(control, response, token, csrf)
    response.headers.update(NO_STORE)
    expires = control.clock.now() + control.sessions.idle_timeout(session.account.kind)
    return SessionResponse(stage=ACTIVE, csrf_token=csrf, expires_at=expires)


@router.post("/auth/mfa/totp/enrol", response_model=TotpEnrolResponse, summary="Start setting up an authenticator app")
def totp_enrol(
    request: Request,
    response: Response,
    access: Access = Depends(policy("account.write", resource=SELF, allow_pending_mfa=True)),
) -> TotpEnrolResponse:
    control = control_of(request)
    allow_enrolment(access)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        enrolment = control.identity.begin_totp(uow, access.account_id)
    response.headers.update(NO_STORE)
    return TotpEnrolResponse(secret=enrolment.secret, otpauth_uri=enrolment.uri)


def allow_enrolment(access: Access) -> None:
    """A session may set up an authenticator once signed in, or when that is all it may do yet.
    Over one already enrolled, it replaces the second factor and the recovery codes, so it asks for
    a recent sign-in as removing them does (a stolen session or token must not keep the account)."""
    principal = access.principal
    if principal.session_stage not in (ACTIVE, MFA_ENROLMENT_REQUIRED):
        raise AccessDenied("enter your current second factor first")
    fresh = principal.authenticated_at is not None and access.decided_at - principal.authenticated_at <= timedelta(
        seconds=STEP_UP_SECONDS
    )
    if principal.session_stage == ACTIVE and principal.mfa_enabled and not fresh:
        raise ReauthenticationRequired("confirm your password and code first: POST /auth/reauthenticate")


@router.post(
    "/auth/mfa/totp/confirm", response_model=RecoveryCodesResponse, summary="Finish authenticator set-up with a code"
)
def totp_confirm(
    body: TotpCodeRequest,
    request: Request,
    response: Response,
    access: Access = Depends(policy("account.write", resource=SELF, allow_pending_mfa=True)),
) -> RecoveryCodesResponse:
    control = control_of(request)
    allow_enrolment(access)
    session = control.session_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        codes = control.identity.confirm_totp(uow, access.account_id, body.code)
        promoted: tuple[str, str] | None = None
        if session is not None and session.stage == MFA_ENROLMENT_REQUIRED:
            promoted = control.sessions.promote(uow.session.connection(), session, ACTIVE)
    response.headers.update(NO_STORE)
    if promoted is not None:
        set_session_cookies(control, response, *promoted)
        return RecoveryCodesResponse(recovery_codes=codes, stage=ACTIVE, csrf_token=promoted[1])
    return RecoveryCodesResponse(recovery_codes=codes)


@router.post(
    "/auth/mfa/totp/disable", status_code=204, summary="Remove the authenticator (members, employers, providers)"
)
def totp_disable(
    body: TotpCodeRequest,
    request: Request,
    access: Access = Depends(policy("account.write", resource=SELF, fresh_auth_seconds=STEP_UP_SECONDS)),
) -> Response:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        control.identity.disable_totp(uow, access.account_id, body.code)
    return Response(status_code=204)


@router.post("/auth/mfa/recovery-codes", response_model=RecoveryCodesResponse, summary="Replace the recovery codes")
def recovery_codes(
    request: Request,
    response: Response,
    access: Access = Depends(policy("account.write", resource=SELF, fresh_auth_seconds=STEP_UP_SECONDS)),
) -> RecoveryCodesResponse:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        account = control.identity.get(uow, access.account_id)
        if account.mfa_enabled_at is None:
            raise AccessDenied("set up an authenticator first")
        codes = control.identity.new_recovery_codes(uow, account)
    response.headers.update(NO_STORE)
    return RecoveryCodesResponse(recovery_codes=codes)


@router.post(
    "/auth/reauthenticate", status_code=204, summary="Confirm your password (and code) before a sensitive action"
)
def reauthenticate(
    body: ReauthenticateRequest,
    request: Request,
    access: Access = Depends(policy("session.write", resource=SELF, session_only=True)),
) -> Response:
    control = control_of(request)
    session = _session_required(control, request)
    control.limit("login", f"reauth|{session.id}")
    control.identity.reauthenticate(session, body.password, body.code, audit_context(request, access))
    return Response(status_code=204)


@router.post("/auth/password", status_code=204, summary="Change your password; other sessions end")
def change_password(
    body: PasswordChangeRequest,
    request: Request,
    access: Access = Depends(policy("account.write", resource=SELF)),
) -> Response:
    control = control_of(request)
    control.limit("login", f"password|{access.account_id}")
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        control.identity.change_password(
            uow, control.session_of(request), access.account_id, body.current_password, body.new_password
        )
    return Response(status_code=204)


@router.post(
    "/auth/password-reset",
    status_code=202,
    response_model=AcceptedResponse,
    summary="Ask for a password-reset link (the answer is the same whether or not the address is known)",
    dependencies=[Depends(public("password reset request", rate=None))],
    responses={429: {"description": "slow down"}},
)
def password_reset(body: PasswordResetRequest, request: Request) -> AcceptedResponse:
    ask_for_password_reset(control_of(request), request, body.email, body.tenant)
    return AcceptedResponse()


def ask_for_password_reset(control: AccessControl, request: Request, email: str, tenant: str | None) -> None:
    """A reset link for the account of ``email``, if there is one: the rate limits (per client and
    per address asked) apply either way, and nothing tells the caller which it was. The JSON route
    and the portal's form both ask through here."""
    control.limit("password_reset", client_address(request))
    control.limit("password_reset", hashed_login(email))
    tenant_id = tenant_by_slug(control, tenant)
    if tenant_id is not None:
        with control.db.unit_of_work(tenant_id) as uow:
            control.identity.request_password_reset(uow, email)


def reset_with_token(control: AccessControl, request: Request, token: str, new: str, tenant: str | None) -> None:
    """Set a new password with a reset link's token (single use; every session ends)."""
    control.limit("password_reset", client_address(request))
    tenant_id = tenant_by_slug(control, tenant)
    if tenant_id is None:
        raise InvalidCredentials("the reset link is not valid or has expired")
    with control.db.unit_of_work(tenant_id) as uow:
        control.identity.reset_password(uow, token, new)


@router.post(
    "/auth/password-reset/confirm",
    status_code=204,
    summary="Set a new password with a reset link's token; every session ends",
    dependencies=[Depends(public("password reset with a single-use token", rate=None))],
    responses={401: {"description": "invalid or expired token"}, 429: {"description": "slow down"}},
)
def password_reset_confirm(body: PasswordResetConfirm, request: Request) -> Response:
    reset_with_token(control_of(request), request, body.token, body.new_password, body.tenant)
    return Response(status_code=204)


# -- tokens -----------------------------------------------------------------------------------------
@router.post(
    "/auth/token",
    response_model=AccessTokenResponse,
    summary="Exchange this portal session for a short-lived bearer token (mobile app, API calls)",
)
def session_token(
    request: Request,
    response: Response,
    access: Access = Depends(policy("session.write", resource=SELF, session_only=True)),
) -> AccessTokenResponse:
    control = control_of(request)
    session = _session_required(control, request)
    token, claims = control.tokens.issue(
        access.principal.subject, access.principal.tenant_id, control.clock.now(), session_id=session.id
    )
    response.headers.update(NO_STORE)
    return AccessTokenResponse(
        access_token=token, expires_in=int((claims.expires_at - claims.issued_at).total_seconds())
    )


_OAUTH_ERROR: dict[str, Any] = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["error"],
                "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
            }
        }
    }
}


def _oauth_error(status: int, error: str, description: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description}, status_code=status, headers={**NO_STORE, **(headers or {})}
    )


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    return (unquote(client_id), unquote(secret)) if sep else None


@router.post(
    "/oauth/token",
    response_model=AccessTokenResponse,
    summary="OAuth 2.0 client-credentials grant for trading partners (HTTP Basic or form credentials)",
    dependencies=[Depends(public("OAuth token endpoint: the client authenticates in the request", rate=None))],
    responses={
        400: _OAUTH_ERROR | {"description": "RFC 6749 error: invalid_request or unsupported_grant_type"},
        401: _OAUTH_ERROR | {"description": "RFC 6749 error: invalid_client"},
        429: _OAUTH_ERROR | {"description": "RFC 6749 error: slow_down"},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["grant_type"],
                        "properties": {
                            "grant_type": {"type": "string", "enum": ["client_credentials"]},
                            "client_id": {"type": "string", "maxLength": 128},
                            "client_secret": {"type": "string", "maxLength": 256},
                            "scope": {"type": "string", "maxLength": 512},
                        },
                    }
                }
            },
        }
    },
)
def client_credentials(
    request: Request,
    grant_type: Annotated[str, Form(max_length=64)],
    client_id: Annotated[str | None, Form(max_length=128)] = None,
    client_secret: Annotated[str | None, Form(max_length=256)] = None,
    scope: Annotated[str | None, Form(max_length=512)] = None,
) -> Any:
    control = control_of(request)
    try:
        control.limit("token", client_address(request))
    except RateLimited as exc:
        return _oauth_error(429, "slow_down", exc.detail, exc.headers)
    if grant_type != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type", "only client_credentials is supported here")
    basic = _basic_credentials(request.headers.get("authorization"))
    if basic is not None and (client_id or client_secret):
        return _oauth_error(400, "invalid_request", "send the client credentials one way only")
    credentials = basic or ((client_id, client_secret) if client_id and client_secret else None)
    if credentials is None:
        return _oauth_error(401, "invalid_client", "client authentication failed", {"WWW-Authenticate": "Basic"})
    try:
        control.limit("token", digest("client|" + credentials[0]))
        record = control.identity.authenticate_client(*credentials)
    except RateLimited as exc:
        return _oauth_error(429, "slow_down", exc.detail, exc.headers)
    except InvalidCredentials:
        control.audit.record(
            anonymous_audit_context(request, None).record("auth.client_credentials", "api_client", None, "denied")
        )
        return _oauth_error(401, "invalid_client", "client authentication failed", {"WWW-Authenticate": "Basic"})
    token, claims = control.tokens.issue(record.subject, record.tenant_id, control.clock.now())
    control.audit.record(
        AuditContext(record.subject, "trading_partner", request_id_of(request), record.tenant_id).record(
            "auth.client_credentials", "api_client", record.client_id, "allowed"
        )
    )
    return JSONResponse(
        AccessTokenResponse(
            access_token=token, expires_in=int((claims.expires_at - claims.issued_at).total_seconds())
        ).model_dump(),
        headers=NO_STORE,
    )


@router.get(
    "/.well-known/jwks.json",
    summary="Public keys that verify Olly's bearer tokens",
    dependencies=[Depends(public("public signing keys"))],
)
def jwks(request: Request) -> dict[str, Any]:
    return control_of(request).tokens.keys.jwks()


# -- OpenID Connect (staff) ---------------------------------------------------------------------------
@router.get(
    "/auth/oidc/login",
    status_code=302,
    summary="Start staff sign-in at the OpenID Connect provider",
    dependencies=[Depends(public("starts an external sign-in", rate="login"))],
    responses={302: {"description": "to the provider"}, 404: {"description": "OIDC is not configured"}},
)
def oidc_login(request: Request) -> Response:
    control = control_of(request)
    if control.oidc is None:
        raise NotFound("staff sign-in through OpenID Connect is not configured")
    started = control.oidc.begin()
    browser = new_secret()
    now = control.clock.now()
    with control.db.connect() as connection:
        states = table_of(OidcLoginState)
        connection.execute(states.delete().where(states.c.expires_at < now))
        connection.execute(
            states.insert().values(
                state_hash=digest(started.state),
                browser_hash=digest(browser),
                nonce=started.nonce,
                code_verifier=started.code_verifier,
                tenant_id=control.settings.default_tenant_id,
                created_at=now,
                expires_at=now + timedelta(seconds=OIDC_STATE_LIFETIME_SECONDS),
            )
        )
    response = RedirectResponse(started.url, status_code=302)
    response.set_cookie(
        control.oidc_cookie,
        browser,
        httponly=True,
        secure=control.settings.session_cookie_secure,
        samesite="lax",
        path="/",
        max_age=OIDC_STATE_LIFETIME_SECONDS,
    )
    return response


@router.get(
    "/auth/oidc/callback",
    status_code=302,
    summary="The provider returns here with an authorization code",
    dependencies=[Depends(public("OIDC redirect target; checked against state, PKCE and nonce", rate="login"))],
    responses={
        302: {"description": "signed in; to the portal"},
        401: {"description": "the sign-in could not be completed"},
        404: {"description": "OIDC is not configured"},
    },
)
def oidc_callback(
    request: Request,
    code: Annotated[str | None, Query(max_length=2048)] = None,
    state: Annotated[str | None, Query(max_length=512)] = None,
    error: Annotated[str | None, Query(max_length=256)] = None,
) -> Response:
    control = control_of(request)
    if control.oidc is None:
        raise NotFound("staff sign-in through OpenID Connect is not configured")
    refused = InvalidCredentials("the sign-in could not be completed; start again")
    if error or not code or not state:
        raise refused
    states = table_of(OidcLoginState)
    with control.db.connect() as connection:
        row = connection.execute(select(states).where(states.c.state_hash == digest(state))).first()
        if row is not None:  # single use, whatever happens next
            connection.execute(states.delete().where(states.c.state_hash == row.state_hash))
    browser = request.cookies.get(control.oidc_cookie, "")
    if row is None or control.clock.now() >= row.expires_at or row.browser_hash != digest(browser):
        raise refused
    identity = control.oidc.complete(code, row.code_verifier, row.nonce)
    ctx = anonymous_audit_context(request, row.tenant_id)
    with control.db.unit_of_work(row.tenant_id) as uow:
        account = control.identity.staff_from_oidc(
            uow, identity.issuer, identity.subject, identity.email, identity.name, identity.roles
        )
        if account.status != "active":
            raise refused
        record = control.identity.record_of(account)
        # MFA proven at the provider counts; otherwise Olly's own TOTP step follows.
        fallback = MFA_REQUIRED if record.mfa_enabled else MFA_ENROLMENT_REQUIRED
        stage = ACTIVE if identity.mfa else fallback
        connection = uow.session.connection()
        presented = request.cookies.get(control.session_cookie)
        if presented:
            control.sessions.revoke_token(connection, presented, "replaced_at_login")
        token, session = control.sessions.create(connection, record, stage)
        account.last_login_at = control.clock.now()
        control.audit.append(
            connection,
            [ctx.record("auth.oidc_login", "account", str(account.id), "allowed", stage=stage, idpMfa=identity.mfa)],
        )
    response = RedirectResponse(control.settings.oidc_post_login_redirect, status_code=302)
    set_session_cookies(control, response, token, session.csrf_token)
    response.delete_cookie(control.oidc_cookie, path="/", secure=control.settings.session_cookie_secure)
    response.headers.update(NO_STORE)
    return response


# -- me -------------------------------------------------------------------------------------------------
@router.get("/me", response_model=MeResponse, summary="The signed-in account")
def me(request: Request, access: Access = Depends(policy("account.read", resource=SELF))) -> MeResponse:
    control = control_of(request)
    principal = access.principal
    if principal.account_id is None:
        raise NotFound("API clients have no account")
    with control.db.unit_of_work(principal.tenant_id, read_only=True) as uow:
        account = control.identity.get(uow, principal.account_id)
        return MeResponse(
            account_id=account.id,
            kind=AccountKind(account.kind),
            roles=sorted(principal.roles),
            email=account.email,
            display_name=account.display_name,
            party_id=account.party_id,
            group_account_id=account.group_account_id,
            npi=account.npi,
            provider_organisation_id=account.provider_organisation_id,
            mfa_enabled=account.mfa_enabled_at is not None,
            auth_method=principal.auth_method,
        )


# -- administration ---------------------------------------------------------------------------------------
def _account_read(account: Account) -> AccountRead:
    return AccountRead(
        id=account.id,
        kind=AccountKind(account.kind),
        status=account.status,
        email=account.email,
        display_name=account.display_name,
        roles=list(account.roles or []),
        queues=list(account.queues or []),
        party_id=account.party_id,
        group_account_id=account.group_account_id,
        npi=account.npi,
        provider_organisation_id=account.provider_organisation_id,
        mfa_enabled=account.mfa_enabled_at is not None,
        locked_until=account.locked_until,
        created_at=account.created_at,
        disabled_at=account.disabled_at,
    )


@router.post("/admin/accounts", status_code=201, response_model=AccountRead, summary="Create an account")
def create_account(
    body: AccountCreate, request: Request, access: Access = Depends(policy("account.manage"))
) -> AccountRead:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        account = control.identity.create_account(
            uow,
            NewAccount(
                kind=body.kind,
                email=body.email,
                password=body.password,
                display_name=body.display_name,
                phone=body.phone,
                party_id=body.party_id,
                group_account_id=body.group_account_id,
                npi=body.npi,
                provider_organisation_id=body.provider_organisation_id,
                roles=frozenset(body.roles),
                queues=frozenset(body.queues),
            ),
        )
        control.audit.append(
            uow.session.connection(), [access.audit_record(action="account.create", resource_id=str(account.id))]
        )
        return _account_read(account)


@router.get("/admin/accounts/{account_id}", response_model=AccountRead, summary="An account")
def get_account(
    account_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("account.read", resource=path("account_id"))),
) -> AccountRead:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return _account_read(control.identity.get(uow, account_id))


def _status_route(active: bool) -> Any:
    def change(
        account_id: uuid.UUID,
        request: Request,
        access: Access = Depends(policy("account.manage", resource=path("account_id"))),
    ) -> AccountRead:
        control = control_of(request)
        if account_id == access.principal.account_id:
            raise AccessDenied("administrators do not change their own account's status")
        with control.db.unit_of_work(access.principal.tenant_id) as uow:
            account = control.identity.set_status(uow, account_id, active=active, by=audit_context(request, access))
            return _account_read(account)

    return change


router.add_api_route(
    "/admin/accounts/{account_id}/disable",
    _status_route(False),
    methods=["POST"],
    response_model=AccountRead,
    summary="Disable an account: its sessions end now, its tokens within the revocation window",
)
router.add_api_route(
    "/admin/accounts/{account_id}/enable",
    _status_route(True),
    methods=["POST"],
    response_model=AccountRead,
    summary="Enable an account",
)


@router.post("/admin/accounts/{account_id}/unlock", response_model=AccountRead, summary="Lift a sign-in lockout")
def unlock_account(
    account_id: uuid.UUID,
    request: Request,
    access: Access = Depends(policy("account.manage", resource=path("account_id"))),
) -> AccountRead:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        return _account_read(control.identity.unlock(uow, account_id))


@router.post(
    "/admin/api-clients",
    status_code=201,
    response_model=ApiClientCreated,
    summary="Register a trading partner's client",
)
def create_api_client(
    body: ApiClientCreate, request: Request, response: Response, access: Access = Depends(policy("api_client.write"))
) -> ApiClientCreated:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        created = control.identity.create_api_client(uow, body.name, body.provider_ids)
    response.headers.update(NO_STORE)
    return ApiClientCreated(
        client_id=created.client_id,
        client_secret=created.client_secret,
        name=created.record.name,
        provider_ids=list(created.record.provider_ids),
    )


@router.post(
    "/admin/api-clients/{client_id}/disable", response_model=ApiClientRead, summary="Disable a trading partner's client"
)
def disable_api_client(
    client_id: str,
    request: Request,
    access: Access = Depends(policy("api_client.write", resource=path("client_id"))),
) -> ApiClientRead:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        record: ApiClient = control.identity.set_api_client_status(uow, client_id, active=False)
        return ApiClientRead(
            client_id=record.client_id, name=record.name, status=record.status, provider_ids=list(record.provider_ids)
        )


# -- break-glass ------------------------------------------------------------------------------------------
def _grant_read(grant: Any) -> BreakGlassRead:
    return BreakGlassRead(
        id=grant.id,
        account_id=grant.account_id,
        reason=grant.reason,
        party_id=grant.party_id,
        opened_at=grant.opened_at,
        expires_at=grant.expires_at,
        review_status=grant.review_status,
        reviewed_at=grant.reviewed_at,
        reviewed_by=grant.reviewed_by,
    )


@router.post(
    "/break-glass",
    status_code=201,
    response_model=BreakGlassRead,
    summary="Open emergency read access to PHI: stated reason, time-limited, flagged for review",
)
def open_break_glass(
    body: BreakGlassOpen, request: Request, access: Access = Depends(policy("break_glass.write"))
) -> BreakGlassRead:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        grant = control.identity.open_break_glass(uow, access.account_id, body.reason, body.party_id, body.minutes)
        control.audit.append(
            uow.session.connection(),
            [
                access.audit_record(
                    action="break_glass.open",
                    resource_id=str(grant.id),
                    detail={"flagged": True, "minutes": body.minutes, "scope": "party" if body.party_id else "all"},
                )
            ],
        )
        return _grant_read(grant)


@router.get("/break-glass", response_model=list[BreakGlassRead], summary="Break-glass grants for compliance review")
def list_break_glass(
    request: Request,
    pending_only: Annotated[bool, Query(alias="pendingOnly")] = True,
    access: Access = Depends(policy("break_glass.read")),
) -> list[BreakGlassRead]:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id, read_only=True) as uow:
        return [_grant_read(g) for g in control.identity.break_glass_grants(uow, pending_only=pending_only)]


@router.post(
    "/break-glass/{grant_id}/review", response_model=BreakGlassRead, summary="Record the review of a break-glass grant"
)
def review_break_glass(
    grant_id: uuid.UUID,
    body: BreakGlassReview,
    request: Request,
    access: Access = Depends(policy("break_glass.review", resource=path("grant_id"))),
) -> BreakGlassRead:
    control = control_of(request)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        grant = control.identity.review_break_glass(uow, grant_id, access.account_id, body.outcome, body.note)
        return _grant_read(grant)
