"""How a route declares its policy, and how the app proves every route did.

Every route names exactly one declaration:

* ``Depends(policy("claim.read", resource=path("claim_id")))`` — authenticate, ask the policy
  decision point, audit; the endpoint receives an ``Access`` (caller, decision, scope);
* ``Depends(public("why it is public"))`` — no identity needed (health probes, sign-in, the
  provider directory); public endpoints are rate limited per client address unless ``rate=None``.

A declaration can sit on the route (``dependencies=[...]`` or a parameter) or on its router
(``APIRouter(dependencies=[...])``). ``undeclared_routes(app)`` lists the routes with none (a test
fails on any), and ``PolicyGuard`` refuses requests to them at run time, so a forgotten
declaration is a failing build and a 403 — never an open door.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final, Literal

from fastapi import Request
from fastapi import routing as fastapi_routing
from fastapi.dependencies.models import Dependant
from starlette.concurrency import run_in_threadpool
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from olly.kernel.errors import NotFound
from olly.platform.audit import AuditRecord
from olly.platform.auth.catalog import RESOURCE_KINDS, Action, parse_action
from olly.platform.auth.principal import Principal
from olly.platform.auth.rules import AccessScope, Decision, ResourceFacts
from olly.platform.eventloop import WouldBlock, on_event_loop

if TYPE_CHECKING:
    from olly.platform.auth.access import AccessControl

LocatorSource = Literal["path", "query", "body", "self"]
PUBLIC_ATTRIBUTE: Final = "olly_public"
CSRF_FIELD: Final = "csrf_token"
"""The form field that carries the session's CSRF token when a portal form posts without script."""
FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")
#: How many request paths the route guard remembers its verdict for.
MAX_REMEMBERED_PATHS: Final = 4096


@dataclass(frozen=True, slots=True)
class Locator:
    """Where a request names the resource it acts on."""

    source: LocatorSource
    name: str | None = None
    kind: str | None = None
    """The kind of the named resource when it differs from the action's (``consent.read`` of a ``party``)."""
    evidence: tuple[str, ...] = ()
    """Body fields handed to the resolver as identifying evidence."""


def path(name: str, *, kind: str | None = None) -> Locator:
    return Locator("path", name, kind)


def query(name: str, *, kind: str | None = None) -> Locator:
    return Locator("query", name, kind)


def body(field: str, *, kind: str | None = None, evidence: Iterable[str] = ()) -> Locator:
    """A JSON body field (dotted for nested objects) naming the resource."""
    return Locator("body", field, kind, tuple(evidence))


SELF: Final = Locator("self")
"""The caller's own records (``/me/...``): facts are the caller's own party and account."""


@dataclass(frozen=True, slots=True)
class Access:
    """What a protected endpoint receives: who is calling and what the decision point allowed."""

    principal: Principal
    action: Action
    decision: Decision
    facts: ResourceFacts | None
    scope: AccessScope
    purpose: str
    request_id: str | None
    decided_at: datetime

    def audit_record(
        self, *, action: str | None = None, resource_id: str | None = None, detail: dict[str, Any] | None = None
    ) -> AuditRecord:
        """An audit record of a further PHI read or write in this request (append it in the same
        transaction as the write: ``audit.append(uow.session.connection(), [record])``)."""
        return AuditRecord(
            subject=self.principal.subject,
            role=self.principal.role_label,
            action=action or self.action.name,
            resource_type=self.action.kind.name,
            resource_id=resource_id,
            outcome="allowed",
            purpose=self.purpose,
            request_id=self.request_id,
            tenant_id=self.principal.tenant_id,
            detail=detail or {},
        )

    def refused(
        self, request: Request, reason: str, *, resource_id: str | None = None, message: str = "no such resource"
    ) -> NotFound:
        """Record that this request was refused ``resource_id`` for ``reason`` (a denied audit record,
        written on its own, outside any unit of work) and return the 404 to raise: what a caller may
        not reach answers as if it did not exist."""
        from olly.platform.http import platform_of

        record = self.audit_record(resource_id=resource_id, detail={"reason": reason})
        platform_of(request).audit.record(replace(record, outcome="denied", purpose=None))
        return NotFound(message)

    @property
    def account_id(self) -> uuid.UUID:
        if self.principal.account_id is None:
            from olly.platform.auth.errors import AccessDenied

            raise AccessDenied("this action needs a signed-in account")
        return self.principal.account_id


