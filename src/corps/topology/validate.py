"""Cross-reference checks of a loaded topology; every finding names file, line and key.

Shape errors (wrong types, unknown keys) are caught when the file is parsed; this module checks what
only the whole file can tell: unknown agents / events / schemas, unreachable steps, cycles without an
exit, compensable steps without a compensation, events nobody consumes, readers that cannot decode
what is written, one partition count for every topic, and policy files that exist.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from corps.topology.diagnostics import Diagnostic, Severity
from corps.topology.graph import TopologyGraph
from corps.topology.loader import LoadedTopology
from corps.topology.naming import Stage, topic_name
from corps.topology.schemas import TopologySchemas

__all__ = ["validate_topology"]

_MAX_TOPIC = 249


class _Findings:
    def __init__(self, loaded: LoadedTopology) -> None:
        self._source = loaded.source
        self.items: list[Diagnostic] = []

    def error(self, code: str, path: Sequence[str | int], message: str) -> None:
        self._add(Severity.ERROR, code, path, message)

    def warning(self, code: str, path: Sequence[str | int], message: str) -> None:
        self._add(Severity.WARNING, code, path, message)

    def _add(self, severity: Severity, code: str, path: Sequence[str | int], message: str) -> None:
        location = self._source.locate(path)
        self.items.append(Diagnostic(severity=severity, code=code, message=message, location=location))


def validate_topology(loaded: LoadedTopology, schemas: TopologySchemas) -> list[Diagnostic]:
    """Check ``loaded`` against itself, the schemas on disk and the policy files it names.

    Returns:
        Every finding, errors and warnings, in file order. The topology is valid when none is an error.
    """
    found = _Findings(loaded)
    _references(loaded, found)
    _shape(loaded, found)
    _schemas(loaded, schemas, found)
    _policies(loaded, found)
    return sorted(found.items, key=lambda d: (d.location.line, d.location.column, d.code))


def _references(loaded: LoadedTopology, found: _Findings) -> None:
    topo = loaded.topology
    events = topo.events

    def check_event(name: str, path: Sequence[str | int], role: str) -> None:
        if name not in events:
            found.error("unknown-event", path, f"{role} {name!r} is not declared under events:")

    for index, name in enumerate(topo.start):
        check_event(name, ("start", index), "start event")
    for index, name in enumerate(topo.complete):
        check_event(name, ("complete", index), "completion event")
    used_agents: set[str] = set()
    for step_name, step in topo.steps.items():
        base = ("steps", step_name)
        if step.agent not in topo.agents:
            found.error(
                "unknown-agent", (*base, "agent"), f"agent {step.agent!r} is not declared under agents:"
            )
        used_agents.add(step.agent)
        check_event(step.on, (*base, "on"), "trigger event")
        for index, name in enumerate(step.emits):
            check_event(name, (*base, "emits", index), "emitted event")
        if step.compensation is not None:
            check_event(step.compensation.event, (*base, "compensation"), "compensation event")
        if step.compensable and step.compensation is None:
            found.error(
                "compensation-missing",
                base,
                "this step changes the world but declares no way to undo it: add `compensation: <Event>`, "
                "`irreversible: true` or `side_effects: false`",
            )
    for agent_name, agent in topo.agents.items():
        if agent_name not in used_agents:
            found.warning("unused-agent", ("agents", agent_name), "no step runs on this agent")
        consumed = {step.on for step in topo.steps.values() if step.agent == agent_name}
        for event in agent.reads:
            check_event(event, ("agents", agent_name, "reads", event), "read event")
            if event in events and event not in consumed:
                found.warning(
                    "read-not-consumed",
                    ("agents", agent_name, "reads", event),
                    "this agent runs no step triggered by this event",
                )


def _shape(loaded: LoadedTopology, found: _Findings) -> None:
    topo = loaded.topology
    graph = TopologyGraph.of(topo)
    for event, steps in graph.emitters.items():
        for extra in steps[1:]:
            index = topo.steps[extra].emits.index(event)
            found.error(
                "multiple-emitters",
                ("steps", extra, "emits", index),
                f"{event} is already emitted by step {steps[0]!r}; each event has one emitting step",
            )
    for index, event in enumerate(topo.start):
        if event in topo.events and not graph.consumers.get(event):
            found.error("start-unconsumed", ("start", index), f"no step is triggered by start event {event}")
    for index, event in enumerate(topo.complete):
        if event in topo.events and not graph.emitters.get(event) and event not in topo.start:
            found.error("never-completes", ("complete", index), f"no step emits {event}")
    reachable = graph.reachable_steps()
    for name in topo.steps:
        if name not in reachable:
            found.error(
                "unreachable-step",
                ("steps", name),
                f"no chain of events from the start ({', '.join(topo.start)}) triggers this step",
            )
    finishing = graph.steps_reaching_completion()
    in_cycles: set[str] = set()
    for group in graph.cycles():
        in_cycles.update(group)
        if not finishing.intersection(group):
            loop = " → ".join((*group, group[0]))
            found.error(
                "cycle-without-exit",
                ("steps", group[0]),
                f"steps {loop} can repeat forever: no completion event can be reached from them",
            )
    for name in topo.steps:
        if name in reachable and name not in finishing and name not in in_cycles:
            found.warning(
                "dead-end",
                ("steps", name),
                "no completion event can follow this step; workflows that reach it never complete",
            )
    for name in topo.events:
        if name in graph.consumers or name in topo.complete or name in graph.compensators:
            continue
        found.warning("event-unconsumed", ("events", name), "no step consumes this event")
    for name, declared in topo.events.items():
        if declared.partitions is not None and declared.partitions != topo.topics.partitions:
            found.error(
                "partition-mismatch",
                ("events", name, "partitions"),
                f"all topics of a topology share one partition count (topics.partitions = "
                f"{topo.topics.partitions}) so a workflow's events stay co-partitioned",
            )
        longest = topic_name(topo.workflow.name, name, Stage.PROPOSED)
        if len(longest) > _MAX_TOPIC:
            found.error("topic-name-too-long", ("events", name), f"topic {longest!r} exceeds 249 characters")


def _schemas(loaded: LoadedTopology, schemas: TopologySchemas, found: _Findings) -> None:
    topo = loaded.topology
    if schemas.problem is not None:
        found.error("schema-catalog", ("events",), f"schemas/ cannot be loaded: {schemas.problem}")
        return
    for name, event in topo.events.items():
        fullname = topo.schema_fullname(name)
        path = ("events", name, "version") if "version" in event.model_fields_set else ("events", name)
        if not schemas.has(fullname, event.version):
            have = schemas.versions(fullname)
            hint = f"versions on disk: {have}" if have else f"no {schemas.root}/{fullname}/ directory"
            found.error("unknown-schema", path, f"schema {fullname} v{event.version} not found ({hint})")
    for agent_name, agent in topo.agents.items():
        for name, reader in agent.reads.items():
            if name not in topo.events:
                continue
            fullname = topo.schema_fullname(name)
            writer = topo.events[name].version
            at = ("agents", agent_name, "reads", name)
            if not schemas.has(fullname, reader):
                found.error("unknown-schema", at, f"schema {fullname} v{reader} not found")
            elif schemas.has(fullname, writer) and (why := schemas.incompatibility(fullname, reader, writer)):
                found.error(
                    "schema-incompatible",
                    at,
                    f"{agent_name} reads {name} with v{reader}, which cannot decode the v{writer} it is "
                    f"written with: {why}",
                )


def _policies(loaded: LoadedTopology, found: _Findings) -> None:
    base = loaded.path.parent
    for index, policy in enumerate(loaded.topology.policies):
        if not (base / Path(policy)).is_file():
            found.error("policy-missing", ("policies", index), f"policy file {base / policy} does not exist")
