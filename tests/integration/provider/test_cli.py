"""``olly provider …`` commands against a real database (exit codes and what the operator sees)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from olly.cli import app
from olly.kernel.clock import FixedClock
from olly.platform.runtime import Platform
from olly.provider import cli as provider_cli
from olly.provider import service
from tests.integration.provider import factories

runner = CliRunner()


@pytest.fixture
def olly(platform: Platform, outbox, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(provider_cli, "build_platform", lambda: platform)

    def invoke(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["provider", *args], env={"COLUMNS": "250"})
        return result.exit_code, result.output

    return invoke


def test_import_search_and_show(olly, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    npi_ok, npi_org = factories.next_npi(), factories.next_npi()
    csv_file = tmp_path / "providers.csv"
    csv_file.write_text(
        "npi,kind,first_name,last_name,organisation_name,taxonomy_codes,languages,accepting_new_patients,"
        "address_line1,city,state,zip\n"
        f"{npi_org},INDIVIDUAL,Sam,Hill,,282N00000X,,Y,1 Pine St,Seattle,WA,98101\n"
        f"{npi_ok},INDIVIDUAL,Ines,Duarte,,207RC0000X,pt;en,Y,2 Pine St,Seattle,WA,98104\n",
        encoding="utf-8",
    )
    code, output = olly("import", str(csv_file))
    # the first row gives a person a hospital's taxonomy: refused, the other row is kept
    assert code == 1
    assert "2 row(s): 1 imported, 0 already registered, 1 failed" in output
    assert "wrong_section" in output
    code, output = olly("search", "cardio", "--zip", "98101", "--radius", "5", "--language", "pt")
    assert code == 0
    assert "Ines Duarte" in output
    assert "98104" in output
    assert "1 match(es)" in output
    code, output = olly("show", npi_ok)
    assert code == 0
    assert "credentialing: NOT_CREDENTIALED" in output
    code, output = olly("show", "1234567893")
    assert code == 1
    assert "no provider has this NPI" in output
    code, output = olly("import", str(tmp_path / "missing.csv"))
    assert code == 1
    assert "cannot read" in output


def test_credentialing_commands_and_timers(olly, work, clock: FixedClock, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        provider = service.register_provider(uow, factories.individual(licence_expires_on=date(2030, 12, 31)))
        npi = provider.npi
    code, output = olly("credentialing", "open", npi)
    assert code == 0
    assert "INITIAL request" in output
    request_id = output.split("request ")[1].split()[0]
    for kind in ("APPLICATION_FORM", "ATTESTATION"):
        document = tmp_path / f"{kind.lower()}.pdf"
        document.write_bytes(b"%PDF-1.7 " + kind.encode())
        code, output = olly("credentialing", "document", request_id, "--kind", kind, "--file", str(document))
        assert code == 0
        assert f"stored, application/pdf ({9 + len(kind)} bytes, sha256 " in output
    # The file's bytes are kept, and read back exactly.
    with work() as uow:
        stored = service.request_details(uow, uuid.UUID(request_id)).documents
        assert [(d.kind, d.file_name, d.object_key is not None) for d in stored] == [
            ("APPLICATION_FORM", "application_form.pdf", True),
            ("ATTESTATION", "attestation.pdf", True),
        ]
        assert service.document_file(uow, uuid.UUID(request_id), stored[1].id).content == b"%PDF-1.7 ATTESTATION"
    # A file that is not a PDF, JPEG or PNG is refused; kept elsewhere, it is recorded by its metadata.
    letter = tmp_path / "reference.docx"
    letter.write_bytes(b"PK\x03\x04 reference letter")
    code, output = olly("credentialing", "document", request_id, "--kind", "OTHER", "--file", str(letter))
    assert code == 1
    assert "unsupported_type" in output
    code, output = olly(
        "credentialing", "document", request_id, "--kind", "OTHER", "--file", str(letter), "--metadata-only"
    )
    assert code == 0
    assert "recorded, file kept elsewhere (21 bytes, sha256 " in output
    assert olly("credentialing", "submit", request_id)[1].strip().endswith("VERIFICATION")
    for item in ("LICENCE", "DEA", "BOARD_CERTIFICATION", "EDUCATION", "MALPRACTICE_HISTORY", "EXCLUSION_CHECK"):
        code, output = olly(
            "credentialing", "verify", request_id, item, "--status", "VERIFIED", "--by", "v", "--evidence", "ok"
        )
        assert code == 0
    assert "request now COMMITTEE_REVIEW" in output
    code, output = olly("credentialing", "decide", request_id, "APPROVE", "--by", "committee")
    assert code == 0
    assert "APPROVED; recredentialing due 2029-01-15" in output
    code, output = olly(
        "credentialing", "verify", request_id, "DEA", "--status", "VERIFIED", "--by", "v", "--evidence", "x"
    )
    assert code == 1
    assert "VERIFICATION" in output

    clock.set(datetime(2028, 9, 17, 0, 0, tzinfo=UTC))  # 120 days before 2029-01-15
    code, output = olly("timers", "run")
    assert code == 0
    assert (
        "1 timer(s) fired: 0 status change(s), 1 reminder(s), 1 recredentialing request(s) opened, 0 failed" in output
    )
    code, output = olly("credentialing", "timeline", npi)
    assert code == 0
    assert "reminder: recredentialing due 2029-01-15 (120 days)" in output.replace("\n", " ")


def test_fee_schedule_and_contract_commands(olly, work, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with work() as uow:
        npi = service.register_provider(uow, factories.individual()).npi
    bad = tmp_path / "bad.csv"
    bad.write_text("code,per_diem\n0120,1850.00\nABC,1.0\n", encoding="utf-8")
    code, output = olly("fee-schedule", "load", str(bad), "--code", "DIEM", "--name", "Inpatient", "--kind", "PER_DIEM")
    assert code == 1
    assert "rows.3.code" in output
    assert "nothing was loaded" in output
    good = tmp_path / "good.csv"
    good.write_text("code,per_diem\n0120,1850.00\n*,1500.00\n", encoding="utf-8")
    code, output = olly(
        "fee-schedule", "load", str(good), "--code", "DIEM", "--name", "Inpatient", "--kind", "PER_DIEM"
    )
    assert code == 0
    assert "fee schedule DIEM loaded: 2 rate(s)" in output
    code, output = olly(
        "contract", "add", npi, "--number", "K-77", "--network", "PPO", "--tier", "TIER_1",
        "--effective-from", "2026-01-01", "--fee-schedule", "DIEM",
    )  # fmt: skip
    assert code == 0
    assert "contract K-77 (PPO/TIER_1)" in output
    code, output = olly(
        "contract", "add", npi, "--number", "K-78", "--network", "PPO", "--tier", "T", "--effective-from", "x"
    )
    assert code == 1
    assert "--effective-from must be a date" in output
    code, output = olly("taxonomy", "pediatric cardiology")
    assert code == 0
    assert "2080P0202X" in output
