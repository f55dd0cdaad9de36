"""``python -m bench`` (what ``make bench`` runs): baselines and corps figures, same run, same broker.

This is an entrypoint, so it reads the environment: with ``KAFKA_BOOTSTRAP_SERVERS`` and
``SCHEMA_REGISTRY_URL`` set it measures that cluster; otherwise it starts the local stack (the same
provisioner as ``corps dev up``) and stops it again at the end if it was not already running.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console

from bench.context import SCALES, BenchContext
from bench.facts import machine_facts, version_facts
from bench.registry import MODULES, select
from bench.runner import build_report, render_table, run_modules, write_report
from corps.dev import LocalStack, StackConfig, StackInfo, default_cache_dir, default_home
from corps.errors import CorpsError
from corps.settings import CorpsSettings

DEFAULT_OUTPUT = Path(__file__).resolve().parent / "results" / "latest.json"


@contextlib.contextmanager
def _stack(settings: CorpsSettings, console: Console) -> Iterator[tuple[StackInfo, dict[str, str]]]:
    """Yield the stack to measure and the base client config; stop a local stack we started."""
    if settings.kafka is not None and settings.registry is not None:
        info = StackInfo(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            schema_registry_url=settings.registry.url,
            external=True,
        )
        yield info, settings.kafka.client_config()
        return
    if settings.kafka is not None or settings.registry is not None:
        raise click.UsageError("set both KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL, or neither")
    stack = LocalStack(StackConfig(home=default_home(os.environ), cache_dir=default_cache_dir(os.environ)))
    was_running = stack.status().running
    with console.status("starting the local stack (Kafka + schema registry)"):
        info = stack.up()
    console.print(
        f"local stack: kafka {info.bootstrap_servers}, registry {info.schema_registry_url}"
        + (" (already running)" if was_running else "")
    )
    try:
        yield info, {"bootstrap.servers": info.bootstrap_servers}
    finally:
        if not was_running:
            with console.status("stopping the local stack"):
                stack.down()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--only", metavar="IDS", help="Comma-separated benchmark ids, e.g. B1,B3 (and what they need).")
@click.option(
    "--scale",
    type=click.Choice(sorted(SCALES)),
    default="full",
    show_default=True,
    help="small: a quick check; full: the figures to report.",
)
@click.option(
    "--partitions",
    type=click.IntRange(1, 64),
    default=3,
    show_default=True,
    help="Partitions of every benchmark topic.",
)
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=DEFAULT_OUTPUT,
    show_default="bench/results/latest.json",
    help="Where to write the JSON report.",
)
def main(only: str | None, scale: str, partitions: int, output: Path) -> None:
    """Measure the raw baselines (B1-B4) and the corps figures (G1...) on one broker, in one run."""
    # a pipe or a CI log gets a table wide enough for one line per entry
    console = Console(width=None if sys.stdout.isatty() else 150)
    wanted = [part.strip() for part in only.split(",") if part.strip()] if only else None
    try:
        modules = select(wanted, MODULES)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--only") from exc
    settings = CorpsSettings.from_env(os.environ)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    try:
        with _stack(settings, console) as (info, client_config):
            ctx = BenchContext(
                client_config=client_config,
                registry_url=info.schema_registry_url,
                scale=SCALES[scale],
                partitions=partitions,
            )
            try:
                entries, errors = run_modules(ctx, modules, console)
            finally:
                ctx.close()
            versions = version_facts(
                kafka_version=info.kafka_version,
                registry_version=info.registry_version,
                registry_url=info.schema_registry_url,
            )
    except CorpsError as exc:
        console.print(f"[red]bench: {exc}[/red]")
        sys.exit(2)
    report = build_report(
        entries,
        errors,
        versions=versions,
        machine=machine_facts(),
        started_at=started_at,
        duration_s=time.perf_counter() - started,
        scale=scale,
    )
    write_report(report, output)
    console.print(render_table(report))
    console.print(", ".join(f"{k} {v}" for k, v in report.versions.items()))
    console.print(f"wrote {output}")
    if errors:
        for name, message in errors.items():
            console.print(f"[red]{name}: {message}[/red]")
        sys.exit(1)


if __name__ == "__main__":
    main()
