"""The choreography as a graph: who emits and who consumes each event, reachability and cycles.

Nodes are event types and steps; an edge runs from an event to every step it triggers (``on``) and from a
step to every event it emits. The validator, the drawings and the saga state machine all read the
topology through this one index so they can never disagree about its shape.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from corps.topology.models import Topology

__all__ = ["TopologyGraph"]


@dataclass(frozen=True)
class TopologyGraph:
    """Indexes over one topology (built once with :meth:`of`; all fields are read-only)."""

    topology: Topology
    consumers: Mapping[str, tuple[str, ...]]
    """Event type → the steps it triggers, in file order."""
    emitters: Mapping[str, tuple[str, ...]]
    """Event type → the steps that emit it, in file order."""
    compensators: Mapping[str, tuple[str, ...]]
    """Event type → the steps whose compensation handler emits it."""

    @classmethod
    def of(cls, topology: Topology) -> TopologyGraph:
        """Index ``topology``."""
        consumers: dict[str, list[str]] = {}
        emitters: dict[str, list[str]] = {}
        compensators: dict[str, list[str]] = {}
        for name, step in topology.steps.items():
            consumers.setdefault(step.on, []).append(name)
            for event in step.emits:
                emitters.setdefault(event, []).append(name)
            if step.compensation is not None:
                compensators.setdefault(step.compensation.event, []).append(name)

        def freeze(index: dict[str, list[str]]) -> Mapping[str, tuple[str, ...]]:
            return MappingProxyType({key: tuple(value) for key, value in index.items()})

        return cls(topology, freeze(consumers), freeze(emitters), freeze(compensators))

    def successors(self, step: str) -> tuple[str, ...]:
        """Steps triggered by an event ``step`` emits (duplicates removed, file order kept)."""
        found: dict[str, None] = {}
        for event in self.topology.steps[step].emits:
            for consumer in self.consumers.get(event, ()):
                found[consumer] = None
        return tuple(found)

    def reachable_steps(self) -> frozenset[str]:
        """Steps that can run, starting from the workflow's start events."""
        seen: set[str] = set()
        frontier = [step for event in self.topology.start for step in self.consumers.get(event, ())]
        while frontier:
            step = frontier.pop()
            if step in seen:
                continue
            seen.add(step)
            frontier.extend(self.successors(step))
        return frozenset(seen)

    def steps_reaching_completion(self) -> frozenset[str]:
        """Steps from which some completion event can still be emitted."""
        complete = set(self.topology.complete)
        good = {name for name, step in self.topology.steps.items() if complete.intersection(step.emits)}
        changed = True
        while changed:
            changed = False
            for name in self.topology.steps:
                if name not in good and any(s in good for s in self.successors(name)):
                    good.add(name)
                    changed = True
        return frozenset(good)

    def cycles(self) -> list[tuple[str, ...]]:
        """Strongly connected groups of steps that can run again and again (Tarjan), file order."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[tuple[str, ...]] = []
        order = list(self.topology.steps)

        def visit(node: str) -> None:
            index[node] = low[node] = len(index)
            stack.append(node)
            on_stack.add(node)
            for succ in self.successors(node):
                if succ not in index:
                    visit(succ)
                    low[node] = min(low[node], low[succ])
                elif succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if low[node] == index[node]:
                group: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1 or node in self.successors(node):
                    found.append(tuple(sorted(group, key=order.index)))

        for name in order:
            if name not in index:
                visit(name)
        return sorted(found, key=lambda group: order.index(group[0]))

    def events_in_order(self) -> list[str]:
        """Every event type named anywhere, declared ones first in file order."""
        names: dict[str, None] = dict.fromkeys(self.topology.events)
        for event in self._mentioned():
            names.setdefault(event, None)
        return list(names)

    def _mentioned(self) -> Iterable[str]:
        yield from self.topology.start
        yield from self.topology.complete
        for step in self.topology.steps.values():
            yield step.on
            yield from step.emits
            if step.compensation is not None:
                yield step.compensation.event
