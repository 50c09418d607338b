"""The portal shell: sign-in with a second factor, sign-out, the role's portal, the service worker.

Sign-in reuses the identity service and session store of ``olly.platform.auth`` exactly as the JSON
API does (same lockouts, rate limits, audit records, session-id rotation); only the form and the
redirects are the portal's.
"""

from __future__ import annotations

from typing import Annotated, Final
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from olly.kernel.errors import ValidationFailed
from olly.platform.auth import SELF, Access, policy, public
from olly.platform.auth.access import AccessControl, client_address
from olly.platform.auth.api import (
    allow_enrolment,
    anonymous_audit_context,
    ask_for_password_reset,
    audit_context,
    clear_session_cookies,
    hashed_login,
    reset_with_token,
    set_session_cookies,
    tenant_by_slug,
)
from olly.platform.auth.errors import AccessDenied, InvalidCredentials, RateLimited
from olly.platform.auth.roles import Role
from olly.platform.auth.sessions import ACTIVE, MFA_ENROLMENT_REQUIRED, MFA_REQUIRED
from olly.web.member import TILES
from olly.web.rendering import PORTAL_TAG, SECURITY_HEADERS, STATIC, portal_of, redirect, render

router = APIRouter(tags=[PORTAL_TAG], include_in_schema=False)

NEXT_PAGE: Final[dict[str, str]] = {
    ACTIVE: "/",
    MFA_REQUIRED: "/signin/mfa",
    MFA_ENROLMENT_REQUIRED: "/signin/mfa/setup",
}


