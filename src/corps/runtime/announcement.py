"""The agent registry's records: what each replica announces, and how liveness is judged.

Every replica writes an :class:`Announcement` (JSON, keyed ``<agent>/<replica id>``) to a compacted
registry topic when it starts and again at every heartbeat; on a clean shutdown it writes a
tombstone. A replica whose last heartbeat is older than ``missed_heartbeats`` intervals is stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["AgentSummary", "Announcement", "EventContract", "summarize"]


class EventContract(BaseModel):
    """One consumed or produced event type of an agent, with its topic and schema version."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: str
    topic: str
    subject: str
    schema_version: int | None = None


class Announcement(BaseModel):
    """What a replica tells the world about itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agent: str
    version: str
    replica_id: str
    capabilities: tuple[str, ...] = ()
    description: str = ""
    consumes: tuple[EventContract, ...] = ()
    produces: tuple[EventContract, ...] = ()
    host: str
    pid: int
    group_id: str
    delivery: str
    started_at: datetime
    heartbeat_at: datetime
    heartbeat_interval_s: float = Field(gt=0)

    @property
    def key(self) -> str:
        """The record key on the registry topic."""
        return registry_key(self.agent, self.replica_id)

    def beat(self, now: datetime) -> Announcement:
        """Return a copy with ``heartbeat_at`` set to ``now``."""
        return self.model_copy(update={"heartbeat_at": now})

    def is_stale(self, now: datetime, missed_heartbeats: int) -> bool:
        """Return True when more than ``missed_heartbeats`` intervals passed since the last beat."""
        return now - self.heartbeat_at > timedelta(seconds=self.heartbeat_interval_s * missed_heartbeats)


def registry_key(agent: str, replica_id: str) -> str:
    """Key of a replica's records on the registry topic."""
    return f"{agent}/{replica_id}"


@dataclass(frozen=True, slots=True)
class AgentSummary:
    """One line of ``corps agents``.

    Attributes:
        agent: Agent name.
        versions: Versions its replicas run (more than one during a rolling upgrade).
        live: Replicas with a recent heartbeat.
        stale: Replicas that missed too many heartbeats.
        last_heartbeat: The most recent heartbeat of any replica.
        capabilities: Union of the replicas' capabilities.
        replicas: The announcements themselves, newest heartbeat first.
    """

    agent: str
    versions: tuple[str, ...]
    live: int
    stale: int
    last_heartbeat: datetime
    capabilities: tuple[str, ...]
    replicas: tuple[Announcement, ...]


def summarize(
    announcements: Iterable[Announcement], now: datetime, missed_heartbeats: int
) -> list[AgentSummary]:
    """Group the latest announcement of every replica by agent, sorted by agent name."""
    by_agent: dict[str, list[Announcement]] = {}
    for a in announcements:
        by_agent.setdefault(a.agent, []).append(a)
    rows = []
    for agent in sorted(by_agent):
        replicas = sorted(by_agent[agent], key=lambda a: a.heartbeat_at, reverse=True)
        stale = sum(1 for a in replicas if a.is_stale(now, missed_heartbeats))
        rows.append(
            AgentSummary(
                agent=agent,
                versions=tuple(sorted({a.version for a in replicas})),
                live=len(replicas) - stale,
                stale=stale,
                last_heartbeat=replicas[0].heartbeat_at,
                capabilities=tuple(sorted({c for a in replicas for c in a.capabilities})),
                replicas=tuple(replicas),
            )
        )
    return rows
