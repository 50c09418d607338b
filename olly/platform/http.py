"""HTTP plumbing shared by every router: request ids, access log lines and problem+json errors."""

from __future__ import annotations

import json
import re
import time
from typing import Any, Final

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from olly.kernel.errors import OllyError
from olly.kernel.ids import uuid7
from olly.platform.logging import get_logger

PROBLEM_JSON: Final = "application/problem+json"
REQUEST_ID_HEADER: Final = "X-Request-ID"
_REQUEST_ID_RE: Final = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

log = get_logger("olly.http")


class RequestContextMiddleware:
    """Give every request an id (the caller's ``X-Request-ID`` if well formed), bind it to every log
    line, echo it in the response, and log one access line without the query string."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(REQUEST_ID_HEADER.lower().encode(), b"").decode("latin-1")
        request_id = incoming if _REQUEST_ID_RE.match(incoming) else str(uuid7())
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status_holder: dict[str, int] = {"status": 500}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                status_holder["started"] = 1
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Last resort: log the failure (scrubbed) and answer with a problem that reveals nothing.
            log.exception("unhandled error")
            if status_holder.get("started"):
                raise
            await _send_internal_error(send_with_id, request_id, scope.get("path", ""))
        finally:
            log.info(
                "request",
                method=scope.get("method"),
                path=scope.get("path"),
                status=status_holder["status"],
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
            structlog.contextvars.clear_contextvars()


async def _send_internal_error(send: Send, request_id: str, path: str) -> None:
    body = json.dumps(
        {
            "type": "https://olly.dev/problems/internal_error",
            "title": "Internal server error",
            "status": 500,
            "code": "internal_error",
            "detail": "The server could not complete the request. Quote the request id to support.",
            "instance": path,
            "requestId": request_id,
        }
    ).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem_response(
    request: Request, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> JSONResponse:
    body.setdefault("type", "about:blank")
    body.setdefault("status", status)
    body["instance"] = request.url.path
    request_id = request_id_of(request)
    if request_id:
        body["requestId"] = request_id
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


_TITLES: Final = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    429: "Too many requests",
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OllyError)
    async def _olly_error(request: Request, exc: OllyError) -> JSONResponse:
        if exc.status >= 500:
            log.error("request failed", code=exc.code)
        return problem_response(request, exc.status, exc.problem(), headers=getattr(exc, "headers", None))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = _TITLES.get(exc.status_code, "Error")
        detail = exc.detail if isinstance(exc.detail, str) else title
        code = title.lower().replace(" ", "_")
        body = {"title": title, "detail": detail, "code": code, "type": f"https://olly.dev/problems/{code}"}
        return problem_response(request, exc.status_code, body, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        # The offending input is never echoed: it may be PHI.
        errors = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ())),
                "message": str(err.get("msg", "invalid")),
                "code": str(err.get("type", "invalid")),
            }
            for err in exc.errors()
        ]
        body = {
            "type": "https://olly.dev/problems/validation_failed",
            "title": "The request is not valid",
            "code": "validation_failed",
            "detail": f"{len(errors)} field error(s)",
            "errors": errors,
        }
        return problem_response(request, 422, body)


def platform_of(request: Request) -> Any:
    """The running ``Platform`` (typed loosely here to keep http free of the runtime module)."""
    return request.app.state.platform


def tenant_of(request: Request) -> Any:
    """The tenant a request acts for: set by authentication, else the installation's default tenant."""
    tenant = getattr(request.state, "tenant_id", None)
    return tenant if tenant is not None else request.app.state.platform.settings.default_tenant_id
