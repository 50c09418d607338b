"""schemathesis over the whole OpenAPI document, as every role and anonymously: no server errors,
and every response conforms to the document (status codes, content types, schemas, headers).

One app and one world per engine for the whole module (a fresh database per operation would
cost minutes). Every operation is called in both generation modes (valid and invalid input) as one
persona of every role and anonymously, each example as the next role in turn.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.python import asgi

from olly.config import DEFAULT_TENANT_ID, Settings
from olly.kernel.clock import FixedClock
from olly.platform.auth.roles import Role
from olly.platform.runtime import build_platform
from tests.conftest import ENGINES, START, TEST_MASTER_KEY, make_database_url
from tests.support.identity import Persona, World, build_app, build_world, fast_settings


@pytest.fixture(scope="module", params=ENGINES)
def fuzz_world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tmp_path: Path = tmp_path_factory.mktemp(f"fuzz-{request.param}")
    urls = make_database_url(request.param, request, tmp_path)
    url = next(urls)
    platform = build_platform(
        fast_settings(
            Settings(
                env="test",
                database_url=url,
                data_dir=tmp_path / "var",
                master_key=TEST_MASTER_KEY,  # type: ignore[arg-type]
                audit_chains=4,
            )
        ),
        FixedClock(START),
    )
    with platform.db.connect() as connection:
        platform.crypto.ensure_tenant_keys(connection, DEFAULT_TENANT_ID)
    app, _ = build_app(platform)
    yield build_world(platform, app, DEFAULT_TENANT_ID)
    platform.close()
    next(urls, None)


def _schema(world: World) -> schemathesis.BaseSchema:
    loaded = schemathesis.openapi.from_asgi("/openapi.json", world.app)
    # Domain rules beyond the schema (a password on the breached list, a member account without a
    # party) answer 422 for schema-valid input: that is a rejection, not a failure.
    loaded.config.checks.positive_data_acceptance.expected_statuses = [
        "2xx",
        "3xx",
        "401",
        "403",
        "404",
        "409",
        "422",
        "429",
    ]
    return loaded


def _one_persona_per_role(world: World) -> list[Persona | None]:
    chosen: dict[Role, Persona] = {}
    for persona in world.personas.values():
        chosen.setdefault(persona.role, persona)
    return [*chosen.values(), None]  # None: anonymous


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    personas: list[Persona | None],
    call: Callable[[schemathesis.Case, Persona | None], None],
) -> None:
    """Each example goes out as the next role in turn; roles an operation with a small input space
    never reached are then sent its last example, so every role sees every operation."""
    sent: list[schemathesis.Case] = []

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=len(personas),
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        call(case, personas[len(sent) % len(personas)])
        sent.append(case)

    run()
    for persona in personas[len(sent) :]:
        call(sent[-1], persona)


def test_every_operation_as_every_role(fuzz_world: World) -> None:
    schema = _schema(fuzz_world)
    personas = _one_persona_per_role(fuzz_world)
    failures: list[str] = []
    operations = 0
    calls = 0

    # One in-process client for the whole run (a new one per call costs more than the call).
    session = asgi.get_client(fuzz_world.app)

    def call(case: schemathesis.Case, persona: Persona | None) -> None:
        nonlocal calls
        headers = {"X-Request-ID": f"fuzz-{uuid.uuid4().hex}"}
        if persona is not None:
            headers.update(persona.headers)
        calls += 1
        session.cookies.clear()  # a sign-in's cookie must not turn the next call into a session call
        case.call_and_validate(headers=headers, session=session)

    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                _fuzz(operation, mode, personas, call)
            except Unsatisfiable:
                continue  # nothing to make invalid: the operation takes no input
            except (Exception, BaseExceptionGroup) as exc:  # one operation's failure must not hide the others'
                failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:1500]}")
    session.close()
    assert operations >= 40
    assert not failures, "\n\n".join(failures)
    assert calls >= operations * len(personas)