class PolicyDependency:
    """A route's declared policy; FastAPI calls it as a dependency."""

    def __init__(
        self,
        action: str,
        resource: Locator | None,
        *,
        purpose: str | None = None,
        allow_pending_mfa: bool = False,
        fresh_auth_seconds: int | None = None,
        session_only: bool = False,
        decide_on_event_loop: bool | Callable[[Request], bool] = False,
    ) -> None:
        self.action = parse_action(action)
        self.resource = resource
        self.resource_kind = (resource.kind or self.action.kind.name) if resource is not None else None
        if self.resource_kind is not None and self.resource_kind not in RESOURCE_KINDS:
            raise ValueError(f"unknown resource kind {self.resource_kind!r} in the policy of {action!r}")
        self.purpose = purpose
        self.allow_pending_mfa = allow_pending_mfa
        self.fresh_auth_seconds = fresh_auth_seconds
        self.session_only = session_only or fresh_auth_seconds is not None
        self.decide_on_event_loop = decide_on_event_loop

    def __repr__(self) -> str:
        return f"policy({self.action.name!r}, resource={self.resource!r})"

    async def __call__(self, request: Request) -> Access:
        payload: Any = None
        wants_body = self.resource is not None and self.resource.source == "body"
        if request.headers.get("content-type", "").startswith(FORM_TYPES):
            # A portal form: its CSRF token travels as a field, and a body locator names a field.
            form = await request.form()
            request.state.olly_form_csrf = str(form.get(CSRF_FIELD) or "")
            if wants_body:
                payload = {k: v for k, v in form.items() if isinstance(v, str)}
        elif wants_body:
            try:
                payload = await request.json()
            except ValueError:
                payload = None
        control: AccessControl = request.app.state.access
        on_loop = self.decide_on_event_loop
        if on_loop(request) if callable(on_loop) else on_loop:
            try:
                with on_event_loop():
                    return control.evaluate(request, self, payload)
            except WouldBlock:
                pass  # a fact (or a refusal's audit record) needs the database: decide in the pool
        return await run_in_threadpool(control.evaluate, request, self, payload)


class PublicDependency:
    """A route open to anyone, with the reason it may be."""

    def __init__(self, reason: str, rate: str | None = "public") -> None:
        if not reason.strip():
            raise ValueError("say why the route is public")
        self.reason = reason
        self.rate = rate

    def __repr__(self) -> str:
        return f"public({self.reason!r})"

    async def __call__(self, request: Request) -> None:
        if self.rate is not None:
            control: AccessControl = request.app.state.access
            await run_in_threadpool(control.limit_public, request, self.rate)


def policy(
    action: str,
    *,
    resource: Locator | None = None,
    purpose: str | None = None,
    allow_pending_mfa: bool = False,
    fresh_auth_seconds: int | None = None,
    session_only: bool = False,
    decide_on_event_loop: bool | Callable[[Request], bool] = False,
) -> PolicyDependency:
    """Declare what a route does: ``action`` is ``<kind>.<verb>`` from ``catalog.py``; ``resource``
    says where the request names the object (``None`` for collections and creations: the endpoint
    then narrows what it returns with ``access.scope``).

    ``allow_pending_mfa`` lets a session that still owes its second factor in (the MFA routes);
    ``fresh_auth_seconds`` demands a sign-in or re-authentication that recent (step-up, portal
    sessions only); ``session_only`` refuses bearer tokens (routes about the session itself).

    ``decide_on_event_loop`` (or a test of the request saying whether to) first tries the decision
    on the event loop, for hot routes whose facts are all cached: the first database or Redis call
    gives the attempt up and the decision is made in the thread pool as usual
    (``olly.platform.eventloop``).
    """
    return PolicyDependency(
        action,
        resource,
        purpose=purpose,
        allow_pending_mfa=allow_pending_mfa,
        fresh_auth_seconds=fresh_auth_seconds,
        session_only=session_only,
        decide_on_event_loop=decide_on_event_loop,
    )


def public(reason: str, *, rate: str | None = "public") -> PublicDependency:
    return PublicDependency(reason, rate)


