"""Templates and the security headers of every portal response.

Templates only present what a view hands them: no queries, no decisions. Every response of a portal
page carries a strict Content-Security-Policy (scripts, styles, images and connections from this
origin only; no inline script or style anywhere, so no nonce is needed) and ``no-store``, so a
shared phone's browser cache keeps no personal data.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from olly.kernel.money import Money
from olly.platform.auth.roles import STAFF_ROLES, Role

HERE: Final = Path(__file__).resolve().parent
TEMPLATES: Final = HERE / "templates"
STATIC: Final = HERE / "static"
PORTAL_TAG: Final = "portal"
"""The tag every portal route carries: errors on these routes render as pages, not problem+json."""

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "manifest-src 'self'",
        "worker-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS: Final[dict[str, str]] = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
PAGE_HEADERS: Final[dict[str, str]] = {**SECURITY_HEADERS, "Cache-Control": "no-store"}


def money_text(value: Money) -> str:
    """``Money(150000, "USD")`` → ``"1,500.00 USD"``."""
    return _money(value.to_decimal_string(), value.currency)


def _money(amount: object, currency: str | None = None) -> str:
    """``"1500.00"`` → ``"1,500.00 USD"``: presentation of a decimal string the API already produced."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    text = f"{value:,.2f}"
    return f"{text} {currency}" if currency else text


environment: Final = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(("html", "svg")),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.filters["money"] = _money


def wants_fragment(request: Request) -> bool:
    """An htmx request swapping part of a page (a history restore asks for the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def csrf_token_of(request: Request) -> str:
    """The signed-in session's CSRF token (every form posts it back); empty when there is no session."""
    session = getattr(request.state, "olly_session", None)
    return str(getattr(session, "csrf_token", "") or "")


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    principal = getattr(request.state, "olly_principal", None)
    values = {
        "request": request,
        "csrf_token": csrf_token_of(request),
        "principal": principal,
        "signed_in": principal is not None and getattr(principal, "session_stage", "") == "active",
        "path": request.url.path,
        **(context or {}),
    }
    body = environment.get_template(template).render(values)
    return HTMLResponse(body, status_code=status_code, headers=PAGE_HEADERS)


def portal_of(roles: frozenset[Role]) -> str:
    """Where a signed-in person lands: members, employers and providers have one portal each; staff
    the operations console."""
    if Role.MEMBER in roles:
        return "/"
    if Role.EMPLOYER_ADMIN in roles:
        return "/employer"
    if Role.PROVIDER in roles:
        return "/provider"
    return "/ops"


def outside(roles: frozenset[Role], portal: str) -> Response | None:
    """Send a signed-in person who opened another kind of user's portal (``/ops``, ``/provider``,
    ``/employer``) to their own; None when it is theirs. Its pages show nothing they may not see
    (each asks for its own permission), but a member has no business in the operations console."""
    theirs = {
        "/ops": bool(roles & STAFF_ROLES),
        "/provider": Role.PROVIDER in roles,
        "/employer": Role.EMPLOYER_ADMIN in roles,
    }
    return None if theirs[portal] else redirect(portal_of(roles))


def redirect(url: str, response: Response | None = None) -> Response:
    """See-other after a form post (a reload never re-posts); htmx follows ``HX-Redirect``."""
    target = response or RedirectResponse(url, status_code=303)
    if response is not None:
        target.status_code = 303
        target.headers["location"] = url
    target.headers.update(PAGE_HEADERS)
    return target
