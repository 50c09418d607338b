"""Every route declares exactly one policy; an undeclared route is refused at run time too."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from olly.platform.auth import policy, public, undeclared_routes
from olly.platform.auth.catalog import RESOURCE_KINDS
from olly.platform.auth.policy import PolicyDependency, declaration_of, served_routes
from olly.platform.runtime import Platform
from tests.support.identity import audit_rows, build_app, https_client


def test_every_route_of_the_app_declares_a_policy(app: FastAPI) -> None:
    assert undeclared_routes(app.routes) == []


def test_every_resource_a_policy_names_has_a_resolver(app: FastAPI) -> None:
    control = app.state.access
    kinds = set()
    for route in served_routes(app.routes):
        declared = declaration_of(route)
        if isinstance(declared, PolicyDependency) and declared.resource and declared.resource.source != "self":
            kinds.add(declared.resource_kind)
    assert kinds <= set(RESOURCE_KINDS)
    assert sorted(k for k in kinds if control.resolvers.get(k) is None) == []


def test_a_route_mounted_without_a_policy_is_found_and_refused(platform: Platform) -> None:
    app, _ = build_app(platform)
    forgotten = APIRouter()

    @forgotten.get("/forgotten/{member_id}")
    def leak(member_id: str) -> dict[str, str]:
        return {"ssn": "123-45-6789", "member": member_id}

    guarded = APIRouter(dependencies=[Depends(policy("claim.read"))])

    @guarded.get("/guarded-by-router")
    def fine() -> dict[str, str]:
        return {}

    twice = APIRouter(dependencies=[Depends(public("docs"))])

    @twice.get("/twice", dependencies=[Depends(policy("claim.read"))])
    def ambiguous() -> dict[str, str]:
        return {}

    app.include_router(forgotten)
    app.include_router(guarded)
    app.include_router(twice)
    assert undeclared_routes(app.routes) == ["GET /forgotten/{member_id} (no policy)", "GET /twice (2 policies)"]

    with https_client(app) as client:
        response = client.get("/forgotten/42", headers={"X-Request-ID": "forgotten-route-call"})
        assert response.status_code == 403
        assert response.json()["code"] == "policy_undeclared"
        assert "123-45-6789" not in response.text
        assert client.get("/guarded-by-router").status_code == 401  # declared on the router: enforced
    rows = audit_rows(platform, request_id="forgotten-route-call")
    assert [(r["action"], r["outcome"]) for r in rows] == [("route.call", "denied")]


def test_unknown_actions_and_kinds_fail_when_the_route_is_declared() -> None:
    import pytest

    with pytest.raises(ValueError, match="unknown resource kind"):
        policy("claims.read")
    with pytest.raises(ValueError, match="unknown verb"):
        policy("claim.delete")
    from olly.platform.auth import path

    with pytest.raises(ValueError, match="unknown resource kind"):
        policy("claim.read", resource=path("x", kind="nothing"))


def test_public_endpoints_are_rate_limited_per_client_address(client) -> None:  # type: ignore[no-untyped-def]
    statuses = [client.get("/.well-known/jwks.json").status_code for _ in range(121)]
    assert statuses[:120] == [200] * 120
    assert statuses[120] == 429
    assert client.get("/health").status_code == 200  # probes are never limited
