"""Ways in and out: the API, the CLI and the inbox folder."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from olly.app import create_app
from olly.cli import app as cli
from olly.config import get_settings
from olly.edi import api as edi_api
from olly.edi.folders import folders, process_inbox
from olly.edi.testing import professional_claims_text
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from tests.integration.edi.helpers import pending, register, segments
from tests.support.identity import control_of, sign_in_as
from tests.unit.edi.conftest import FIXTURES, fixture_bytes
from tests.unit.edi.pyx12_judge import judge


def partner_headers(app: object, tenant_id: uuid.UUID, provider_ids: list[str]) -> dict[str, str]:
    control = control_of(app)  # type: ignore[arg-type]
    with control.db.unit_of_work(tenant_id) as uow:
        created = control.identity.create_api_client(uow, "Clearinghouse", provider_ids)
    token, _ = control.tokens.issue(f"client:{created.client_id}", tenant_id, control.clock.now())
    return {"Authorization": f"Bearer {token}"}


def test_api_submit_list_and_download(platform: Platform, tenant_id: uuid.UUID) -> None:
    app = create_app(platform)
    client = TestClient(app)
    admin = sign_in_as(app, tenant_id, Role.ADMINISTRATOR).headers
    created = client.post(
        "/api/v1/edi/partners",
        headers=admin,
        json={
            "code": "CH1",
            "name": "Clearinghouse one",
            "kind": "CLEARINGHOUSE",
            "interchangeQualifier": "30",
            "interchangeId": "000000005",
            "providerIds": ["1234567890"],
        },
    )
    assert created.status_code == 201, created.text
    assert created.json()["acceptedTransactions"] == ["837P", "837I", "834", "270", "276"]
    assert client.post("/api/v1/edi/partners", headers=admin, json=created.json() | {"id": None}).status_code == 422
    assert [p["code"] for p in client.get("/api/v1/edi/partners", headers=admin).json()["items"]] == ["CH1"]

    ours = partner_headers(app, tenant_id, ["1234567890"])
    theirs = partner_headers(app, tenant_id, ["1245319508"])
    data = fixture_bytes("two-claims-single-provider.837i")
    assert client.post("/api/v1/edi", headers=theirs, content=data).status_code == 403
    response = client.post("/api/v1/edi", headers=ours, content=data)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["status"], answer["kind"]) == ("ACCEPTED", "837I")
    assert [a["kind"] for a in answer["acknowledgements"]] == ["TA1", "999", "277CA"]
    assert judge(answer["acknowledgements"][1]["content"]) == []
    empty = client.post("/api/v1/edi", headers=ours, content=b"")
    assert (empty.status_code, empty.headers["content-type"]) == (422, "application/problem+json")

    listed = client.get("/api/v1/edi/files", headers=ours).json()["items"]
    assert sorted(f["kind"] for f in listed) == ["277CA", "837I", "999", "TA1"]
    assert client.get("/api/v1/edi/files", headers=theirs).json()["items"] == []
    file_id = answer["fileId"]
    shown = client.get(f"/api/v1/edi/files/{file_id}", headers=ours).json()
    assert (shown["direction"], shown["sizeBytes"], len(shown["replies"])) == ("IN", len(data), 3)
    raw = client.get(f"/api/v1/edi/files/{file_id}", params={"download": "true"}, headers=ours)
    assert (raw.status_code, raw.content, raw.headers["content-type"]) == (200, data, "application/edi-x12")
    assert client.get(f"/api/v1/edi/files/{file_id}", headers=theirs).status_code == 404  # not theirs: unseen
    assert client.get(f"/api/v1/edi/files/{uuid.uuid4()}", headers=ours).status_code == 404
    # staff: enrollment specialists read every file; partners cannot manage the registry
    specialist = sign_in_as(app, tenant_id, Role.ENROLLMENT_SPECIALIST).headers
    assert len(client.get("/api/v1/edi/files", headers=specialist).json()["items"]) == 4
    assert client.get("/api/v1/edi/partners", headers=ours).status_code == 403


def test_an_api_body_over_the_limit_is_refused_before_it_is_all_read(
    platform: Platform, tenant_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sent in chunks (no Content-Length), the body is refused as soon as it passes the limit, not
    read whole first; a declared Content-Length above it is refused before any byte is read."""
    monkeypatch.setattr(edi_api, "MAX_BODY_BYTES", 1000)
    app = create_app(platform)
    headers = partner_headers(app, tenant_id, ["1234567890"])
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(1000):  # 100 kB in all
            sent += 1
            yield b"X" * 100

    async def post(**request: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://olly.test") as client:
            return await client.post("/api/v1/edi", headers=headers, **request)

    streamed = asyncio.run(post(content=chunks()))
    assert (streamed.status_code, streamed.json()["errors"][0]["code"]) == (422, "too_large")
    assert sent <= 12  # 11 chunks pass the 1,000 bytes (the generator may be asked for one more)
    declared = asyncio.run(post(content=b"X" * 1001))
    assert (declared.status_code, declared.json()["errors"][0]["code"]) == (422, "too_large")


@pytest.fixture
def cli_env(platform: Platform, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platform]:
    monkeypatch.setenv("OLLY_DATA_DIR", str(platform.settings.data_dir))
    monkeypatch.setenv("OLLY_DATABASE_URL", platform.settings.database_url)
    if platform.settings.master_key is not None:
        monkeypatch.setenv("OLLY_MASTER_KEY", platform.settings.master_key.get_secret_value())
    get_settings.cache_clear()
    yield platform
    get_settings.cache_clear()


def test_cli_partners_ingest_and_files(cli_env: Platform, tenant_id: uuid.UUID, tmp_path: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli,
        [
            "edi",
            "partners",
            "add",
            "CH1",
            "--name",
            "One",
            "--kind",
            "clearinghouse",
            "--id",
            "000000005",
            "--qualifier",
            "30",
        ],
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["edi", "partners", "list"])
    assert listed.exit_code == 0 and "CH1" in listed.output
    out = tmp_path / "acks"
    ingested = runner.invoke(
        cli,
        [
            "edi",
            "ingest",
            str(FIXTURES / "two-claims-single-provider.837i"),
            str(FIXTURES / "x12_complex.txt"),
            "--out",
            str(out),
        ],
    )
    assert ingested.exit_code == 1  # x12_complex's sender is not a partner: rejected
    assert "1 of 2 file(s) rejected" in ingested.output
    assert segments((out / "two-claims-single-provider.837i.999").read_text(), "AK9") == [["AK9", "A", "1", "1", "1"]]
    assert segments((out / "x12_complex.txt.ta1").read_text(), "TA1")[0][4:] == ["R", "006"]
    shown = runner.invoke(cli, ["edi", "files"])
    assert shown.exit_code == 0 and shown.output.count("│ IN ") == 2


def test_the_inbox_moves_each_file_with_its_acknowledgements(platform: Platform, tenant_id: uuid.UUID) -> None:
    register(platform, tenant_id, qualifier="ZZ", identifier="SUBMITTER")
    places = folders(platform.db, tenant_id)
    places["inbox"].mkdir(parents=True)
    (places["inbox"] / "claims.837").write_bytes(professional_claims_text(2).encode())
    (places["inbox"] / "junk.txt").write_bytes(b"not x12")
    (places["inbox"] / "partial.837.part").write_bytes(b"still arriving")
    shutil.copy(FIXTURES / "x12_complex.txt", places["inbox"] / "complex.txt")
    outcomes = process_inbox(platform.db, tenant_id)
    assert sorted((o.name, o.status, o.moved_to.parent.name) for o in outcomes) == [
        ("claims.837", "ACCEPTED", "processed"),
        ("complex.txt", "REJECTED", "failed"),
        ("junk.txt", "REJECTED", "failed"),
    ]
    assert sorted(p.name for p in places["inbox"].iterdir()) == ["partial.837.part"]
    assert sorted(p.name for p in places["processed"].iterdir()) == ["claims.837", "claims.837.277ca", "claims.837.999"]
    assert sorted(p.name for p in places["failed"].iterdir()) == [
        "complex.txt",
        "complex.txt.ta1",
        "junk.txt",
        "junk.txt.ta1",
    ]
    assert judge((places["processed"] / "claims.837.999").read_text()) == []
    assert len(pending(platform, tenant_id)) == 2
    # the same file again is a duplicate interchange (TA1 025); a name already used is not overwritten
    (places["inbox"] / "claims.837").write_bytes(professional_claims_text(2).encode())
    (places["inbox"] / "junk.txt").write_bytes(b"still not x12")
    again = process_inbox(platform.db, tenant_id)
    assert sorted((o.status, o.moved_to.name) for o in again) == [
        ("REJECTED", "claims.837"),
        ("REJECTED", "junk.txt.1"),
    ]
    assert segments((places["failed"] / "claims.837.ta1").read_text(), "TA1")[0][4:] == ["R", "025"]
    assert (places["failed"] / "junk.txt").read_bytes() == b"not x12"
    assert len(pending(platform, tenant_id)) == 2


def test_cli_watch_once_and_remit_without_a_source(cli_env: Platform, tenant_id: uuid.UUID) -> None:
    runner = CliRunner()
    register(cli_env, tenant_id, qualifier="ZZ", identifier="SUBMITTER")
    inbox = folders(cli_env.db, tenant_id)["inbox"]
    inbox.mkdir(parents=True)
    (inbox / "claims.837").write_bytes(professional_claims_text(1).encode())
    watched = runner.invoke(cli, ["edi", "watch", "--once"])
    assert watched.exit_code == 0, watched.output
    assert "claims.837: ACCEPTED" in watched.output
    assert (folders(cli_env.db, tenant_id)["processed"] / "claims.837.277ca").exists()
    remitted = runner.invoke(cli, ["edi", "remit", "RUN-1"])
    assert remitted.exit_code == 1 and "no such payment run" in remitted.output
