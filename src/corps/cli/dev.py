"""``corps dev up | down | status | logs``: the local Kafka broker and schema registry.

This is the entrypoint: it reads the environment once (stack home, cache dir, PATH, and whether
``KAFKA_BOOTSTRAP_SERVERS`` / ``SCHEMA_REGISTRY_URL`` name an external cluster) and hands explicit
settings to :mod:`corps.dev`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

from corps.dev import (
    ExternalStatus,
    LocalStack,
    ProvisionError,
    ServiceName,
    StackConfig,
    StackStatus,
    default_cache_dir,
    default_home,
    probe_external,
)
from corps.settings import CorpsSettings

__all__ = ["dev"]

_SERVICES = ("kafka", "registry")


def _external(environ: Mapping[str, str]) -> CorpsSettings | None:
    settings = CorpsSettings.from_env(environ)
    if settings.kafka is None and settings.registry is None:
        return None
    if settings.kafka is None or settings.registry is None:
        missing = "SCHEMA_REGISTRY_URL" if settings.registry is None else "KAFKA_BOOTSTRAP_SERVERS"
        raise click.ClickException(
            f"{missing} is not set, but its partner is: set both KAFKA_BOOTSTRAP_SERVERS and "
            "SCHEMA_REGISTRY_URL to use an existing cluster, or neither to use the local stack"
        )
    return settings


def _stack(
    ctx: click.Context, progress: Any = None, *, secure: bool = False, users: tuple[str, ...] = ()
) -> LocalStack:
    home: Path = ctx.obj["home"]
    config = StackConfig(
        home=home.absolute(),
        cache_dir=default_cache_dir(os.environ).absolute(),
        search_path=os.environ.get("PATH"),
        secure=secure,
        sasl_users=users,
    )
    return LocalStack(config, progress=progress)


@click.group("dev")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="CORPS_DEV_HOME",
    default=None,
    help="Stack home: state, broker data, registry database, logs "
    "[default: $XDG_STATE_HOME/corps/dev or ~/.local/state/corps/dev; env CORPS_DEV_HOME].",
)
@click.pass_context
def dev(ctx: click.Context, home: Path | None) -> None:
    """Local Apache Kafka broker + Apicurio schema registry, from Maven Central (needs Java 17+, Maven).

    Downloads are cached under $XDG_CACHE_HOME/corps (~/.cache/corps); after the first run `up` takes
    seconds. When KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL are set, corps uses that cluster instead.
    """
    ctx.ensure_object(dict)
    ctx.obj["home"] = home if home is not None else default_home(os.environ)


@dev.command()
@click.option(
    "--secure",
    is_flag=True,
    help="Also listen with SASL/PLAIN (StandardAuthorizer, ACLs enforced; admin is a super user). "
    "Takes effect when the broker starts (run `corps dev down` first if it runs).",
)
@click.option("--sasl-user", "users", multiple=True, help="A PLAIN user of the secure listener (repeatable).")
@click.pass_context
def up(ctx: click.Context, secure: bool, users: tuple[str, ...]) -> None:
    """Start the broker and the registry (idempotent: reports a stack that already runs)."""
    settings = _external(os.environ)
    if settings is not None:
        assert settings.kafka is not None  # checked by _external
        assert settings.registry is not None
        click.echo(
            "KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL are set: corps uses the cluster at "
            f"{settings.kafka.bootstrap_servers} and the registry at {settings.registry.url}; "
            "the local stack is not needed (unset both to use it)."
        )
        return
    err = Console(stderr=True)
    started = time.monotonic()
    already = _stack(ctx).status().running
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        with Progress(*columns, console=err, transient=True) as bar:
            task = bar.add_task("corps dev up", total=5)

            def report(description: str, completed: int, total: int) -> None:
                bar.update(task, description=description, completed=completed, total=total)

            info = _stack(ctx, report, secure=secure, users=users).up()
    except ProvisionError as exc:
        raise click.ClickException(str(exc)) from exc
    verb = "already running" if already else f"up in {time.monotonic() - started:.1f}s"
    click.echo(f"corps dev stack {verb} (home {ctx.obj['home']})")
    click.echo(f"  kafka     {info.bootstrap_servers}   (Apache Kafka {info.kafka_version})")
    click.echo(f"  registry  {info.schema_registry_url}   (Apicurio Registry {info.registry_version})")
    if info.secure_bootstrap_servers is not None:
        names = ", ".join(sorted(info.sasl_users))
        click.echo(f"  secure    {info.secure_bootstrap_servers}   (SASL/PLAIN users {names}; passwords in "
                   "`corps dev status --json`)")  # fmt: skip


@dev.command()
@click.option(
    "--purge", is_flag=True, help="Also delete the broker's data, the registry's database and logs."
)
@click.pass_context
def down(ctx: click.Context, purge: bool) -> None:
    """Stop the broker and the registry (SIGTERM, then SIGKILL after 30 s); data is kept unless --purge."""
    try:
        stopped = _stack(ctx).down(purge=purge)
    except ProvisionError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"stopped: {', '.join(stopped)}" if stopped else "nothing was running")
    if purge:
        click.echo(f"purged the stack's data under {ctx.obj['home']}")


@dev.command()
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Show where the stack is and whether it runs; exits 1 when it is not (fully) running.

    With KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL set, reports that external cluster instead.
    """
    settings = _external(os.environ)
    if settings is not None:
        assert settings.kafka is not None  # checked by _external
        assert settings.registry is not None
        payload = _external_payload(probe_external(settings.kafka, settings.registry))
    else:
        try:
            payload = _local_payload(_stack(ctx).status())
        except ProvisionError as exc:
            raise click.ClickException(str(exc)) from exc
    if as_json:
        click.echo(json.dumps(payload, indent=2))
    else:
        _print_status(payload)
    if not payload["running"]:
        raise click.exceptions.Exit(1)