def mark_public(route: BaseRoute, reason: str) -> None:
    """Declare a non-FastAPI route (the OpenAPI document, the docs pages, a static mount) public."""
    setattr(route, PUBLIC_ATTRIBUTE, PublicDependency(reason, rate=None))


Declaration = PolicyDependency | PublicDependency


def served_routes(routes: Iterable[BaseRoute]) -> list[Any]:
    """Every route the app serves, with included routers expanded (and their dependencies applied).

    FastAPI 0.137.2+ keeps included routers as a tree and flattens it with ``iter_route_contexts``;
    older versions copied included routes into ``app.routes``.
    """
    iterate = getattr(fastapi_routing, "iter_route_contexts", None)
    if iterate is None:  # pragma: no cover - older FastAPI
        return list(routes)
    return list(iterate(list(routes)))


def _walk(dependant: Dependant, found: list[Declaration]) -> None:
    for sub in dependant.dependencies:
        if isinstance(sub.call, (PolicyDependency, PublicDependency)):
            found.append(sub.call)
        _walk(sub, found)


def declarations_of(route: Any) -> list[Declaration]:
    """The declarations of a served route (an ``APIRoute``, or a route context from ``served_routes``)."""
    dependant = getattr(route, "dependant", None)
    if isinstance(dependant, Dependant):
        found: list[Declaration] = []
        _walk(dependant, found)
        return found
    marker = getattr(route, PUBLIC_ATTRIBUTE, None)
    return [marker] if isinstance(marker, PublicDependency) else []


def declaration_of(route: Any) -> Declaration | None:
    """The route's one declaration; ``None`` when it has none or (ambiguously) several."""
    found = declarations_of(route)
    return found[0] if len(found) == 1 else None


def route_label(route: Any) -> str:
    methods = ",".join(sorted(getattr(route, "methods", None) or ["*"]))
    return f"{methods} {getattr(route, 'path_format', None) or getattr(route, 'path', '?')}"


def undeclared_routes(routes: Iterable[BaseRoute]) -> list[str]:
    """Every served route without exactly one policy declaration, named for a test failure."""
    missing = []
    for route in served_routes(routes):
        count = len(declarations_of(route))
        if count != 1:
            missing.append(f"{route_label(route)} ({'no policy' if count == 0 else f'{count} policies'})")
    return missing


class PolicyGuard:
    """Refuse requests to any route that declares no policy (defence in depth behind the test)."""

    def __init__(self, app: ASGIApp, on_refusal: Callable[[Scope, str], None] | None = None) -> None:
        self.app = app
        self.on_refusal = on_refusal
        self._expanded: tuple[int, int, list[Any]] | None = None
        self._verdicts: dict[tuple[str, str], str | None] = {}
        """(method, path) → the label of the undeclared route it reaches, or None (bounded)."""

    def _served(self, routes: list[BaseRoute]) -> list[Any]:
        """The served routes, expanded once per set of routes (not on every request)."""
        key = (id(routes), len(routes))
        if self._expanded is None or self._expanded[:2] != key:
            self._expanded = (*key, served_routes(routes))
            self._verdicts = {}
        return self._expanded[2]

    def _undeclared(self, scope: Scope, routes: list[BaseRoute]) -> str | None:
        served = self._served(routes)
        key = (str(scope.get("method")), str(scope.get("path")))
        if key in self._verdicts:
            return self._verdicts[key]
        verdict = None
        for route in served:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                verdict = route_label(route) if declaration_of(route) is None else None
                break
        if len(self._verdicts) >= MAX_REMEMBERED_PATHS:
            self._verdicts.clear()
        self._verdicts[key] = verdict
        return verdict

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            router_app = scope.get("app")
            routes = getattr(getattr(router_app, "router", None), "routes", [])
            undeclared = self._undeclared(scope, routes)
            if undeclared is not None:
                if self.on_refusal is not None:
                    await run_in_threadpool(self.on_refusal, scope, undeclared)
                await _refuse(send, scope)
                return
        await self.app(scope, receive, send)


async def _refuse(send: Send, scope: Scope) -> None:
    import json

    body = json.dumps(
        {
            "type": "https://olly.dev/problems/policy_undeclared",
            "title": "Forbidden",
            "status": 403,
            "code": "policy_undeclared",
            "detail": "this route declares no access policy",
            "instance": scope.get("path", ""),
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
