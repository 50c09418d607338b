"""The eligibility check's policy decision is tried on the event loop when every fact is cached; a
fact or a refusal that needs the database sends it to the thread pool, and the attempt abandoned
on the loop writes nothing (each request is audited exactly once)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.support.identity import (
    World,
    app,
    app_and_outbox,
    audit_rows,
    client,
    control,
    outbox,
    settings,
    world,
)

__all__ = ["app", "app_and_outbox", "client", "control", "outbox", "settings", "world"]

SERVICE_DATE = "2026-02-03"
#: The module (``olly.platform.auth.policy`` the name is the package's ``policy`` function).
policy_module = importlib.import_module("olly.platform.auth.policy")


@pytest.fixture
def hand_offs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the calls the decision point hands to the thread pool."""
    calls: list[str] = []
    real = policy_module.run_in_threadpool

    async def counting(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(func.__name__)
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(policy_module, "run_in_threadpool", counting)
    return calls


def _check(client: TestClient, world: World, persona: str, letter: str, request_id: str) -> Any:
    headers = {**world.persona(persona).headers, "X-Request-ID": request_id}
    params = {"memberId": str(world.parties[letter]), "serviceDate": SERVICE_DATE}
    return client.get("/api/v1/eligibility", params=params, headers=headers)


def _audited(world: World, request_id: str) -> list[tuple[str, str, str | None]]:
    return sorted(
        (r["action"], r["outcome"], r["resource_id"]) for r in audit_rows(world.platform, request_id=request_id)
    )


def test_a_repeated_check_is_decided_on_the_event_loop_and_audited_once(
    client: TestClient, world: World, hand_offs: list[str]
) -> None:
    world.control.directory.forget_all()  # the account's state must be read from the database once
    first = _check(client, world, "claims_examiner", "A", "loop-first")
    assert first.status_code == 200
    assert hand_offs == ["evaluate"]
    second = _check(client, world, "claims_examiner", "A", "loop-second")
    assert second.status_code == 200 and second.content == first.content
    assert hand_offs == ["evaluate"]  # nothing new: every fact was cached
    party = str(world.parties["A"])
    for request_id in ("loop-first", "loop-second"):
        assert _audited(world, request_id) == [
            ("eligibility.check", "allowed", party),
            ("eligibility.read", "allowed", party),
        ]


@pytest.mark.parametrize(
    ("persona", "letter", "status"),
    [
        ("credentialing", "A", 403),  # the role may never read eligibility
        ("provider_1", "A", 404),  # by id nothing identifies the patient
        ("member_b", "A", 404),  # someone else's coverage
    ],
)
def test_a_refusal_after_an_attempt_on_the_loop_is_audited_once(
    client: TestClient, world: World, hand_offs: list[str], persona: str, letter: str, status: int
) -> None:
    _check(client, world, "claims_examiner", letter, "warm-the-facts")
    assert _check(client, world, persona, letter, "refusal-warm").status_code == status  # account state cached
    before = len(hand_offs)
    refused = _check(client, world, persona, letter, "refusal-once")
    assert refused.status_code == status
    assert hand_offs[before:] == ["evaluate"]  # the refusal's audit record is written in the pool
    assert [(action, outcome) for action, outcome, _ in _audited(world, "refusal-once")] == [
        ("eligibility.read", "denied")
    ]


def test_an_invalid_token_is_refused_and_audited_once(client: TestClient, world: World, hand_offs: list[str]) -> None:
    params = {"memberId": str(world.parties["A"]), "serviceDate": SERVICE_DATE}
    refused = client.get(
        "/api/v1/eligibility",
        params=params,
        headers={"Authorization": "Bearer not.a.token", "X-Request-ID": "bad-token"},
    )
    assert refused.status_code == 401
    assert hand_offs == ["evaluate"]
    assert _audited(world, "bad-token") == [("eligibility.read", "denied", None)]


fastpath_module = importlib.import_module("olly.eligibility.fastpath")


@pytest.fixture
def fast_answers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The request ids answered by ``FastCheck`` (not by the route)."""
    answered: list[str] = []
    real = fastpath_module._check

    async def counting(request: Any, *args: Any) -> Any:
        answered.append(request.state.request_id)
        return await real(request, *args)

    monkeypatch.setattr(fastpath_module, "_check", counting)
    return answered


def test_a_plain_check_is_answered_by_the_fast_path_exactly_as_by_the_route(
    client: TestClient, world: World, fast_answers: list[str]
) -> None:
    headers = world.persona("claims_examiner").headers
    party = str(world.parties["A"])
    plain = {"memberId": party, "serviceDate": SERVICE_DATE, "serviceType": "98"}
    warm = client.get("/api/v1/eligibility", params=plain, headers={**headers, "X-Request-ID": "fast-warm"})
    assert warm.status_code == 200
    fast = client.get("/api/v1/eligibility", params=plain, headers={**headers, "X-Request-ID": "fast-plain"})
    # the same check in forms only the route reads: an unknown parameter, an upper-case id
    routed = client.get(
        "/api/v1/eligibility", params={**plain, "x": "1"}, headers={**headers, "X-Request-ID": "fast-routed"}
    )
    upper = client.get(
        "/api/v1/eligibility",
        params={**plain, "memberId": party.upper()},
        headers={**headers, "X-Request-ID": "fast-upper"},
    )
    assert "fast-plain" in fast_answers and "fast-routed" not in fast_answers
    assert "fast-upper" in fast_answers  # a hyphenated id in capitals is still plain
    for response in (fast, routed, upper):
        assert response.status_code == 200 and response.content == warm.content
        assert response.headers["content-type"] == "application/json"
    assert fast.headers["x-request-id"] == "fast-plain"
    for request_id in ("fast-plain", "fast-routed", "fast-upper"):
        assert _audited(world, request_id) == [
            ("eligibility.check", "allowed", party),
            ("eligibility.read", "allowed", party),
        ]
    # the metrics name the route whichever answered (the fast path before routing, or the route)
    from prometheus_client.parser import text_string_to_metric_families

    from olly.platform.metrics import exposition

    counted = {
        (sample.labels["route"], sample.labels["status"]): sample.value
        for family in text_string_to_metric_families(exposition(client.app.state.metrics_registry).decode())  # type: ignore[attr-defined]
        for sample in family.samples
        if sample.name == "olly_http_requests_total" and sample.labels["method"] == "GET"
    }
    assert counted[("/api/v1/eligibility", "200")] == 4.0


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"serviceDate": SERVICE_DATE}, 422),  # no member
        ({"memberId": "not-a-uuid", "serviceDate": SERVICE_DATE}, 422),  # the examiner may read anyone: 422
        ({"memberId": "A", "serviceDate": "2026-2-3"}, 422),
        ({"memberId": "A", "serviceDate": SERVICE_DATE, "serviceType": ""}, 422),
        ({"memberId": "A", "serviceDate": SERVICE_DATE, "serviceType": "x" * 41}, 422),
    ],
)
def test_what_is_not_plain_is_left_to_the_route(
    client: TestClient, world: World, fast_answers: list[str], params: dict[str, str], status: int
) -> None:
    if params.get("memberId") == "A":
        params = {**params, "memberId": str(world.parties["A"])}
    response = client.get("/api/v1/eligibility", params=params, headers=world.persona("claims_examiner").headers)
    assert response.status_code == status
    assert fast_answers == []


def test_a_refusal_is_answered_by_the_route_and_audited_once(
    client: TestClient, world: World, fast_answers: list[str]
) -> None:
    refused = _check(client, world, "credentialing", "A", "fast-refused")
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    assert fast_answers == []
    assert [(a, o) for a, o, _ in _audited(world, "fast-refused")] == [("eligibility.read", "denied")]


@pytest.mark.parametrize(
    ("query", "plain"),
    [
        (b"memberId=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&serviceDate=2026-02-03", True),
        (b"memberId=0190A1B2-C3D4-7E5F-8A9B-0C1D2E3F4A5B&serviceDate=2026-02-03&serviceType=UC", True),
        (b"memberId=0190a1b2c3d47e5f8a9b0c1d2e3f4a5b&serviceDate=2026-02-03", False),  # no hyphens
        (b"memberId=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&serviceDate=2026-W05-2", False),  # a week date
        (b"memberId=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&serviceDate=2026-02-30", False),  # no such day
        (b"memberId=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&memberId=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c", False),
        (b"memberId=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&serviceDate=2026-02-03&page=2", False),
        (b"memberId=0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b&serviceDate=2026-02-03&serviceType=", False),
        (b"memberId", False),
    ],
)
def test_plain_parameters(query: bytes, plain: bool) -> None:
    assert (fastpath_module.plain_check(query) is not None) is plain
