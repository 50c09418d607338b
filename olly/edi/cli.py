"""``olly edi …``: check partner files from the command line.

``olly edi validate FILE…`` validates each file (progress bar on stderr), prints a summary, writes
the acknowledgements Olly would send next to the file (``FILE.ta1``, ``FILE.999``) or into
``--out``, and exits non-zero when any interchange, group or transaction set was rejected. It reads
no database and stores nothing: it is safe on production files. Findings name segments, positions
and codes, never data values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from olly.edi.acks import acknowledge
from olly.edi.codes import Acknowledgment
from olly.edi.validate import ValidationReport, validate
from olly.edi.writer import InMemoryControlNumbers
from olly.kernel.clock import SystemClock

app = typer.Typer(
    help="X12 EDI: validate partner files and see the acknowledgements Olly would send.", no_args_is_help=True
)
out = Console()
err = Console(stderr=True)


def _summary(path: Path, report: ValidationReport) -> list[str]:
    lines: list[str] = []
    if report.unreadable is not None:
        lines.append(f"unreadable: {report.unreadable.detail}")
    for interchange in report.interchanges:
        notes = ", ".join(f"{n.value} {n.name.lower()}" for n in interchange.notes)
        lines.append(
            f"interchange {interchange.control_number} from {interchange.sender}: "
            + ("accepted" if interchange.accepted else f"REJECTED ({notes})")
        )
        for group in interchange.groups:
            errors = ", ".join(f"{e.value} {e.name.lower()}" for e in group.errors)
            lines.append(
                f"  group {group.control_number} {group.functional_id} {group.version}: "
                f"{group.acknowledgment.name.lower()} ({group.accepted_sets}/{len(group.sets)} sets accepted)"
                + (f" — {errors}" if errors else "")
            )
            for report_set in group.sets:
                if report_set.acknowledgment is Acknowledgment.ACCEPTED:
                    continue
                codes = ", ".join(f"{e.value} {e.name.lower()}" for e in report_set.errors)
                lines.append(f"    set {report_set.set_id} {report_set.control_number}: rejected ({codes})")
                for problem in report_set.problems[:10]:
                    detail = "; ".join(
                        f"{p.position}{'.' + str(p.component) if p.component else ''} {p.error.name.lower()}"
                        for p in problem.elements
                    )
                    lines.append(
                        f"      {problem.segment_id} at position {problem.position} (segment {problem.segment_number},"
                        f" byte {problem.offset}) loop {problem.loop_id or 'header'}: {problem.error.name.lower()}"
                        + (f" [{detail}]" if detail else "")
                    )
                hidden = len(report_set.problems) - 10 + report_set.problems_dropped
                if hidden > 0:
                    lines.append(f"      … and {hidden} more")
    return lines


@app.command("validate")
def validate_files(
    files: Annotated[list[Path], typer.Argument(help="X12 files to check", exists=True, dir_okay=False, readable=True)],
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="folder for the TA1/999 files (default: next to each file)")
    ] = None,
    write_acks: Annotated[bool, typer.Option("--acks/--no-acks", help="write the TA1/999 Olly would send")] = True,
) -> None:
    """Validate X12 files: envelopes, counts, control numbers and the 5010 implementation guides."""
    control_numbers = InMemoryControlNumbers()
    now = SystemClock().now()
    table = Table("file", "MB", "segments", "result")
    rejected = 0
    for path in files:
        size = path.stat().st_size
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        ) as progress:
            task = progress.add_task(path.name, total=size)

            def advance(done: int, task: TaskID = task) -> None:
                progress.update(task, completed=done)

            report = validate(path, on_progress=advance)
        ok = report.accepted
        rejected += 0 if ok else 1
        table.add_row(str(path), f"{size / 1e6:.2f}", str(report.segments), "accepted" if ok else "[red]rejected[/]")
        for line in _summary(path, report):
            out.print(line, markup=False, highlight=False)
        if write_acks:
            acks = acknowledge(report, control_numbers=control_numbers, now=now)
            target_dir = out_dir or path.parent
            target_dir.mkdir(parents=True, exist_ok=True)
            for suffix, interchanges in (("ta1", acks.ta1), ("999", acks.implementation)):
                if interchanges:
                    target = target_dir / f"{path.name}.{suffix}"
                    target.write_text("".join(i.text for i in interchanges))
                    out.print(f"wrote {target}", markup=False, highlight=False)
    out.print(table)
    if rejected:
        err.print(f"[bold red]{rejected} of {len(files)} file(s) rejected[/]")
        raise typer.Exit(1)