@dev.command()
@click.argument("service", type=click.Choice(_SERVICES), required=False)
@click.option(
    "-n", "--lines", default=40, show_default=True, type=click.IntRange(min=0), help="Lines to show."
)
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines until Ctrl-C.")
@click.pass_context
def logs(ctx: click.Context, service: str | None, lines: int, follow: bool) -> None:
    """Show the last lines of the broker's and/or the registry's log."""
    from corps.dev.process import tail  # the log reader is not part of the public API

    stack = _stack(ctx)
    chosen = [service] if service else list(_SERVICES)
    paths = {name: stack.log_path(cast(ServiceName, name)) for name in chosen}
    for name, path in paths.items():
        if not path.exists():
            raise click.ClickException(f"no {name} log at {path}: has `corps dev up` run with this home?")
        if len(paths) > 1:
            click.echo(f"==> {path} <==")
        for line in tail(path, lines):
            click.echo(line)
    if follow:
        _follow(paths)


def _follow(paths: dict[str, Path]) -> None:
    offsets = {name: path.stat().st_size for name, path in paths.items()}
    prefix = len(paths) > 1
    try:
        while True:
            for name, path in paths.items():
                size = path.stat().st_size if path.exists() else 0
                if size < offsets[name]:  # rotated or truncated
                    offsets[name] = 0
                if size > offsets[name]:
                    with path.open("rb") as fh:
                        fh.seek(offsets[name])
                        chunk = fh.read(size - offsets[name])
                    offsets[name] = size
                    for line in chunk.decode("utf-8", errors="replace").splitlines():
                        click.echo(f"{name}| {line}" if prefix else line)
            time.sleep(0.5)
    except KeyboardInterrupt:
        return


def _local_payload(status: StackStatus) -> dict[str, Any]:
    info = status.info
    return {
        "external": False,
        "running": status.running,
        "home": str(status.home),
        "bootstrap_servers": info.bootstrap_servers if info else None,
        "schema_registry_url": info.schema_registry_url if info else None,
        "kafka_version": info.kafka_version if info else None,
        "registry_version": info.registry_version if info else None,
        "secure_bootstrap_servers": info.secure_bootstrap_servers if info else None,
        "sasl_users": dict(info.sasl_users) if info else {},
        "kafka": status.kafka.model_dump(mode="json"),
        "registry": status.registry.model_dump(mode="json"),
    }


def _external_payload(external: ExternalStatus) -> dict[str, Any]:
    info = external.info
    return {
        "external": True,
        "running": external.running,
        "home": None,
        "bootstrap_servers": info.bootstrap_servers,
        "schema_registry_url": info.schema_registry_url,
        "kafka_version": info.kafka_version,
        "registry_version": info.registry_version,
        "kafka": {"running": external.kafka_reachable, "error": external.kafka_error},
        "registry": {"running": external.registry_reachable, "error": external.registry_error},
    }


def _print_status(payload: dict[str, Any]) -> None:
    console = Console(soft_wrap=True, highlight=False)
    where = "external cluster (from the environment)" if payload["external"] else f"home {payload['home']}"
    console.print(f"corps dev stack: {where}")
    rows = (
        ("kafka", payload["bootstrap_servers"], "Apache Kafka", payload["kafka_version"]),
        ("registry", payload["schema_registry_url"], "Apicurio Registry", payload["registry_version"]),
    )
    for name, address, product, version in rows:
        detail = payload[name]
        word = "running" if detail["running"] else "unreachable" if payload["external"] else "not running"
        state = f"[green]{word:<12}[/green]" if detail["running"] else f"[red]{word:<12}[/red]"
        facts = [
            f"{product} {version}" if version else None,
            f"pid {detail['pid']}" if detail.get("pid") else None,
        ]
        extra = ", ".join(f for f in facts if f)
        console.print(f"  {name:<9} {state} {address or '-'}" + (f"  ({extra})" if extra else ""))
        if detail.get("log"):
            console.print(f"            log: {detail['log']}")
        if detail.get("error"):
            console.print(f"            [red]{detail['error']}[/red]")
    if not payload["running"] and not payload["external"]:
        console.print("start it with `corps dev up`")
