"""Wiring the access control into the app: the auth router, the policy guard, public docs routes
and the OpenAPI description of every route's policy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from olly.platform.auth.access import AccessControl
from olly.platform.auth.api import router
from olly.platform.auth.policy import (
    PolicyDependency,
    PolicyGuard,
    PublicDependency,
    declaration_of,
    mark_public,
    served_routes,
)

if TYPE_CHECKING:
    from olly.platform.runtime import Platform

PROBLEM_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "description": "RFC 9457 problem details; never contains PHI",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "requestId": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}, "code": {"type": "string"}},
            },
        },
    },
}
_PROBLEM_REF: Final = {"$ref": "#/components/schemas/Problem"}
_STANDARD: Final = {
    "400": "the body is not well-formed JSON",
    "401": "not signed in, or the session or token is no longer valid",
    "403": "the caller's role may not do this (or the CSRF token is missing)",
    "404": "no such resource, or it is someone else's",
    "409": "the request conflicts with the resource's current state",
    "422": "the request is not valid",
    "429": "too many requests",
}


def install_access_control(app: FastAPI, platform: Platform | None) -> AccessControl:
    control = AccessControl()
    app.state.access = control
    if platform is not None:
        control.bind(platform)
    app.include_router(router)
    app.add_middleware(PolicyGuard, on_refusal=control.audit_undeclared)
    documentation = {app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url}
    if app.docs_url and app.swagger_ui_oauth2_redirect_url:
        documentation.add(app.swagger_ui_oauth2_redirect_url)
    for route in app.routes:
        if getattr(route, "path", None) in documentation and not isinstance(route, APIRoute):
            mark_public(route, "API documentation")
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return control


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/problem+json": {"schema": _PROBLEM_REF}}}


def _openapi(app: FastAPI) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
    )
    components = schema.setdefault("components", {})
    components.setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    components["securitySchemes"] = {
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
        "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "__Host-olly_session"},
    }
    # FastAPI's own validation error shape is replaced by problem+json everywhere.
    for name in ("HTTPValidationError", "ValidationError"):
        components["schemas"].pop(name, None)
    declarations = {
        (method.lower(), route.path_format): declaration_of(route)
        for route in served_routes(app.routes)
        for method in (getattr(route, "methods", None) or ())
    }
    for path_name, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            declared = declarations.get((method, path_name))
            responses = operation.setdefault("responses", {})
            if "422" in responses or operation.get("requestBody") or operation.get("parameters"):
                responses["422"] = _problem(_STANDARD["422"])
            if operation.get("requestBody"):
                responses.setdefault("400", _problem(_STANDARD["400"]))
            if isinstance(declared, PolicyDependency):
                operation["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]
                operation["x-olly-policy"] = {
                    "action": declared.action.name,
                    "resource": declared.resource_kind,
                    "locator": declared.resource.source if declared.resource else None,
                }
                statuses = ["401", "403", "404", "429"] + (
                    ["409"] if method in ("post", "put", "patch", "delete") else []
                )
                for status in statuses:
                    responses.setdefault(status, _problem(_STANDARD[status]))
                    responses[status] = _as_problem(responses[status], _STANDARD[status])
            elif isinstance(declared, PublicDependency):
                operation["security"] = []
                operation["x-olly-policy"] = {"public": declared.reason}
                responses.setdefault("429", _problem(_STANDARD["429"]))
                for status in list(responses):
                    if status.startswith(("4", "5")):
                        responses[status] = _as_problem(responses[status], _STANDARD.get(status, "error"))
    app.openapi_schema = schema
    return schema


def _as_problem(response: dict[str, Any], fallback: str) -> dict[str, Any]:
    if "content" in response and "application/problem+json" not in response["content"]:
        return response  # an endpoint that documents its own error body (the OAuth token endpoint)
    return {"description": response.get("description") or fallback, **_problem(fallback)}