def same_origin(request: Request) -> bool:
    """Whether a form post comes from a page of this site. The sign-in form has no session (so no
    CSRF token) yet: refusing cross-site posts stops login CSRF (being signed in as the attacker)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


def _control(request: Request) -> AccessControl:
    control: AccessControl = request.app.state.access
    return control


@router.get("/")
def home(request: Request, access: Access = Depends(policy("session.read", resource=SELF))) -> Response:
    roles = access.principal.roles
    if Role.MEMBER not in roles:
        return redirect(portal_of(roles))
    return render(request, "member/home.html", {"tiles": TILES, "portal": "member"})


@router.get("/signin", dependencies=[Depends(public("the sign-in form", rate=None))])
def signin_form(request: Request) -> Response:
    return render(request, "signin.html", {"error": None, "email": ""})


@router.post("/signin", dependencies=[Depends(public("sign-in", rate=None))])
def signin(
    request: Request,
    email: Annotated[str, Form(max_length=320)],
    password: Annotated[str, Form(max_length=1024)],
) -> Response:
    control = _control(request)
    if not same_origin(request):
        raise AccessDenied("sign in from Olly's own sign-in page")
    try:
        control.limit("login", client_address(request))
        control.limit("login", hashed_login(email))
        tenant_id = tenant_by_slug(control, None)
        if tenant_id is None:
            raise InvalidCredentials("the e-mail address or password is not correct")
        outcome = control.identity.login(tenant_id, email, password, anonymous_audit_context(request, tenant_id))
    except (InvalidCredentials, RateLimited) as exc:
        return render(request, "signin.html", {"error": exc.detail, "email": email}, status_code=exc.status)
    with control.db.connect() as connection:
        presented = request.cookies.get(control.session_cookie)
        if presented:
            control.sessions.revoke_token(connection, presented, "replaced_at_login")
        token, session = control.sessions.create(connection, outcome.account, outcome.stage)
    response = RedirectResponse(NEXT_PAGE[outcome.stage], status_code=303)
    set_session_cookies(control, response, token, session.csrf_token)
    return redirect(NEXT_PAGE[outcome.stage], response)


@router.get("/signin/forgot", dependencies=[Depends(public("the forgotten-password form", rate=None))])
def forgot_form(request: Request) -> Response:
    return render(request, "forgot.html", {"error": None, "sent": False})


@router.post("/signin/forgot", dependencies=[Depends(public("password reset request", rate=None))])
def forgot(request: Request, email: Annotated[str, Form(min_length=3, max_length=320)]) -> Response:
    """Send a reset link if the address has an account: the page says the same either way."""
    control = _control(request)
    if not same_origin(request):
        raise AccessDenied("ask from Olly's own page")
    try:
        ask_for_password_reset(control, request, email, None)
    except RateLimited as exc:
        return render(request, "forgot.html", {"error": exc.detail, "sent": False}, status_code=exc.status)
    return render(request, "forgot.html", {"error": None, "sent": True})


@router.get("/signin/reset", dependencies=[Depends(public("the reset form a reset link opens", rate=None))])
def reset_form(request: Request, token: Annotated[str, Query(max_length=128)] = "") -> Response:
    return render(request, "reset.html", {"error": None, "token": token})


@router.post("/signin/reset", dependencies=[Depends(public("password reset with a single-use token", rate=None))])
def reset(
    request: Request,
    token: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    repeated: Annotated[str, Form(max_length=1024)],
) -> Response:
    control = _control(request)
    if not same_origin(request):
        raise AccessDenied("reset from Olly's own page")
    if password != repeated:
        return render(request, "reset.html", {"error": "the two passwords differ", "token": token}, status_code=422)
    try:
        reset_with_token(control, request, token, password, None)
    except (InvalidCredentials, RateLimited, ValidationFailed) as exc:
        return render(request, "reset.html", {"error": exc.detail, "token": token}, status_code=exc.status)
    return render(request, "signin.html", {"error": None, "email": "", "notice": "Your password is changed: sign in."})


@router.get("/signin/mfa")
def mfa_form(
    request: Request, access: Access = Depends(policy("session.read", resource=SELF, allow_pending_mfa=True))
) -> Response:
    if access.principal.session_stage != MFA_REQUIRED:
        return redirect(NEXT_PAGE.get(access.principal.session_stage, "/"))
    return render(request, "mfa.html", {"error": None})


@router.post("/signin/mfa")
def mfa_verify(
    request: Request,
    code: Annotated[str, Form(max_length=16)] = "",
    recovery_code: Annotated[str, Form(max_length=64)] = "",
    access: Access = Depends(policy("session.write", resource=SELF, allow_pending_mfa=True, session_only=True)),
) -> Response:
    control = _control(request)
    session = control.session_of(request)
    if session is None or session.stage != MFA_REQUIRED:
        return redirect(NEXT_PAGE.get(access.principal.session_stage, "/"))
    try:
        control.limit("login", f"mfa|{session.id}")
        token, csrf = control.identity.verify_second_factor(
            session, code.strip() or None, recovery_code.strip() or None, audit_context(request, access)
        )
    except (InvalidCredentials, RateLimited) as exc:
        return render(request, "mfa.html", {"error": exc.detail}, status_code=exc.status)
    response = RedirectResponse(portal_of(access.principal.roles), status_code=303)
    set_session_cookies(control, response, token, csrf)
    return redirect(portal_of(access.principal.roles), response)


@router.get("/signin/mfa/setup")
def mfa_setup_form(
    request: Request, access: Access = Depends(policy("account.read", resource=SELF, allow_pending_mfa=True))
) -> Response:
    if access.principal.session_stage == MFA_REQUIRED:
        return redirect("/signin/mfa")
    return render(request, "mfa_setup.html", {"enrolment": None, "error": None, "codes": None})


@router.post("/signin/mfa/setup")
def mfa_setup_begin(
    request: Request, access: Access = Depends(policy("account.write", resource=SELF, allow_pending_mfa=True))
) -> Response:
    control = _control(request)
    allow_enrolment(access)
    with control.db.unit_of_work(access.principal.tenant_id) as uow:
        enrolment = control.identity.begin_totp(uow, access.account_id)
    return render(request, "mfa_setup.html", {"enrolment": enrolment, "error": None, "codes": None})


@router.post("/signin/mfa/setup/confirm")
def mfa_setup_confirm(
    request: Request,
    code: Annotated[str, Form(max_length=16)],
    access: Access = Depends(policy("account.write", resource=SELF, allow_pending_mfa=True)),
) -> Response:
    control = _control(request)
    allow_enrolment(access)
    session = control.session_of(request)
    try:
        with control.db.unit_of_work(access.principal.tenant_id) as uow:
            codes = control.identity.confirm_totp(uow, access.account_id, code.strip())
            promoted = None
            if session is not None and session.stage == MFA_ENROLMENT_REQUIRED:
                promoted = control.sessions.promote(uow.session.connection(), session, ACTIVE)
    except (InvalidCredentials, ValidationFailed):
        error = "That code did not match. Start the set-up again and enter the newest code."
        return render(request, "mfa_setup.html", {"enrolment": None, "error": error, "codes": None}, status_code=422)
    response = render(
        request,
        "mfa_setup.html",
        {"enrolment": None, "error": None, "codes": codes, "next": portal_of(access.principal.roles)},
    )
    if promoted is not None:
        set_session_cookies(control, response, *promoted)
    return response


@router.post("/signout")
def signout(
    request: Request, access: Access = Depends(policy("session.write", resource=SELF, allow_pending_mfa=True))
) -> Response:
    control = _control(request)
    session = control.session_of(request)
    if session is not None:
        with control.db.connect() as connection:
            control.sessions.revoke(connection, session.id, "signed_out")
        control.directory.invalidate(f"session:{session.id}")
    response = RedirectResponse("/signin", status_code=303)
    clear_session_cookies(control, response)
    return redirect("/signin", response)


@router.get("/offline", dependencies=[Depends(public("the offline page the service worker keeps", rate=None))])
def offline(request: Request) -> Response:
    return render(request, "offline.html")


@router.get("/sw.js", dependencies=[Depends(public("the service worker script (offline shell only)", rate=None))])
def service_worker() -> Response:
    # Served from the root so that it may control every portal page (a worker's scope is its folder).
    return FileResponse(
        STATIC / "sw.js",
        media_type="text/javascript",
        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache", "Service-Worker-Allowed": "/"},
    )
