"""Credentialing documents with their bytes: upload (type from the bytes, size and SHA-256 computed
by Olly, the file sealed in the object store), download, refusals, and who may do either."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from olly.app import create_app
from olly.platform.auth.roles import Role
from olly.platform.runtime import Platform
from olly.provider import rules as r
from tests.integration.provider.test_api import provider_body
from tests.support.identity import audit_rows, sign_in_as

OWN_NPI, OTHER_NPI = "1234567893", "1245319508"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nDr Jane Smith attests to the truth of this application\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00licence copy NY-1\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR board certificate"
METADATA_ONLY = {
    "kind": "DIPLOMA",
    "fileName": "diploma.pdf",
    "contentType": "application/pdf",
    "sizeBytes": 4096,
    "sha256": "cd" * 32,
}


@pytest.fixture
def app(platform: Platform, outbox) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(create_app(platform)) as client:
        yield client


def _detail(row: dict[str, Any]) -> dict[str, Any]:
    detail = row["detail"]
    return json.loads(detail) if isinstance(detail, str) else dict(detail)


def _objects(platform: Platform) -> list[Path]:
    root = platform.settings.data_dir / "objects"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _open_request(client: TestClient, staff: dict[str, str], npi: str, **changes: object) -> str:
    created = client.post("/providers", json=provider_body(npi, **changes), headers=staff)
    assert created.status_code == 201, created.text
    request = client.post(f"/providers/{created.json()['id']}/credentialing-requests", headers=staff)
    assert request.status_code == 201, request.text
    return str(request.json()["id"])


def _upload(
    client: TestClient,
    request_id: str,
    headers: dict[str, str],
    content: bytes,
    *,
    kind: str = "ATTESTATION",
    name: str = "attestation.pdf",
    claimed_type: str = "application/pdf",
):  # type: ignore[no-untyped-def]
    return client.post(
        f"/credentialing-requests/{request_id}/documents/files",
        data={"kind": kind},
        files={"file": (name, content, claimed_type)},
        headers=headers,
    )


def test_the_provider_uploads_and_reads_back_its_documents(
    app: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    staff = sign_in_as(app.app, tenant_id, Role.CREDENTIALING).headers  # type: ignore[arg-type]
    request_id = _open_request(app, staff, OWN_NPI)
    me = sign_in_as(app.app, tenant_id, Role.PROVIDER, npi=OWN_NPI).headers  # type: ignore[arg-type]

    uploaded = _upload(app, request_id, me, PDF)
    assert uploaded.status_code == 201, uploaded.text
    document = uploaded.json()
    assert {k: v for k, v in document.items() if k not in ("id", "receivedAt")} == {
        "kind": "ATTESTATION",
        "fileName": "attestation.pdf",
        "contentType": "application/pdf",
        "sizeBytes": 106,
        "sha256": "e859f7144deae5a3e47a2cee30e9ebe6d86d9ff3e0c9875777105fe268672324",
        "hasFile": True,
    }
    assert (len(PDF), hashlib.sha256(PDF).hexdigest(), document["receivedAt"]) == (
        106,
        document["sha256"],
        "2026-01-15T09:00:00Z",
    )

    # The type comes from the bytes, never from the name or the type the client claims; a path sent
    # as the name keeps its last component.
    jpeg = _upload(
        app, request_id, me, JPEG, kind="LICENCE_COPY", name="C:\\fakepath\\licence copy.txt", claimed_type="text/plain"
    )
    assert (jpeg.status_code, jpeg.json()["contentType"], jpeg.json()["fileName"]) == (
        201,
        "image/jpeg",
        "licence copy.txt",
    )
    png = _upload(app, request_id, staff, PNG, kind="BOARD_CERTIFICATE", name="Zertifikat für Ärztin.png")
    assert (png.status_code, png.json()["contentType"], png.json()["sizeBytes"]) == (201, "image/png", len(PNG))
    recorded = app.post(f"/credentialing-requests/{request_id}/documents", json=METADATA_ONLY, headers=me)
    assert recorded.status_code == 201, recorded.text
    assert recorded.json()["hasFile"] is False

    # The request shows which documents have a file.
    details = app.get(f"/credentialing-requests/{request_id}", headers=me).json()
    assert [(d["kind"], d["hasFile"]) for d in details["documents"]] == [
        ("ATTESTATION", True),
        ("LICENCE_COPY", True),
        ("BOARD_CERTIFICATE", True),
        ("DIPLOMA", False),
    ]

    # The bytes round-trip, for the provider and for credentialing staff.
    for headers in (me, staff):
        content = app.get(f"/credentialing-requests/{request_id}/documents/{document['id']}/content", headers=headers)
        assert content.status_code == 200, content.text
        assert content.content == PDF
        assert (
            content.headers["content-type"],
            content.headers["content-disposition"],
            content.headers["cache-control"],
        ) == (
            "application/pdf",
            "attachment; filename=\"attestation.pdf\"; filename*=UTF-8''attestation.pdf",
            "no-store",
        )
    image = app.get(f"/credentialing-requests/{request_id}/documents/{png.json()['id']}/content", headers=me)
    assert (image.content, image.headers["content-type"], image.headers["content-disposition"]) == (
        PNG,
        "image/png",
        "attachment; filename=\"Zertifikat f_r _rztin.png\"; filename*=UTF-8''Zertifikat%20f%C3%BCr%20%C3%84rztin.png",
    )

    # Sealed on disk: three objects under the tenant, none holding the file in plaintext.
    stored = _objects(platform)
    assert len(stored) == 3
    assert {p.relative_to(platform.settings.data_dir / "objects").parts[:2] for p in stored} == {
        (str(tenant_id), "credentialing_document")
    }
    for path in stored:
        sealed = path.read_bytes()
        assert b"attests to the truth" not in sealed
        assert b"licence copy NY-1" not in sealed
        assert b"board certificate" not in sealed
        assert not sealed.startswith((b"%PDF", b"\xff\xd8\xff", b"\x89PNG"))

    # A document recorded by its metadata has no file: 404 saying so.
    missing = app.get(f"/credentialing-requests/{request_id}/documents/{recorded.json()['id']}/content", headers=me)
    assert (missing.status_code, missing.json()["code"], missing.json()["reason"]) == (
        404,
        "not_found",
        "no_file_stored",
    )
    assert missing.headers["content-type"] == "application/problem+json"

    # Each read of a file is audited like every credentialing read: the request, the route, allowed.
    reads = [
        row
        for row in audit_rows(platform, action="credentialing.read", resource_id=request_id)
        if _detail(row).get("route") == "/credentialing-requests/{request_id}/documents/{document_id}/content"
    ]
    assert [(row["outcome"], _detail(row)["method"]) for row in reads] == [("allowed", "GET")] * 4


def test_refused_uploads_store_nothing(app: TestClient, platform: Platform, tenant_id: uuid.UUID) -> None:
    staff = sign_in_as(app.app, tenant_id, Role.CREDENTIALING).headers  # type: ignore[arg-type]
    request_id = _open_request(app, staff, OWN_NPI)
    me = sign_in_as(app.app, tenant_id, Role.PROVIDER, npi=OWN_NPI).headers  # type: ignore[arg-type]

    cases = [
        (b"", "empty", "is empty"),
        (b"GIF89a\x01\x00\x01\x00", "unsupported_type", "is not a PDF, JPEG or PNG file"),
        (b"<html>%PDF-1.7</html>", "unsupported_type", "is not a PDF, JPEG or PNG file"),
        (b"%PDF-1.7\n" + b"0" * r.MAX_DOCUMENT_BYTES, "too_large", "is larger than 20971520 bytes"),
    ]
    for content, code, message in cases:
        refused = _upload(app, request_id, me, content)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
        assert (refused.json()["code"], refused.json()["errors"]) == (
            "validation_failed",
            [{"field": "file", "message": message, "code": code}],
        )
    # Exactly at the limit is accepted.
    at_limit = b"%PDF-1.7\n" + b"0" * (r.MAX_DOCUMENT_BYTES - 9)
    accepted = _upload(app, request_id, me, at_limit)
    assert (accepted.status_code, accepted.json()["sizeBytes"]) == (201, r.MAX_DOCUMENT_BYTES)
    assert len(_objects(platform)) == 1

    # Without a kind, or with an unknown one: refused before anything is read into storage.
    no_kind = app.post(
        f"/credentialing-requests/{request_id}/documents/files", files={"file": ("a.pdf", PDF)}, headers=me
    )
    bad_kind = _upload(app, request_id, me, PDF, kind="SELFIE")
    assert (no_kind.status_code, bad_kind.status_code) == (422, 422)

    # A closed (withdrawn) application takes no document.
    assert app.post(f"/credentialing-requests/{request_id}/withdrawal", headers=me).status_code == 200
    closed = _upload(app, request_id, me, PDF)
    assert (closed.status_code, closed.json()["code"], closed.json()["reason"], closed.json()["state"]) == (
        422,
        "business_rule_violation",
        "request_closed",
        "WITHDRAWN",
    )
    documents = app.get(f"/credentialing-requests/{request_id}", headers=staff).json()["documents"]
    assert [(d["sizeBytes"], d["hasFile"]) for d in documents] == [(r.MAX_DOCUMENT_BYTES, True)]
    assert len(_objects(platform)) == 1


def test_another_providers_documents_are_out_of_reach(
    app: TestClient, platform: Platform, tenant_id: uuid.UUID
) -> None:
    staff = sign_in_as(app.app, tenant_id, Role.CREDENTIALING).headers  # type: ignore[arg-type]
    own_request = _open_request(app, staff, OWN_NPI)
    other_request = _open_request(app, staff, OTHER_NPI, firstName="Omar", lastName="Other")
    me = sign_in_as(app.app, tenant_id, Role.PROVIDER, npi=OWN_NPI).headers  # type: ignore[arg-type]
    them = sign_in_as(app.app, tenant_id, Role.PROVIDER, npi=OTHER_NPI).headers  # type: ignore[arg-type]
    theirs = _upload(app, other_request, them, PDF).json()["id"]
    mine = _upload(app, own_request, me, PNG, name="mine.png").json()["id"]

    # Another provider's request: 404 like a missing one, for the upload and the download, audited.
    refusals = [
        app.get(f"/credentialing-requests/{other_request}/documents/{theirs}/content", headers=me),
        _upload(app, other_request, me, PDF),
    ]
    assert [(x.status_code, x.json()["code"]) for x in refusals] == [(404, "not_found")] * 2
    assert b"attests to the truth" not in refusals[0].content
    denied = audit_rows(platform, outcome="denied", resource_id=other_request)
    assert sorted(row["action"] for row in denied) == ["credentialing.apply", "credentialing.read"]

    # Its document named under one's own request: 404 too (a document belongs to one request).
    crossed = app.get(f"/credentialing-requests/{own_request}/documents/{theirs}/content", headers=me)
    assert (crossed.status_code, crossed.json()["code"]) == (404, "not_found")
    assert b"attests to the truth" not in crossed.content
    unknown = app.get(f"/credentialing-requests/{own_request}/documents/{uuid.uuid4()}/content", headers=me)
    assert unknown.status_code == 404

    # Roles without credentialing access get 403; staff of other work too.
    billing = sign_in_as(app.app, tenant_id, Role.BILLING).headers  # type: ignore[arg-type]
    assert (
        app.get(f"/credentialing-requests/{own_request}/documents/{mine}/content", headers=billing).status_code == 403
    )
    assert _upload(app, own_request, billing, PDF).status_code == 403

    # Nothing of the refused uploads was kept: one file each.
    assert [
        len(app.get(f"/credentialing-requests/{x}", headers=staff).json()["documents"])
        for x in (own_request, other_request)
    ] == [1, 1]
    assert len(_objects(platform)) == 2
