"""Mounting the portals: routers, static assets, and errors rendered as pages on portal routes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from olly.kernel.errors import OllyError
from olly.platform.auth.policy import mark_public
from olly.web import employer, member, ops, provider, shell
from olly.web.rendering import PORTAL_TAG, SECURITY_HEADERS, STATIC, redirect, render, wants_fragment

NOT_FOUND_IN_PLACE = "Nothing matches what you entered. Check each detail and try again."
#: Where an unauthenticated (or half-authenticated) portal request is sent instead of a 401.
SIGN_IN_STEPS = {
    "mfa_required": "/signin/mfa",
    "mfa_enrolment_required": "/signin/mfa/setup",
}


class PortalStatic(StaticFiles):
    """The portals' own assets (no personal data): cacheable, with the same security headers."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = "public, max-age=3600"
        return response


def is_portal_request(request: Request) -> bool:
    route = request.scope.get("route")
    return PORTAL_TAG in (getattr(route, "tags", None) or ())


def install(app: FastAPI) -> None:
    for router in (shell.router, member.router, employer.router, provider.router, ops.router):
        app.include_router(router)
    app.mount("/static", PortalStatic(directory=STATIC), name="static")
    mark_public(app.routes[-1], "the portals' static assets (no personal data)")
    _render_errors_as_pages(app)


def _render_errors_as_pages(app: FastAPI) -> None:
    """On portal routes an error is a page (or a redirect to sign-in); elsewhere problem+json as before."""
    handlers: dict[Any, Any] = app.exception_handlers
    api_olly, api_http, api_validation = (
        handlers[OllyError],
        handlers[StarletteHTTPException],
        handlers[RequestValidationError],
    )

    async def olly_error(request: Request, exc: Exception) -> Response:
        if not is_portal_request(request) or not isinstance(exc, OllyError):
            return await api_olly(request, exc)  # type: ignore[no-any-return]
        if exc.status == 401:
            return redirect(SIGN_IN_STEPS.get(exc.code, "/signin"))
        if wants_fragment(request):
            # An htmx form's answer: the message takes the answer's place on the page.
            detail = NOT_FOUND_IN_PLACE if exc.status == 404 else exc.detail
            return render(request, "_alert.html", {"detail": detail}, status_code=exc.status)
        return render(
            request,
            "error.html",
            {"status": exc.status, "title": exc.title, "detail": exc.detail},
            status_code=exc.status,
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        if not is_portal_request(request) or not isinstance(exc, StarletteHTTPException):
            return await api_http(request, exc)  # type: ignore[no-any-return]
        return render(
            request,
            "error.html",
            {"status": exc.status_code, "title": "Error", "detail": str(exc.detail)},
            status_code=exc.status_code,
        )

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not is_portal_request(request) or not isinstance(exc, RequestValidationError):
            return await api_validation(request, exc)  # type: ignore[no-any-return]
        fields = sorted({str(e.get("loc", ("", ""))[-1]) for e in exc.errors()})
        detail = "Please check: " + ", ".join(f.replace("_", " ") for f in fields)
        if wants_fragment(request):
            return render(request, "_alert.html", {"detail": detail}, status_code=422)
        return render(
            request,
            "error.html",
            {"status": 422, "title": "Some answers need another look", "detail": detail},
            status_code=422,
        )

    app.add_exception_handler(OllyError, olly_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
