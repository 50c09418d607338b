"""The ``olly`` command."""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

import olly
from olly.kernel.errors import OllyError
from olly.provider import cli as provider_cli

app = typer.Typer(help="Olly: self-hostable health insurance platform.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
keys_app = typer.Typer(help="PHI encryption keys.", no_args_is_help=True)
audit_app = typer.Typer(help="The tamper-evident audit trail.", no_args_is_help=True)
config_app = typer.Typer(help="Effective configuration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")
app.add_typer(provider_cli.app, name="provider")

out = Console()
err = Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    err.print(f"[bold red]error:[/] {message}")
    return typer.Exit(code)


def _platform(create_keys: bool = True):  # type: ignore[no-untyped-def]
    from olly.platform.runtime import build_platform

    try:
        return build_platform(create_keys=create_keys)
    except OllyError as exc:
        raise fail(exc.detail) from None


@app.command()
def version() -> None:
    """Print Olly's version."""
    out.print(olly.__version__)


@config_app.command("show")
def config_show() -> None:
    """Print the effective settings (secrets masked)."""
    from olly.config import get_settings

    table = Table("variable", "value")
    for name, value in get_settings().masked().items():
        table.add_row(name, value)
    out.print(table)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="bind address (default OLLY_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="port (default OLLY_PORT)")] = None,
) -> None:
    """Serve the API (and, as they arrive, the portals and workers) in one process."""
    import uvicorn

    from olly.config import get_settings
    from olly.platform.logging import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    uvicorn.run(
        "olly.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        log_config=None,
        access_log=False,
    )


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Create or migrate the database to the latest schema."""
    from sqlalchemy.exc import SQLAlchemyError

    from olly.platform import migrate

    platform = _platform()
    try:
        before = migrate.current_revision(platform.db)
        migrate.upgrade(platform.db, revision)
        after = migrate.current_revision(platform.db)
        with platform.db.connect() as connection:
            from olly.config import DEFAULT_TENANT_ID

            platform.crypto.ensure_tenant_keys(connection, DEFAULT_TENANT_ID)
    except SQLAlchemyError as exc:
        raise fail(f"database error: {type(exc).__name__}; check OLLY_DATABASE_URL") from None
    finally:
        platform.close()
    out.print(f"database at {after}" + ("" if before != after else " (already current)"))


@db_app.command("current")
def db_current() -> None:
    """Print the database's migration revision and whether it is the latest."""
    from olly.platform import migrate

    platform = _platform(create_keys=False)
    try:
        current, head = migrate.current_revision(platform.db), migrate.head_revision()
    finally:
        platform.close()
    out.print(f"current: {current or '(empty)'}  head: {head}")
    if current != head:
        raise typer.Exit(1)


@keys_app.command("init")
def keys_init() -> None:
    """Create the local master key file (var/keys/master.json, mode 0600) if there is none."""
    from olly.config import get_settings
    from olly.platform.crypto import LocalKeyProvider

    settings = get_settings()
    path = settings.keys_dir / "master.json"
    if settings.master_key is not None:
        out.print("OLLY_MASTER_KEY is set: no key file is needed")
        return
    if path.exists():
        out.print(f"key file exists: {path}")
        return
    try:
        provider = LocalKeyProvider.create_file(path)
    except OllyError as exc:
        raise fail(exc.detail) from None
    out.print(f"created {path} (master key {provider.active_key_id()})")


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Rotate the master key: re-wrap every data key under a new master key (data untouched)."""
    from olly.platform.crypto import rotate_master_key

    platform = _platform(create_keys=False)
    try:
        if platform.keys.path is not None:
            platform.keys.add_new_active_key()
        moved = rotate_master_key(platform.db, platform.keys, platform.crypto)
    except OllyError as exc:
        raise fail(exc.detail) from None
    finally:
        platform.close()
    out.print(f"master key {platform.keys.active_key_id()} active; {moved} data key(s) re-wrapped")


@keys_app.command("rotate-data")
def keys_rotate_data(
    batch_size: Annotated[int, typer.Option(min=1, help="rows re-encrypted per committed batch")] = 500,
    resume: Annotated[bool, typer.Option(help="continue an interrupted rotation without a new data key")] = False,
) -> None:
    """Rotate data keys: new active key per tenant, then re-encrypt every PHI value in batches."""
    from olly.platform.crypto import reencrypt, start_data_key_rotation

    platform = _platform(create_keys=False)
    try:
        if not resume:
            started = start_data_key_rotation(platform.db, platform.crypto)
            out.print(f"new data key for {started} tenant(s)")
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} rows"),
            TimeElapsedColumn(),
            console=err,
        ) as progress:
            task = progress.add_task("re-encrypting", total=None)
            done = reencrypt(
                platform.db,
                platform.crypto,
                batch_size=batch_size,
                on_batch=lambda _table, n: progress.advance(task, n),
            )
    except OllyError as exc:
        raise fail(exc.detail) from None
    finally:
        platform.close()
    out.print(f"{done} row(s) re-encrypted")


@audit_app.command("verify")
def audit_verify() -> None:
    """Walk every hash chain of the audit trail and report the first broken link of each."""
    from olly.platform.audit import verify

    platform = _platform(create_keys=False)
    try:
        report = verify(platform.db)
    finally:
        platform.close()
    if report.ok:
        out.print(f"audit trail intact: {report.records} record(s) in {report.chains} chain(s)")
        return
    for link in report.broken:
        err.print(
            f"[bold red]broken[/] chain {link.chain} at seq {link.seq}: {link.kind} "
            f"({link.explanation}){' record ' + link.record_id if link.record_id else ''}"
        )
    raise typer.Exit(1)


def main() -> None:
    try:
        app()
    except OllyError as exc:
        err.print(f"[bold red]error:[/] {exc.detail}")
        sys.exit(1)


if __name__ == "__main__":
    main()
