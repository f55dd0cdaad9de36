"""Which topics of a topology a replay reads, and what each one is (names from the topology package)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from corps.orchestrator.topics import TopologyTopics
from corps.replay.errors import ReplayInputError
from corps.topology import Topology

__all__ = ["ReplayTopics", "Role"]


class Role(StrEnum):
    """What a topic of the topology carries."""

    ADMITTED = "admitted"
    """A domain event type's admitted topic (only the gate writes it; agents read it)."""
    PROPOSED = "proposed"
    """A domain event type's proposed topic (agents and clients write it)."""
    LIFECYCLE = "lifecycle"
    """The admitted lifecycle topic (the orchestrator's events and admitted agent reports)."""
    LIFECYCLE_PROPOSED = "lifecycle-proposed"
    """Agents' proposed lifecycle reports."""
    DECISIONS = "decisions"
    """The gate's hash-chained decision log."""
    STATE = "state"
    """The orchestrator's compacted state changelog."""
    DEAD_LETTERS = "dead-letters"
    """The gate's dead letters."""

    @property
    def admitted_side(self) -> bool:
        """True for topics only the gate (or the orchestrator behind it) may write."""
        return self in (Role.ADMITTED, Role.LIFECYCLE)


@dataclass(frozen=True)
class ReplayTopics:
    """The topics of one topology with their roles.

    Attributes:
        topics: The topology's topics (names from :mod:`corps.topology.naming`).
        roles: Topic -> its role.
        event_names: Admitted or proposed topic -> the topology's event name carried there.
    """

    topics: TopologyTopics
    roles: dict[str, Role]
    event_names: dict[str, str]

    @classmethod
    def of(cls, topology: Topology) -> ReplayTopics:
        """The topics of ``topology``."""
        topics = TopologyTopics.of(topology)
        roles: dict[str, Role] = {}
        names: dict[str, str] = {}
        for name, topic in topics.admitted.items():
            roles[topic] = Role.ADMITTED
            names[topic] = name
        for topic, carried in topics.proposed.items():
            if carried is None:
                roles[topic] = Role.LIFECYCLE_PROPOSED
            else:
                roles[topic] = Role.PROPOSED
                names[topic] = carried
        roles[topics.lifecycle] = Role.LIFECYCLE
        roles[topics.decisions] = Role.DECISIONS
        roles[topics.state] = Role.STATE
        roles[topics.dead_letters] = Role.DEAD_LETTERS
        return cls(topics, roles, names)

    def default(self) -> list[str]:
        """What a replay reads unless told otherwise: admitted, proposed, lifecycle and decision topics."""
        skip = (Role.STATE, Role.DEAD_LETTERS)
        return sorted(topic for topic, role in self.roles.items() if role not in skip)

    def select(self, wanted: Iterable[str] | None) -> list[str]:
        """The topics to read: ``wanted``, else the default.

        ``wanted`` holds topic names, event names (their admitted topic) or roles (``decisions``).

        Raises:
            ReplayInputError: A name is neither a topic of the topology nor a role.
        """
        names = [w.strip() for w in (wanted or ()) if w.strip()]
        if not names:
            return self.default()
        chosen: set[str] = set()
        by_role = {role.value: role for role in Role}
        for name in names:
            if name in self.roles:
                chosen.add(name)
            elif name in self.topics.admitted:
                chosen.add(self.topics.admitted[name])
            elif name in by_role:
                chosen.update(t for t, r in self.roles.items() if r is by_role[name])
            else:
                known = ", ".join(sorted(self.roles))
                roles = ", ".join(r.value for r in Role)
                raise ReplayInputError(
                    f"--topics: {name!r} is not a topic of workflow {self.topics.workflow} "
                    f"(topics: {known}; or an event name; or a role: {roles})"
                )
        return sorted(chosen)

    def role(self, topic: str) -> Role | None:
        """The role of ``topic`` (``None`` for a topic outside the topology)."""
        return self.roles.get(topic)

    def of_role(self, *roles: Role) -> Sequence[str]:
        """The topics with one of ``roles``, sorted."""
        return sorted(t for t, r in self.roles.items() if r in roles)
