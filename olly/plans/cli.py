"""``olly plans …``: load, check, list, show and quote plans from the command line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from olly.kernel.errors import OllyError, ValidationFailed

if TYPE_CHECKING:
    from olly.plans.document import DocumentFormat

app = typer.Typer(help="Plans: versioned benefit schedules and premium rate tables.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

OnOption = Annotated[str | None, typer.Option("--on", help="date asked about, YYYY-MM-DD (default: today)")]


def _fail(exc: OllyError) -> typer.Exit:
    if isinstance(exc, ValidationFailed) and exc.errors:
        err.print(f"[bold red]error:[/] {len(exc.errors)} problem(s)")
        for error in exc.errors:
            err.print(f"  {error.field}: {error.message}", markup=False, highlight=False)
    else:
        err.print(f"[bold red]error:[/] {exc.detail}", highlight=False)
    return typer.Exit(1)


def _date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[bold red]error:[/] {option} must be a date (YYYY-MM-DD)")
        raise typer.Exit(2) from None


@contextmanager
def _platform() -> Iterator[Any]:
    from sqlalchemy.exc import SQLAlchemyError

    from olly.platform.runtime import build_platform

    try:
        platform = build_platform()
    except OllyError as exc:
        raise _fail(exc) from None
    try:
        yield platform
    except OllyError as exc:
        raise _fail(exc) from None
    except SQLAlchemyError as exc:
        err.print(f"[bold red]error:[/] database error ({type(exc).__name__}); has `olly db upgrade` run?")
        raise typer.Exit(1) from None
    finally:
        platform.close()


def _read(path: Path) -> tuple[bytes, DocumentFormat]:
    from olly.plans import document

    try:
        return path.read_bytes(), document.guess_format(path.name)
    except OSError as exc:
        err.print(f"[bold red]error:[/] cannot read {path}: {exc.strerror}")
        raise typer.Exit(1) from None


def _print_outcomes(outcomes: list[Any]) -> None:
    table = Table("plan", "version", "effective from", "status")
    for outcome in outcomes:
        table.add_row(outcome.code, str(outcome.version), outcome.effective_from.isoformat(), outcome.status)
    out.print(table)


@app.command("load")
def load(
    files: Annotated[list[Path], typer.Argument(help="plan documents (.yaml, .yml or .json)")],
) -> None:
    """Load plan documents: all of them, or nothing if any is invalid."""
    from olly.plans import service

    with _platform() as platform:
        limits = service.limits_from_settings(platform.settings)
        outcomes = []
        with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
            for path in files:
                raw, fmt = _read(path)
                try:
                    outcomes.extend(service.load_text(uow, raw, fmt, limits, source=path.name))
                except ValidationFailed as exc:
                    err.print(f"[bold red]{path}[/]")
                    raise _fail(exc) from None
    _print_outcomes(outcomes)


@app.command("check")
def check(files: Annotated[list[Path], typer.Argument(help="plan documents to validate")]) -> None:
    """Validate plan documents without storing them (no database needed)."""
    from olly.config import get_settings
    from olly.plans import service

    limits = service.limits_from_settings(get_settings())
    failed = False
    for path in files:
        raw, fmt = _read(path)
        try:
            plans = service.check_text(raw, fmt, limits)
        except ValidationFailed as exc:
            failed = True
            err.print(f"[bold red]{path}[/]")
            _fail(exc)
            continue
        for plan in plans:
            out.print(f"{path}: {plan.code} version {plan.version} is valid")
    if failed:
        raise typer.Exit(1)


@app.command("load-demo")
def load_demo() -> None:
    """Load the demo plans shipped with Olly (idempotent)."""
    from olly.plans import service

    with _platform() as platform:
        limits = service.limits_from_settings(platform.settings)
        with platform.db.unit_of_work(platform.settings.default_tenant_id) as uow:
            outcomes = service.load_demo_plans(uow, limits)
    _print_outcomes(outcomes)


@app.command("list")
def list_plans(on: OnOption = None) -> None:
    """Every plan with the version in force on a date."""
    from olly.plans import service

    with _platform() as platform:
        day = _date(on, "--on") or platform.clock.today()
        with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
            listings = service.list_plans(uow, day)
    table = Table("plan", "latest", f"in force {day.isoformat()}", "name", "type", "market", "currency")
    for listing in listings:
        stored = listing.in_force
        if stored is None:
            table.add_row(listing.code, str(listing.latest_version), "-", "", "", "", "")
            continue
        plan = stored.plan
        table.add_row(
            plan.code,
            str(listing.latest_version),
            f"v{plan.version} from {plan.effective_from.isoformat()}",
            plan.name,
            plan.plan_type.value,
            plan.market.value,
            plan.currency,
        )
    out.print(table)


@app.command("show")
def show(
    code: Annotated[str, typer.Argument(help="plan code")],
    on: OnOption = None,
    version: Annotated[int | None, typer.Option(help="a version number instead of the one in force")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the canonical document as JSON")] = False,
) -> None:
    """A plan version: the one in force on a date, or a given version."""
    from olly.plans import service

    with _platform() as platform:
        day = _date(on, "--on") or platform.clock.today()
        with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
            stored = service.get_version(uow, code, version) if version else service.version_in_force(uow, code, day)
    if as_json:
        out.print_json(json.dumps(dict(stored.document)))
        return
    plan = stored.plan
    out.print(f"[bold]{plan.code}[/] version {plan.version}: {plan.name}")
    out.print(
        f"{plan.plan_type.value}, {plan.market.value}, {plan.currency}, effective {plan.effective_from.isoformat()}"
        + (f" to {plan.effective_to.isoformat()}" if plan.effective_to else "")
    )
    schedule = plan.schedule
    for label, terms in (("deductible", schedule.deductible), ("out-of-pocket max", schedule.out_of_pocket_max)):
        if terms is None:
            continue
        oon = terms.out_of_network
        out.print(
            f"{label}: in network {terms.in_network.individual.to_decimal_string()} / "
            f"{terms.in_network.family.to_decimal_string()} ({terms.family_design.value})"
            + (
                f", out of network {oon.individual.to_decimal_string()} / {oon.family.to_decimal_string()}"
                if oon
                else ""
            )
        )
    if schedule.sum_insured is not None:
        terms_si = schedule.sum_insured
        out.print(f"sum insured {terms_si.amount.to_decimal_string()} ({terms_si.basis.value})")
    table = Table("benefit", "in network", "out of network", "limits")
    for category, benefit in schedule.benefits.items():
        table.add_row(
            category.value,
            _share_text(benefit.cost_share(_network("in_network"))),
            _share_text(benefit.cost_share(_network("out_of_network"))),
            ", ".join(_limit_text(limit) for limit in benefit.limits),
        )
    out.print(table)


def _network(name: str) -> Any:
    from olly.plans.rules import Network

    return Network(name)


def _share_text(share: Any) -> str:
    if share is None:
        return "not covered"
    parts = []
    if share.copay.amount:
        parts.append(f"copay {share.copay.to_decimal_string()} ({share.copay_applies.value})")
    if share.coinsurance_percent:
        parts.append(f"{share.coinsurance_percent}%")
    if share.deductible_applies:
        parts.append("after deductible")
    return ", ".join(parts) or "no charge"


def _limit_text(limit: Any) -> str:
    amount = limit.amount.to_decimal_string() if limit.amount is not None else str(limit.quantity)
    return f"{amount} {limit.kind.value} per {limit.period.value}"


@app.command("quote")
def quote(
    code: Annotated[str, typer.Argument(help="plan code")],
    on: OnOption = None,
    tier: Annotated[str | None, typer.Option(help="EE, EE+SP, EE+CH or EE+FAM")] = None,
    member: Annotated[
        list[str] | None,
        typer.Option(help="relationship:age[:tobacco], e.g. subscriber:40 spouse:38:tobacco child:9 (repeat)"),
    ] = None,
    area: Annotated[str | None, typer.Option(help="rating area (age-rated plans)")] = None,
    contribution_percent: Annotated[str | None, typer.Option(help="employer pays this percentage")] = None,
    contribution_amount: Annotated[str | None, typer.Option(help="employer pays this amount")] = None,
) -> None:
    """Quote a premium for a tier or a household."""
    from olly.plans import rules, service

    members = tuple(_member(spec) for spec in member or [])
    try:
        tier_code = rules.Tier(tier) if tier else None
    except ValueError:
        err.print("[bold red]error:[/] --tier must be EE, EE+SP, EE+CH or EE+FAM")
        raise typer.Exit(2) from None
    percent: Decimal | None = None
    if contribution_percent is not None:
        try:
            percent = Decimal(contribution_percent)
        except InvalidOperation:
            err.print("[bold red]error:[/] --contribution-percent must be a number")
            raise typer.Exit(2) from None
    with _platform() as platform:
        day = _date(on, "--on") or platform.clock.today()
        with platform.db.unit_of_work(platform.settings.default_tenant_id, read_only=True) as uow:
            result = service.quote(
                uow,
                code,
                day,
                rules.QuoteRequest(members=members, tier=tier_code, rating_area=area),
                contribution_percent=percent,
                contribution_amount=contribution_amount,
            )
    out.print(f"[bold]{result.plan_code}[/] v{result.plan_version} {result.tier.value} ({result.period.value})")
    for step in result.steps:
        out.print(f"  {step}", highlight=False)
    out.print(
        f"total {result.total_premium}  employer {result.employer_contribution}  member {result.member_premium}",
        highlight=False,
    )


def _member(spec: str) -> Any:
    from olly.plans import rules

    parts = spec.split(":")
    try:
        relationship = rules.Relationship(parts[0])
        age = int(parts[1])
        tobacco = len(parts) > 2 and parts[2] == "tobacco"
        if len(parts) > 3 or (len(parts) == 3 and not tobacco):
            raise ValueError(spec)
    except (ValueError, IndexError):
        err.print(f"[bold red]error:[/] --member {spec!r} must be relationship:age[:tobacco]")
        raise typer.Exit(2) from None
    return rules.QuotedMember(relationship, age, tobacco)


@app.command("schema")
def schema() -> None:
    """Print the JSON Schema of a plan document."""
    from olly.plans.document import PlanDocument

    out.print_json(json.dumps(PlanDocument.model_json_schema()))
