"""G5: what the orchestrator stage costs, how high that ratio can be, and how fast it reacts to a failure.

* ``G5.on_wf_per_s`` vs ``G5.off_wf_per_s`` — the G3 choreography (three exactly-once agents, every
  event through the gate) flat out with the orchestrator stage on (saga, WorkflowStarted/Completed, the
  state changelog) and off (``--gate-only``): the ratio, goal >= 0.85.
* ``G5.null_on_wf_per_s`` vs ``G5.null_off_wf_per_s`` and ``G5.ceiling_ratio`` — the same choreography
  with the service replaced by a null gate that writes the same records as prebuilt copies
  (:mod:`bench.g5_ceiling`): the on/off the record design allows on this machine, beside the real one.
* ``G5.compensation_p50_ms`` / ``_p99_ms`` — from a proposed StepFailed to the CompensationRequested it
  causes (:mod:`bench.g5_compensation`).

The eight throughput rounds run in the order real off, real on, null off, null on, null on, null off,
real on, real off, each on a fresh copy of the topology; every figure is the sum of workflows over the
sum of seconds of its two rounds, so load that comes and goes on the machine weighs on all sides alike.
The null gate's records are copied from the first real round of each mode.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bench.context import BenchContext
from bench.g3_stage import (
    ORCHESTRATOR_REPLICAS,
    Stage,
    TicketSource,
    await_probe,
    collect,
    make_stage,
    start_sink,
)
from bench.g5_ceiling import capture, ceiling_results, start_null_gate
from bench.g5_compensation import RATE, compensation_latency
from bench.g5_cpu import RoundCpu, listener_pid
from bench.g5_null_gate import Templates
from bench.results import Result

ID = "G5"
TITLE = "orchestrator stage on/off (choreography workflows/s) and StepFailed -> CompensationRequested"
NEEDS: tuple[str, ...] = ()

_WORKFLOWS = 20_000
_ROUNDS = ((False, False), (False, True), (True, False), (True, True), (True, True), (True, False),
           (False, True), (False, False))  # fmt: skip
"""(null gate, orchestrator) of each throughput round, in order."""


def _throughput(
    ctx: BenchContext, workflows: int, label: str, start: Callable[[Stage], None], broker: int | None
) -> tuple[int, float, Stage, dict[str, float]]:
    stage = make_stage(ctx, label)
    try:
        start(stage)
        stage.start_agents()
        await_probe(stage, TicketSource(stage, latency=True))
        process, out = start_sink(stage, stage.topic("ReplyDrafted"), "t", workflows, 900)
        roles: dict[str, list[int | None]] = {"orchestrator": [], "agents": []}
        for name, running in stage.processes.items():
            roles["orchestrator" if name.startswith("orchestrator") else "agents"].append(running.pid)
        cpu = RoundCpu({**roles, "broker": [broker]})
        source = TicketSource(stage, latency=False)
        cpu.start()
        started = source.blast(workflows)
        report = collect(stage, process, out, 900)
        cpu.stop()
    finally:
        stage.stop()
    used = {**cpu.seconds, "sink": float(report["cpu_s"])}  # the sink has exited: it reports its own
    return int(report["received"]), (report["last_ns"] - started) / 1e9, stage, used


def run(ctx: BenchContext, replicas: int = ORCHESTRATOR_REPLICAS) -> list[Result]:
    """Eight rounds of the choreography flat out (real and null, on and off), then the failure latency.

    ``replicas`` orchestrator processes run in every real round, on and off alike (the null gate is one).
    """
    workflows = ctx.scale.count(_WORKFLOWS, minimum=2000)
    key = f"t-{workflows // 2}-0".encode()  # a measured workflow, its id of the most common length
    totals = {side: [0, 0.0] for side in _ROUNDS}
    cpu: dict[tuple[bool, bool], dict[str, float]] = {side: {} for side in _ROUNDS}
    broker = listener_pid(ctx.bootstrap_servers)
    rounds: list[dict[str, Any]] = []
    templates: dict[bool, Templates] = {}
    for null, orchestrate in _ROUNDS:

        def start(stage: Stage, null: bool = null, orchestrate: bool = orchestrate) -> None:
            if null:
                start_null_gate(stage, templates[orchestrate], orchestrate=orchestrate)
            else:
                stage.start_orchestrator(orchestrate=orchestrate, replicas=replicas)

        label = f"g5{'null' if null else ''}{'on' if orchestrate else 'off'}"
        done, seconds, stage, used = _throughput(ctx, workflows, label, start, broker)
        for role, spent in used.items():
            cpu[null, orchestrate][role] = cpu[null, orchestrate].get(role, 0.0) + spent
        if not null and orchestrate not in templates:
            templates[orchestrate] = capture(stage, key, orchestrate=orchestrate)
        totals[null, orchestrate][0] += done
        totals[null, orchestrate][1] += seconds
        rounds.append(
            {
                "null_gate": null,
                "orchestrator": orchestrate,
                "workflows": done,
                "wf_per_s": round(done / seconds, 1),
            }
        )
    rate = {side: done / seconds for side, (done, seconds) in totals.items()}
    cpu_us = {
        f"{'null' if null else 'real'}_{'on' if orchestrate else 'off'}": {
            role: round(spent / totals[null, orchestrate][0] * 1e6, 1) for role, spent in roles.items()
        }
        for (null, orchestrate), roles in cpu.items()
    }
    on, off = rate[False, True], rate[False, False]
    summary, sent, received = compensation_latency(ctx)
    common = {
        "workflows_per_run": workflows,
        "rounds": [r for r in rounds if not r["null_gate"]],
        "partitions": ctx.partitions,
        "orchestrator_replicas": replicas,
    }
    latency_detail = {
        **summary.as_detail(),
        "rate_failures_per_s": RATE,
        "sent": sent,
        "received": received,
        "setup": "StepFailed(draft) proposed after triage + refund completed; measured to the admitted "
        "CompensationRequested(refund); orchestrator its own process (corps CLI), sink read_committed",
    }
    return [
        Result(
            id="G5.off_wf_per_s",
            label="choreography flat out, orchestrator off (gate only)",
            value=round(off),
            unit="wf/s",
            detail=common,
        ),
        Result(
            id="G5.on_wf_per_s",
            label="choreography flat out, orchestrator on",
            value=round(on),
            unit="wf/s",
            baseline_id="G5.off_wf_per_s",
            goal_ratio=0.85,
            detail=common,
        ),
        *ceiling_results(
            {True: on, False: off},
            {True: rate[True, True], False: rate[True, False]},
            [r for r in rounds if r["null_gate"]],
            cpu_us,
            templates,
            {"workflows_per_run": workflows, "partitions": ctx.partitions},
        ),
        Result(
            id="G5.compensation_p50_ms",
            label="StepFailed -> CompensationRequested p50",
            value=round(summary.p50_ms, 3),
            unit="ms",
            detail=latency_detail,
        ),
        Result(
            id="G5.compensation_p99_ms",
            label="StepFailed -> CompensationRequested p99",
            value=round(summary.p99_ms, 3),
            unit="ms",
            detail={"from": "the G5.compensation_p50_ms run"},
        ),
    ]
