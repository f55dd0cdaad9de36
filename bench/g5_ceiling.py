"""G5's ceiling: how high orchestrator on/off can be on this machine for any orchestrator writing our records.

The choreography of G5 (same agents, topics, partitions, transactions, source and sink) runs with the
orchestrator service replaced by :mod:`bench.g5_null_gate`, which writes the service's records as
prebuilt copies with no per-record logic: gate-only, the admitted copy, a decision record and the
changelog record per workflow touched; orchestrated, also WorkflowStarted / WorkflowCompleted with
their decision records and the orchestrated changelog values. The copies are taken from the topics of
the real service's rounds of the same run (:func:`capture`), so their sizes and headers are the real
ones. ``null on / null off`` is the ratio the record design itself allows; the real on/off is printed
beside it.
"""

from __future__ import annotations

import json
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, Message, TopicPartition

from bench.g3_stage import Stage
from bench.g5_null_gate import EVENTS, Copy, Templates
from bench.results import Result
from bench.wire import CONSUMER
from corps.events.lifecycle import WorkflowCompleted, WorkflowStarted
from corps.orchestrator.topics import TopologyTopics

__all__ = ["capture", "ceiling_results", "start_null_gate", "template_bytes"]


def _records(stage: Stage, topic: str, key: bytes) -> list[Message]:
    """Every committed record of ``topic`` keyed ``key``, in offset order (one key: one partition)."""
    consumer = Consumer(
        {
            **stage.ctx.client_config,
            **CONSUMER,
            "group.id": stage.ctx.unique_name("capture"),
            "isolation.level": "read_committed",
        }
    )
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(stage.partitions)])
    found: list[Message] = []
    try:
        while batch := consumer.consume(10_000, 2.0):
            found += [m for m in batch if m.error() is None and m.key() == key]
    finally:
        consumer.close()
    return sorted(found, key=lambda m: m.offset() or 0)


def _copy(message: Message) -> Copy:
    found: Any = message.headers() or ()  # list[tuple[str, bytes]] from a consumer (the stubs say more)
    headers: list[tuple[str, bytes]] = [(name, value or b"") for name, value in found]
    value: Any = message.value()
    return value or b"", headers


def capture(stage: Stage, key: bytes, *, orchestrate: bool) -> Templates:
    """Copies of the records the real service wrote for workflow ``key`` in ``stage`` (stopped).

    Raises:
        RuntimeError: The workflow's records are not the expected ones (the service writes others now).
    """
    topics = TopologyTopics.of(stage.topology)
    decisions = _records(stage, topics.decisions, key)

    def decision_about(event_type: str) -> Copy:
        found = [m for m in decisions if event_type.encode() in (m.value() or b"")]
        if len(found) != 1:
            raise RuntimeError(f"{topics.decisions}: {len(found)} decisions about {event_type} of {key!r}")
        return _copy(found[0])

    types = [stage.topology.schema_fullname(event) for event in EVENTS]
    states = [m.value() or b"" for m in _records(stage, topics.state, key)]
    if len(states) != len(EVENTS):
        raise RuntimeError(f"{topics.state}: {len(states)} changelog records of {key!r}, not {len(EVENTS)}")
    started: list[Copy] = []
    completed: list[Copy] = []
    if orchestrate:
        lifecycle = {
            dict(m.headers() or ()).get("ce_type"): m for m in _records(stage, topics.lifecycle, key)
        }
        for event_type, into in (
            (WorkflowStarted.event_type, started),
            (WorkflowCompleted.event_type, completed),
        ):
            record = lifecycle.get(event_type.encode())
            if record is None:
                raise RuntimeError(f"{topics.lifecycle}: no {event_type} of {key!r}")
            into += [_copy(record), decision_about(event_type)]
    return Templates([decision_about(t) for t in types], states, started, completed)


