"""``corps schemas check | register``: the event contracts in ``schemas/``.

``check`` needs nothing but the files; ``register`` talks to the schema registry (``SCHEMA_REGISTRY_URL``
or the local dev stack's registry).
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from corps.cli._stack import StackNotAvailableError, resolve_registry
from corps.events import (
    Incompatibility,
    RegistryError,
    RegistryUnavailableError,
    SchemaCatalog,
    SchemaRegistry,
    check_versions,
    register_subject,
)
from corps.events.compatibility import required_pairs
from corps.events.errors import SchemaCatalogError

__all__ = ["schemas"]

EXIT_INCOMPATIBLE = 1
EXIT_REGISTRY_UNAVAILABLE = 3

_DIR = click.argument(
    "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("schemas"), required=False
)


@click.group("schemas")
def schemas() -> None:
    """Check and register the versioned Avro schemas in schemas/ (the source of truth)."""


def _console() -> Console:
    console = Console()
    # Piped output (CI logs, tests) gets a wide fixed width so subject names are never cut.
    return console if console.is_terminal else Console(width=160, soft_wrap=True)


def _load(directory: Path) -> SchemaCatalog:
    try:
        return SchemaCatalog.load(directory)
    except SchemaCatalogError as exc:
        raise click.ClickException(str(exc)) from exc


def _check(catalog: SchemaCatalog) -> tuple[Table, list[Incompatibility]]:
    table = Table("subject", "versions", "compatibility", "pairs checked", "result")
    found: list[Incompatibility] = []
    for name, subject in catalog.items():
        problems = check_versions(name, subject.compatibility, [v.schema for v in subject.versions])
        found += problems
        pairs = len({(p.reader_version, p.writer_version) for p in problems})
        total = len(required_pairs(subject.compatibility, len(subject.versions)))
        result = "[green]ok[/green]" if not problems else f"[red]{pairs} incompatible pair(s)[/red]"
        table.add_row(name, str(len(subject.versions)), subject.compatibility.value, str(total), result)
    return table, found


@schemas.command("check")
@_DIR
def check(directory: Path) -> None:
    """Check that every subject's versions are compatible under the subject's mode.

    DIRECTORY (default: schemas) holds one directory per event type, named by its Avro fullname, with
    v1.avsc, v2.avsc ... and an optional subject.yaml (compatibility: BACKWARD, BACKWARD_TRANSITIVE,
    FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE or NONE; default BACKWARD). Exits 1 on the first
    malformed file or on any incompatible change, naming subject, versions, field path and reason.
    """
    console = _console()
    catalog = _load(directory)
    table, found = _check(catalog)
    console.print(table)
    if found:
        for problem in found:
            console.print(f"[red]incompatible:[/red] {problem.describe()}", highlight=False, soft_wrap=True)
        raise click.exceptions.Exit(EXIT_INCOMPATIBLE)
    console.print(f"{len(catalog)} subject(s) in {directory}: all compatible")


@schemas.command("register")
@_DIR
@click.option(
    "--subject-format",
    default="{event_type}-value",
    show_default=True,
    help="Registry subject of each event type; {event_type} is replaced. The default is the "
    "TopicNameStrategy subject of the event type's default topic (the event type name).",
)
@click.option("--only", "only", multiple=True, metavar="EVENT_TYPE", help="Register only these (repeatable).")
def register(directory: Path, subject_format: str, only: tuple[str, ...]) -> None:
    """Register every schema version, oldest first, and set each subject's compatibility.

    Idempotent: versions already in the registry are reported as unchanged. The files are checked
    first; nothing is registered when a change is incompatible. Exit codes: 1 refused or incompatible,
    3 registry unreachable.
    """
    console = _console()
    catalog = _load(directory)
    _, found = _check(catalog)
    if found:
        for problem in found:
            console.print(f"[red]incompatible:[/red] {problem.describe()}", highlight=False, soft_wrap=True)
        raise click.exceptions.Exit(EXIT_INCOMPATIBLE)
    names = list(only) or list(catalog)
    for name in names:
        try:
            catalog.subject(name)
        except SchemaCatalogError as exc:
            raise click.BadParameter(str(exc), param_hint="--only") from exc
    table = Table("subject", "version", "registry version", "schema id", "compatibility", "")
    try:
        registry_settings = resolve_registry()
    except StackNotAvailableError as exc:
        click.echo(f"error: {exc.message}", err=True)
        raise click.exceptions.Exit(EXIT_REGISTRY_UNAVAILABLE) from exc
    with SchemaRegistry(registry_settings) as registry:
        try:
            for name in names:
                subject = catalog[name]
                subject_name = subject_format.format(event_type=name)
                for entry in register_subject(registry, subject_name, subject):
                    table.add_row(
                        entry.subject,
                        f"v{entry.version}",
                        str(entry.registry_version),
                        str(entry.schema_id),
                        subject.compatibility.value if entry.version == 1 else "",
                        "[green]registered[/green]" if entry.created else "unchanged",
                    )
        except RegistryUnavailableError as exc:
            console.print(table)
            console.print(f"[red]{exc}[/red]", highlight=False)
            raise click.exceptions.Exit(EXIT_REGISTRY_UNAVAILABLE) from exc
        except RegistryError as exc:
            console.print(table)
            console.print(f"[red]refused: {exc}[/red]", highlight=False)
            raise click.exceptions.Exit(EXIT_INCOMPATIBLE) from exc
    console.print(table)
