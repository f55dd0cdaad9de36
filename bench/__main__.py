"""``python -m bench`` (what ``make bench`` runs): baselines and corps figures, same run, same broker.

This is an entrypoint, so it reads the environment: with ``KAFKA_BOOTSTRAP_SERVERS`` and
``SCHEMA_REGISTRY_URL`` set it measures that cluster; otherwise it starts a local stack of its own (the
provisioner behind ``corps dev up``, home ``.corps/bench-stack``, free ports, a fresh cluster every run)
and stops and wipes it at the end. A ``corps dev up`` stack and the test stack are left alone.
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
from bench.facts import load_average, machine_facts, version_facts
from bench.registry import MODULES, select
from bench.runner import TABLE_LEGEND, build_report, render_table, run_modules, write_report
from corps.dev import LocalStack, StackConfig, StackInfo, default_cache_dir
from corps.errors import CorpsError
from corps.settings import CorpsSettings

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = REPO / "bench" / "results" / "latest.json"
BENCH_HOME = REPO / ".corps" / "bench-stack"


@contextlib.contextmanager
def _stack(
    settings: CorpsSettings, console: Console
) -> Iterator[tuple[StackInfo, dict[str, str], list[int]]]:
    """Yield the stack to measure, the base client config and the local stack's pids; stop it after."""
    if settings.kafka is not None and settings.registry is not None:
        info = StackInfo(
            bootstrap_servers=settings.kafka.bootstrap_servers,
            schema_registry_url=settings.registry.url,
            external=True,
        )
        yield info, settings.kafka.client_config(), []
        return
    if settings.kafka is not None or settings.registry is not None:
        raise click.UsageError("set both KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL, or neither")
    with console.status("starting the local stack (Kafka + schema registry)") as status:

        def progress(description: str, done: int, total: int) -> None:
            status.update(f"local stack: {description} ({done}/{total})")

        config = StackConfig(
            home=BENCH_HOME,
            cache_dir=default_cache_dir(os.environ),
            kafka_port=None,
            controller_port=None,
            registry_port=None,
            search_path=os.environ.get("PATH"),
        )
        stack = LocalStack(config, progress=progress)
        stack.down(purge=True)  # a stack left over by an interrupted run: start from a clean cluster
        info = stack.up()
    console.print(f"local stack: kafka {info.bootstrap_servers}, registry {info.schema_registry_url}")
    stack_status = stack.status()
    pids = [pid for pid in (stack_status.kafka.pid, stack_status.registry.pid) if pid is not None]
    try:
        yield info, {"bootstrap.servers": info.bootstrap_servers}, pids
    finally:
        with console.status("stopping the local stack"):
            stack.down(purge=True)


def _named(product: str, version: str | None, suffix: str) -> str | None:
    return f"{product} {version} {suffix}".strip() if version else None


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
    console = Console(width=None if sys.stdout.isatty() else 180)
    wanted = [part.strip() for part in only.split(",") if part.strip()] if only else None
    try:
        modules = select(wanted, MODULES)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--only") from exc
    settings = CorpsSettings.from_env(os.environ)
    started_at = datetime.now(UTC)
    load_at_start = load_average()
    started = time.perf_counter()
    try:
        with _stack(settings, console) as (info, client_config, stack_pids):
            ctx = BenchContext(
                client_config=client_config,
                registry_url=info.schema_registry_url,
                scale=SCALES[scale],
                partitions=partitions,
            )
            try:
                entries, errors, busy = run_modules(ctx, modules, console, stack_pids)
            finally:
                ctx.close()
            local = not info.external
            versions = version_facts(
                kafka_version=_named(
                    "Apache Kafka", info.kafka_version, "(local KRaft node)" if local else ""
                ),
                registry_version=_named("Apicurio Registry", info.registry_version, ""),
                registry_url=info.schema_registry_url,
            )
    except CorpsError as exc:
        console.print(f"[red]bench: {exc}[/red]")
        sys.exit(2)
    report = build_report(
        entries,
        errors,
        versions=versions,
        machine=machine_facts(load_at_start),
        started_at=started_at,
        duration_s=time.perf_counter() - started,
        scale=scale,
        contention=busy,
    )
    write_report(report, output)
    console.print(render_table(report))
    console.print(", ".join(f"{k} {v}" for k, v in report.versions.items()))
    machine = report.machine
    console.print(
        f"{machine['cores']} cores, {machine['memory_gib']} GiB, {machine['cpu_model']}; load average "
        f"{machine['load_avg_at_start']} at start, {machine['load_avg_at_end']} at end"
    )
    console.print(TABLE_LEGEND)
    console.print(f"wrote {output}")
    if errors:
        for name, message in errors.items():
            console.print(f"[red]{name}: {message}[/red]")
        sys.exit(1)


if __name__ == "__main__":
    main()