def start_null_gate(stage: Stage, templates: Templates, *, orchestrate: bool) -> None:
    """Start the null gate in place of the orchestrator service of ``stage``."""
    spec = {
        "topology": str(stage.file),
        "bootstrap_servers": stage.ctx.bootstrap_servers,
        "registry_url": stage.ctx.registry_url,
        "orchestrate": orchestrate,
        "instance_id": stage.ctx.unique_name("null"),
        "templates": templates.to_json(),
    }
    path = stage.workdir / "null-gate.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    stage.start_python("orchestrator", ["-m", "bench.g5_null_gate", str(path)])


def template_bytes(templates: Templates) -> dict[str, Any]:
    """Bytes per workflow the templates stand for: values and header names + values, per kind."""

    def size(item: Copy) -> int:
        return len(item[0]) + sum(len(k) + len(v) for k, v in item[1])

    return {
        "decision_bytes": [size(c) for c in templates.decisions],
        "changelog_value_bytes": [len(s) for s in templates.states],
        "lifecycle_bytes": [size(c) for c in (templates.started + templates.completed)[0::2]],
        "lifecycle_decision_bytes": [size(c) for c in (templates.started + templates.completed)[1::2]],
        "records_out_per_workflow": 2 * len(EVENTS)
        + len(templates.states)
        + 2 * bool(templates.started)
        + 2 * bool(templates.completed),
    }


def ceiling_results(
    real: dict[bool, float],
    null: dict[bool, float],
    rounds: list[dict[str, Any]],
    cpu_us: dict[str, dict[str, float]],
    templates: dict[bool, Templates],
    common: dict[str, Any],
) -> list[Result]:
    """The null gate's figures and the ceiling ratio, with the real ratio of the same run beside it.

    ``cpu_us`` holds the µs of CPU per workflow of each role (``real_off`` ... ``null_on``); the
    ``cpu_ratio_*`` figures are off / on of their totals without the source (what on/off flat out
    approaches when every process shares the cores).
    """
    ceiling = null[True] / null[False]
    real_ratio = real[True] / real[False]
    # The source (the same blast every round, in the harness's process with its display) is left out.
    totals = {
        side: round(sum(v for k, v in roles.items() if k != "source"), 1) for side, roles in cpu_us.items()
    }

    def cpu_ratio(kind: str) -> float | None:
        on, off = totals.get(f"{kind}_on"), totals.get(f"{kind}_off")
        return round(off / on, 3) if on and off else None

    detail = {
        **common,
        "rounds": rounds,
        "real_ratio": round(real_ratio, 3),
        "real_share_of_ceiling": round(real_ratio / ceiling, 3),
        "cpu_us_per_wf": {side: {**roles, "total": totals[side]} for side, roles in cpu_us.items()},
        "cpu_ratio_real": cpu_ratio("real"),
        "cpu_ratio_null": cpu_ratio("null"),
        "records": {
            "gate_only": template_bytes(templates[False]),
            "orchestrated": template_bytes(templates[True]),
        },
        "meaning": "the orchestrator service replaced by a process that writes the same records (prebuilt "
        "copies of the real service's, same transactions and client settings) with no per-record logic: "
        "null on / null off is the best on/off any orchestrator writing these records can reach here",
    }
    return [
        Result(
            id="G5.null_off_wf_per_s",
            label="choreography flat out, null gate writing the gate-only records",
            value=round(null[False]),
            unit="wf/s",
            detail={"from": "the G5.ceiling_ratio run"},
        ),
        Result(
            id="G5.null_on_wf_per_s",
            label="choreography flat out, null gate writing the orchestrated records",
            value=round(null[True]),
            unit="wf/s",
            baseline_id="G5.null_off_wf_per_s",
            detail={"from": "the G5.ceiling_ratio run"},
        ),
        Result(
            id="G5.ceiling_ratio",
            label="ceiling of on/off: null gate on / null gate off (real on/off in detail)",
            value=round(ceiling, 3),
            unit="ratio",
            detail=detail,
        ),
    ]
