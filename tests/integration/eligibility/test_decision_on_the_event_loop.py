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
