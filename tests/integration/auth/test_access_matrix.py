"""The access matrix: every route × every role × own object and someone else's.

Generated from the app itself: every served route with a policy is called as every persona
(members, employer administrators, providers, trading partners, every staff role), once per
object of the route's resource kind (owned by A, B, C or D) or once for collections and ``/me``
routes. A router the lead mounts later is covered the moment it is mounted; the test fails if its
resource kinds have no fixture in ``access_fixtures.py``.

* Cross-member, cross-group and cross-provider requests: refused (403 or 404), not one byte of the
  other person's data (markers) in the body, and an audit record of the refusal.
* Every other request: the HTTP outcome is the policy decision point's decision (allowed → not
  401/403; refused → 403/404 and audited), and no person's data reaches a persona not entitled to it.
  (Personas call with bearer tokens, so session-only routes refuse them: also audited.)
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from sqlalchemy import select

from olly.platform.audit import AuditEvent
from olly.platform.auth.access import reference, self_facts
from olly.platform.auth.policy import PolicyDependency, declaration_of, served_routes
from olly.platform.auth.resolvers import ResolveContext
from olly.platform.auth.roles import Role
from olly.platform.auth.rules import decide
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from tests.integration.auth.access_fixtures import (
    CROSS_CHECKED_ROLES,
    OWN_LETTER,
    PATH_VALUES,
    RESOURCE_FIXTURES,
    Owned,
    seed,
)
from tests.support.identity import ENTITLED, Persona, World, https_client

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    declared: PolicyDependency
    has_body: bool


def probes(app: FastAPI) -> list[Probe]:
    found = []
    for route in served_routes(app.routes):
        declared = declaration_of(route)
        if not isinstance(declared, PolicyDependency):
            continue
        has_body = bool(route.dependant.body_params)
        for method in sorted(route.methods):
            found.append(Probe(method, route.path_format, declared, has_body))
    # Reads first, then writes, so a persona's own writes never hide data from its later reads.
    return sorted(found, key=lambda p: (p.method in UNSAFE, p.path, p.method))


def required_kinds(all_probes: list[Probe]) -> set[str]:
    kinds = set()
    for probe in all_probes:
        declared = probe.declared
        if declared.resource is not None and declared.resource.source != "self":
            kinds.add(declared.resource_kind or declared.action.kind.name)
        elif declared.action.kind.phi:
            kinds.add(declared.action.kind.name)  # a collection: seeded data must not leak into it
    return kinds


def entitled(persona: Persona, target: Owned) -> bool:
    owners = ENTITLED[persona.name]
    if target.confidential and persona.role is Role.MEMBER:
        owners = frozenset({OWN_LETTER[persona.name]}) & owners
    return target.owner in owners


def _request(probe: Probe, target: Owned | None) -> tuple[str, dict[str, Any] | None, dict[str, str]]:
    path = probe.path
    body: dict[str, Any] | None = {} if probe.has_body else None
    query: dict[str, str] = {}
    locator = probe.declared.resource
    if target is not None and locator is not None and locator.name:
        if locator.source == "path":
            path = path.replace("{" + locator.name + "}", target.resource_id)
        elif locator.source == "query":
            query[locator.name] = target.resource_id
        elif locator.source == "body":
            body = body or {}
            node = body
            *parents, leaf = locator.name.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = target.resource_id
    for name, value in PATH_VALUES.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, f"{probe.path}: a path parameter the fixtures cannot fill"
    return path, body, query


def expected_allowed(world: World, persona: Persona, probe: Probe, target: Owned | None) -> bool:
    """What the policy decision point should decide, computed from the rules and the resolvers."""
    control = world.control
    principal = control.principal_from_token(persona.token)
    today = world.platform.clock.today()
    context = ResolveContext(principal.tenant_id, today, world.platform.db)
    subject = control.subject_facts(principal, context)
    declared = probe.declared
    facts = None
    if declared.resource is not None:
        kind = declared.resource_kind or declared.action.kind.name
        if declared.resource.source == "self":
            facts = self_facts(kind, principal)
        else:
            assert target is not None
            resolver = control.resolvers.get(kind)
            assert resolver is not None, f"no resolver registered for {kind}"

            class _Request:
                path_params = {declared.resource.name: target.resource_id}
                query_params = {declared.resource.name: target.resource_id}

            ref = reference(
                declared.resource, kind, _Request(), {declared.resource.name: target.resource_id}, principal
            )  # type: ignore[arg-type]
            facts = resolver.resolve(context, ref)
            if facts is None:
                return False
    if not decide(subject, declared.action, facts, today).allowed:
        return False
    # The matrix calls with bearer tokens: routes about the portal session itself refuse them.
    return not declared.session_only


def _denied_request_ids(platform: Platform) -> set[str]:
    events = table_of(AuditEvent)
    with platform.db.connect() as connection:
        rows = connection.execute(select(events.c.request_id).where(events.c.outcome == "denied"))
        return {r.request_id for r in rows if r.request_id}


def test_access_matrix(world: World, app: FastAPI, platform: Platform) -> None:
    seeded = seed(world)
    all_probes = probes(app)
    missing = sorted(required_kinds(all_probes) - set(RESOURCE_FIXTURES))
    assert not missing, f"add access-matrix fixtures for resource kinds {missing} in access_fixtures.py"
    objects = {kind: build(world, seeded) for kind, build in RESOURCE_FIXTURES.items()}
    client = https_client(app)

    # The administrator can erase people and disable accounts: it goes last.
    order = sorted(world.personas.values(), key=lambda p: (p.role is Role.ADMINISTRATOR, p.name))
    must_be_audited: list[tuple[str, str]] = []
    failures: list[str] = []
    tally: Counter[str] = Counter()

    for persona in order:
        strangers = (
            []
            if persona.name not in ENTITLED
            else [
                marker
                for letter, markers in seeded.markers.items()
                if letter not in ENTITLED[persona.name]
                for marker in markers
            ]
        )
        for probe in all_probes:
            locator = probe.declared.resource
            needs_target = locator is not None and locator.source != "self"
            kind = (probe.declared.resource_kind or probe.declared.action.kind.name) if locator else None
            targets: list[Owned | None] = list(objects[kind]) if needs_target and kind else [None]
            for target in targets:
                path, body, query = _request(probe, target)
                request_id = f"matrix-{uuid.uuid4().hex}"
                response = client.request(
                    probe.method,
                    path,
                    json=body,
                    params=query,
                    headers={**persona.headers, "X-Request-ID": request_id},
                )
                label = f"{persona.name} {probe.method} {probe.path} target={target.owner if target else '-'}"
                text = response.text
                leaked = [m for m in strangers if m in text]
                if target is not None and persona.name in ENTITLED and not entitled(persona, target):
                    leaked += [m for m in target.markers if m in text]
                if leaked:
                    failures.append(f"{label}: leaked another person's data")
                cross = target is not None and persona.role in CROSS_CHECKED_ROLES and not entitled(persona, target)
                if cross:
                    tally["cross"] += 1
                    if response.status_code not in (403, 404):
                        failures.append(f"{label}: cross-person request answered {response.status_code}")
                    must_be_audited.append((request_id, label))
                    continue
                allowed = expected_allowed(world, persona, probe, target)
                tally["allowed" if allowed else "refused"] += 1
                if allowed:
                    acceptable_404 = persona.role not in CROSS_CHECKED_ROLES or target is None
                    if response.status_code in (401, 403) or (response.status_code == 404 and not acceptable_404):
                        failures.append(f"{label}: the rules allow it but it answered {response.status_code}")
                else:
                    if response.status_code not in (403, 404):
                        failures.append(f"{label}: the rules refuse it but it answered {response.status_code}")
                    must_be_audited.append((request_id, label))
                if response.status_code >= 500:
                    failures.append(f"{label}: server error")

    audited = _denied_request_ids(platform)
    failures += [f"{label}: refusal not audited" for request_id, label in must_be_audited if request_id not in audited]
    assert not failures, "\n".join(failures[:50]) + f"\n({len(failures)} failures)"
    # The matrix really exercised every kind of outcome.
    assert (tally["cross"] >= 200, tally["allowed"] >= 50, tally["refused"] >= 200) == (True, True, True), tally
