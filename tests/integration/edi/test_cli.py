from __future__ import annotations

import shutil
from pathlib import Path

from typer.testing import CliRunner

from olly.cli import app
from tests.unit.edi.conftest import FIXTURES
from tests.unit.edi.pyx12_judge import judge

runner = CliRunner()


def test_validate_accepts_a_clean_file_and_writes_its_999(tmp_path: Path) -> None:
    source = tmp_path / "enroll.834"
    shutil.copy(FIXTURES / "enroll-employee-multiple-products.834", source)
    result = runner.invoke(app, ["edi", "validate", str(source)])
    assert result.exit_code == 0, result.output
    assert "group 20213 BE 005010X220A1: accepted (1/1 sets accepted)" in result.output
    ack = (tmp_path / "enroll.834.999").read_text()
    assert "AK9*A*1*1*1~" in ack
    assert judge(ack) == []
    assert not (tmp_path / "enroll.834.ta1").exists()


def test_validate_fails_on_a_rejected_file_and_names_positions_not_values(tmp_path: Path) -> None:
    out = tmp_path / "acks"
    result = runner.invoke(app, ["edi", "validate", str(FIXTURES / "x12_complex.txt"), "--out", str(out)])
    assert result.exit_code == 1
    assert "HI at position 26 (segment 28, byte 882) loop 2300" in result.output
    assert "5 set_count_mismatch" in result.output
    assert "8901" not in result.output  # the malformed diagnosis value is not echoed
    assert "AK9*R*1*2*0*5~" in (out / "x12_complex.txt.999").read_text()
    assert "TA1*000000905*030101*1253*A*000~" in (out / "x12_complex.txt.ta1").read_text()


def test_validate_answers_an_unreadable_file_with_a_ta1(tmp_path: Path) -> None:
    junk = tmp_path / "junk.txt"
    junk.write_text("this is not an X12 interchange\n" * 10)
    result = runner.invoke(app, ["edi", "validate", str(junk), "--no-acks"])
    assert result.exit_code == 1
    assert "unreadable" in result.output
    result = runner.invoke(app, ["edi", "validate", str(junk)])
    assert "*R*022~" in (tmp_path / "junk.txt.ta1").read_text()
