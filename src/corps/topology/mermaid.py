"""The choreography as Mermaid flowchart text (renders on GitHub, GitLab and in most doc tools)."""

from __future__ import annotations

import re

from corps.topology._durations import format_duration
from corps.topology.graph import TopologyGraph
from corps.topology.models import Topology

__all__ = ["node_id", "to_mermaid"]

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def node_id(kind: str, name: str) -> str:
    """A Mermaid-safe node id for an event (``kind="e"``) or a step (``kind="s"``)."""
    return f"{kind}_{_UNSAFE.sub('_', name)}"


def _quote(text: str) -> str:
    return text.replace('"', "#quot;")


def step_caption(topology: Topology, name: str) -> list[str]:
    """The lines drawn inside a step's box: name, agent, timing, and how it is undone."""
    step = topology.steps[name]
    retry = topology.step_retry(name)
    lines = [
        name,
        f"agent: {step.agent}",
        f"timeout {format_duration(topology.step_timeout(name))} x{retry.max_attempts}",
    ]
    if step.irreversible:
        lines.append("irreversible")
    elif step.compensation is not None:
        lines.append(f"undo: {step.compensation.event}")
    if step.approval is not None:
        lines.append(f"approval: {', '.join(step.approval.approvers)}")
    return lines


def to_mermaid(topology: Topology) -> str:
    """Draw ``topology`` as a left-to-right Mermaid flowchart.

    Events are stadium shapes (start events green, completion events bold, compensation events
    orange), steps are boxes (irreversible ones red), solid arrows are the happy path and dotted arrows
    lead to compensation events.
    """
    graph = TopologyGraph.of(topology)
    out = [f"%% {topology.workflow.name} v{topology.workflow.version}", "flowchart LR"]
    for event in graph.events_in_order():
        classes = []
        if event in topology.start:
            classes.append("start")
        if event in topology.complete:
            classes.append("done")
        if event in graph.compensators:
            classes.append("undo")
        suffix = f":::{classes[0]}" if classes else ""
        out.append(f'    {node_id("e", event)}(["{_quote(event)}"]){suffix}')
    for name, step in topology.steps.items():
        caption = "<br/>".join(_quote(line) for line in step_caption(topology, name))
        suffix = ":::irreversible" if step.irreversible else ""
        out.append(f'    {node_id("s", name)}["{caption}"]{suffix}')
    for name, step in topology.steps.items():
        out.append(f"    {node_id('e', step.on)} --> {node_id('s', name)}")
        out.extend(f"    {node_id('s', name)} --> {node_id('e', event)}" for event in step.emits)
        if step.compensation is not None:
            out.append(
                f"    {node_id('s', name)} -. compensation .-> {node_id('e', step.compensation.event)}"
            )
    out += [
        "    classDef start fill:#d9f2d9,stroke:#2e7d32",
        "    classDef done fill:#e3ecfa,stroke:#1f4e9c,stroke-width:3px",
        "    classDef undo fill:#fff1dc,stroke:#c76b00,stroke-dasharray:4 3",
        "    classDef irreversible stroke:#b3261e,stroke-width:2px",
    ]
    return "\n".join(out) + "\n"
