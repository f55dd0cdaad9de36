"""``corps agents``: the agent registry — agents, versions, live replicas and their last heartbeats."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table

from corps.cli._stack import resolve_stack
from corps.errors import CorpsError
from corps.runtime.announcement import summarize
from corps.runtime.presence import read_announcements
from corps.runtime.settings import TelemetrySettings, TopicSettings

__all__ = ["agents"]


def _age(then: datetime, now: datetime) -> str:
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 120:
        return f"{seconds:.0f}s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m ago"
    return f"{seconds / 3600:.1f}h ago"


@click.command("agents")
@click.option(
    "--topic", default=TopicSettings().registry, show_default=True, help="The agent registry topic."
)
@click.option(
    "--stale-after",
    type=click.IntRange(1),
    default=TelemetrySettings().missed_heartbeats,
    show_default=True,
    help="Missed heartbeats after which a replica counts as stale.",
)
@click.option(
    "--replicas", is_flag=True, help="One line per replica (host, pid, group) instead of per agent."
)
@click.option("--json", "as_json", is_flag=True, help="Print the announcements as JSON lines.")
def agents(topic: str, stale_after: int, replicas: bool, as_json: bool) -> None:
    """List the agents that announced themselves: versions, live and stale replicas, last heartbeat.

    A replica announces itself when it starts, beats every few seconds and removes itself when it stops
    cleanly; one that was killed stays listed as stale until it is restarted or its record is compacted.
    """
    kafka, _ = resolve_stack()
    try:
        found = read_announcements(kafka.client_config(), topic)
    except CorpsError as exc:
        raise click.ClickException(str(exc)) from exc
    now = datetime.now(UTC)
    if as_json:
        for a in found:
            line = a.model_dump(mode="json") | {"stale": a.is_stale(now, stale_after)}
            click.echo(json.dumps(line))
        return
    console = Console()
    if not found:
        console.print(f"no agents announced on {topic}")
        return
    rows = summarize(found, now, stale_after)
    if replicas:
        table = Table(title=f"agent replicas ({topic})")
        for column in (
            "agent",
            "version",
            "replica",
            "host",
            "pid",
            "group",
            "delivery",
            "state",
            "heartbeat",
        ):
            table.add_column(column)
        for row in rows:
            for a in row.replicas:
                state = "stale" if a.is_stale(now, stale_after) else "live"
                cells = [a.agent, a.version, a.replica_id, a.host, str(a.pid), a.group_id, a.delivery, state]
                table.add_row(*cells, _age(a.heartbeat_at, now))
    else:
        table = Table(title=f"agents ({topic})")
        for column in ("agent", "versions", "live", "stale", "last heartbeat", "capabilities", "consumes"):
            table.add_column(column, overflow="fold")
        for row in rows:
            consumes = sorted({c.event_type.rsplit(".", 1)[-1] for a in row.replicas for c in a.consumes})
            versions, capabilities = ", ".join(row.versions), ", ".join(row.capabilities)
            cells = [row.agent, versions, str(row.live), str(row.stale), _age(row.last_heartbeat, now)]
            table.add_row(*cells, capabilities, ", ".join(consumes))
    console.print(table)
