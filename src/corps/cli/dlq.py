"""``corps dlq list | show | replay``: inspect dead letters and re-submit them once the cause is fixed.

A dead-letter topic is named by ``--agent NAME`` (``NAME.dlq``, the runtime's default template) or
``--topic TOPIC``. Letters are addressed as ``PARTITION:OFFSET`` within it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from corps.cli._stack import resolve_stack
from corps.errors import CorpsError
from corps.events import RawRecord, SchemaRegistry
from corps.events.codec import EventCodec
from corps.runtime.dead_letters import read_dead_letters, replay_dead_letters
from corps.runtime.dlq import DeadLetter
from corps.runtime.settings import TopicSettings

__all__ = ["dlq"]

_topic_options = [
    click.option("--agent", "agent_name", help="The agent whose dead-letter topic to read (NAME.dlq)."),
    click.option("--topic", help="The dead-letter topic itself."),
]


def _with_topic(fn: click.decorators.FC) -> click.decorators.FC:
    for option in reversed(_topic_options):
        fn = option(fn)
    return fn


def _dlq_topic(agent_name: str | None, topic: str | None) -> str:
    if bool(agent_name) == bool(topic):
        raise click.UsageError("name the dead-letter topic with exactly one of --agent NAME or --topic TOPIC")
    return topic or TopicSettings().dead_letter_template.format(agent=agent_name)


def _address(value: str) -> tuple[int, int]:
    try:
        partition, offset = value.split(":") if ":" in value else ("0", value)
        return int(partition), int(offset)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not PARTITION:OFFSET (e.g. 0:42)") from exc


def _read(topic: str, select: Callable[[DeadLetter], bool] | None = None) -> list[DeadLetter]:
    kafka, _ = resolve_stack()
    try:
        return read_dead_letters(kafka.client_config(), topic, select=select)
    except CorpsError as exc:
        raise click.ClickException(str(exc)) from exc


def _as_dict(x: DeadLetter) -> dict[str, Any]:
    return {
        "at": f"{x.dlq_partition}:{x.dlq_offset}",
        "reason": x.reason,
        "detail": x.detail,
        "agent": x.agent,
        "topic": x.topic,
        "partition": x.partition,
        "offset": x.offset,
        "time_ms": x.time_ms,
        "key": (x.key or b"").decode(errors="replace"),
        "bytes": len(x.value or b""),
    }


def _when(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S") if ms >= 0 else "?"


@click.group("dlq")
def dlq() -> None:
    """Dead letters: records an agent could not decode or handle, kept with the reason and original bytes."""


@dlq.command("list")
@_with_topic
@click.option("--reason", help="Only letters with this reason code (e.g. unknown-schema-id).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per letter instead of a table.")
def list_letters(agent_name: str | None, topic: str | None, reason: str | None, as_json: bool) -> None:
    """List the dead letters of an agent (or topic), oldest first."""
    name = _dlq_topic(agent_name, topic)
    letters = _read(name, select=(lambda x: x.reason == reason) if reason else None)
    if as_json:
        for x in letters:
            click.echo(json.dumps(_as_dict(x)))
        return
    table = Table(title=f"{name}: {len(letters)} dead letter(s)")
    for column in ("at", "when (UTC)", "reason", "from", "key", "bytes", "detail"):
        table.add_column(column, overflow="fold")
    for x in letters:
        d = _as_dict(x)
        origin = f"{x.topic}[{x.partition}]@{x.offset}"
        table.add_row(d["at"], _when(x.time_ms), x.reason, origin, d["key"], str(d["bytes"]), x.detail[:120])
    Console().print(table)


@dlq.command("show")
@_with_topic
@click.argument("at", metavar="PARTITION:OFFSET")
def show(agent_name: str | None, topic: str | None, at: str) -> None:
    """Show one dead letter: reason, origin, headers, and the value decoded when its schema allows."""
    name = _dlq_topic(agent_name, topic)
    partition, offset = _address(at)
    found = _read(name, select=lambda x: (x.dlq_partition, x.dlq_offset) == (partition, offset))
    if not found:
        raise click.ClickException(f"no dead letter at {partition}:{offset} in {name}")
    x = found[0]
    click.echo(f"dead letter {name} {partition}:{offset}")
    click.echo(f"  reason   {x.reason}")
    click.echo(f"  detail   {x.detail}")
    click.echo(f"  agent    {x.agent}   at {_when(x.time_ms)} UTC")
    click.echo(f"  from     {x.topic}[{x.partition}]@{x.offset}")
    click.echo(f"  key      {x.key!r}")
    click.echo("  headers")
    for k, v in x.original_headers:
        click.echo(f"    {k} = {(v or b'').decode(errors='replace')}")
    value = x.value or b""
    click.echo(f"  value    {len(value)} bytes: {value[:48].hex(' ')}{' ...' if len(value) > 48 else ''}")
    click.echo(f"  decoded  {_decode(x)}")


def _decode(x: DeadLetter) -> str:
    """Best effort: decode with the writer schema named in the value (the reason may be exactly why not)."""
    try:
        _, registry = resolve_stack()
        with SchemaRegistry(registry) as reg:
            raw = RawRecord(x.topic, x.partition, x.offset, x.key, x.value, x.original_headers)
            _, datum = EventCodec(reg).decode_datum(raw)
        return json.dumps(datum, default=str)
    except (CorpsError, click.ClickException) as exc:
        return f"(not decodable: {str(exc).splitlines()[0][:200]})"


@dlq.command("replay")
@_with_topic
@click.option(
    "--at", "addresses", multiple=True, metavar="PARTITION:OFFSET", help="A letter to replay (repeatable)."
)
@click.option("--reason", help="Replay every letter with this reason code.")
@click.option("--all", "replay_all", is_flag=True, help="Replay every letter of the topic.")
@click.option("--to", "to_topic", help="Publish to this topic instead of each letter's original topic.")
@click.option("--dry-run", is_flag=True, help="Show what would be replayed; send nothing.")
def replay(
    agent_name: str | None,
    topic: str | None,
    addresses: tuple[str, ...],
    reason: str | None,
    replay_all: bool,
    to_topic: str | None,
    dry_run: bool,
) -> None:
    """Re-publish chosen dead letters, byte for byte, to their original topic (after fixing the cause).

    The letters stay in the dead-letter topic (it is the record of what happened); replaying the same
    letter twice publishes it twice.
    """
    if sum((bool(addresses), bool(reason), replay_all)) != 1:
        raise click.UsageError("choose the letters with exactly one of --at, --reason or --all")
    name = _dlq_topic(agent_name, topic)
    wanted = {_address(a) for a in addresses}

    def select(x: DeadLetter) -> bool:
        if addresses:
            return (x.dlq_partition, x.dlq_offset) in wanted
        return replay_all or x.reason == reason

    letters = _read(name, select=select)
    if addresses and len(letters) != len(wanted):
        missing = wanted - {(x.dlq_partition, x.dlq_offset) for x in letters}
        where = ", ".join(f"{p}:{o}" for p, o in sorted(missing))
        raise click.ClickException(f"no dead letter at {where} in {name}")
    verb = "would replay" if dry_run else "replay"
    for x in letters:
        click.echo(f"{verb} {x.dlq_partition}:{x.dlq_offset} ({x.reason}) -> {to_topic or x.topic}")
    if dry_run or not letters:
        click.echo(f"{len(letters)} letter(s) selected{', nothing sent (dry run)' if dry_run else ''}")
        return
    kafka, _ = resolve_stack()
    with Progress(TextColumn("replaying"), BarColumn(), MofNCompleteColumn(), transient=True) as progress:
        task = progress.add_task("replay", total=len(letters))
        try:
            sent = replay_dead_letters(
                kafka.client_config(), letters, to_topic=to_topic, on_sent=lambda _x: progress.advance(task)
            )
        except CorpsError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"replayed {sent} letter(s)")
