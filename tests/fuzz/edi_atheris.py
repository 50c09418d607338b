"""Coverage-guided fuzzing of the X12 reader with atheris (optional: ``pip install atheris``).

    python -m tests.fuzz.edi_atheris -runs=200000 -max_len=4096 [corpus_dir]

Each input goes through validation, the mappers and the acknowledgement writer; the harness fails
on any exception, on an input taking more than a second, and on a rejection answered by neither a
TA1 nor a 999. The sample files seed the corpus when no directory is given.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from olly.edi.acks import acknowledge
    from olly.edi.inbound import transactions
    from olly.edi.validate import validate
    from olly.edi.writer import InMemoryControlNumbers

from tests.unit.edi.conftest import FIXTURES, NOW


def one_input(data: bytes) -> None:
    started = time.perf_counter()
    report = validate(data)
    list(transactions(data, report, accepted_only=False))
    acks = acknowledge(report, control_numbers=InMemoryControlNumbers(), now=NOW)
    if time.perf_counter() - started > 1.0:
        raise AssertionError(f"{len(data)} bytes took more than a second")
    if not report.accepted and not (acks.ta1 or acks.implementation):
        raise AssertionError("a rejected input got no acknowledgement")


def main() -> None:
    argv = list(sys.argv)
    if not any(not a.startswith("-") for a in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="olly-edi-corpus-"))
        for sample in FIXTURES.glob("*"):
            if sample.suffix != ".md" and sample.stat().st_size < 20_000:
                (corpus / sample.name).write_bytes(sample.read_bytes())
        argv.append(str(corpus))
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
