"""kill -9 of the policy gate (the real ``corps orchestrator run --gate-only`` process) mid-run.

A per-tenant budget (500 per day, one per event) over 3 tenants x 1,000 events: the gate is killed with
SIGKILL after it admitted some of the first half, the second half is proposed while it is down, and a
new process takes over. Counted from the log afterwards (read_committed): every event has exactly one
decision, nothing is admitted twice or lost, and each tenant got exactly its 500 — the budget counters
came back from the changelog (with counters lost, the second process would admit up to 500 more each).
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import pytest
from tests.fault.test_orchestrator_kill9 import CORPS, Orchestrator
from tests.integration.orchestrator.orch_bed import Bed, Tail, header

from corps.events import Envelope
from corps.events.lifecycle import PolicyDecision
from corps.policy import PolicyStore, load_policy_files

pytestmark = [pytest.mark.integration, pytest.mark.fault]

TENANTS = ("t0", "t1", "t2")
PER_TENANT = 1000
LIMIT = 500
POLICIES = """
set: {name}
policies:
  - id: daily-budget
    version: 1
    match: {{events: [A]}}
    budget: {{amount: "1", limit: {limit}, window: 1d, by: [tenant], split: none}}
"""  # split: none - each tenant proposes on one workflow (one partition): its whole limit is there


class Gate(Orchestrator):
    """The gate alone, enforcing the set named like the workflow."""

    def start(self) -> None:
        args = [str(CORPS), "orchestrator", "run", "--topology", str(self.bed.file), "--gate-only",
                "--instance-id", "kill9"]  # fmt: skip
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(args, env=self.env, stdout=out, stderr=out)


def propose_half(bed: Bed, half: int) -> list[str]:
    topic = next(t for t, e in bed.topics.proposed.items() if e == "A")
    ids = []
    for n in range(PER_TENANT // 2):
        for tenant in TENANTS:
            payload = bed.models["A"](n=f"{tenant}-{half}-{n}")  # type: ignore[call-arg]
            envelope = Envelope.new(payload.event_type, tenant=tenant, workflow_id=f"wf-{tenant}", source="t")
            bed.send(bed.codec.encode(topic, payload, envelope))
            ids.append(envelope.id)
    bed.flush()
    return ids


def test_gate_kill9_mid_run_admits_nothing_twice_and_keeps_budgets(
    bed: Bed, kafka_config: dict[str, str], tmp_path: Path
) -> None:
    file = tmp_path / "budget.yaml"
    file.write_text(POLICIES.format(name=bed.topology.workflow.name, limit=LIMIT), encoding="utf-8")
    store = PolicyStore(kafka_config)
    store.ensure_topic()
    store.publish(load_policy_files([file]).policy_set)

    admitted = Tail(bed, bed.topics.admitted["A"])
    decisions = Tail(bed, bed.topics.decisions)
    gate = Gate(bed, tmp_path / "gate.log")
    total = PER_TENANT * len(TENANTS)
    try:
        first = propose_half(bed, 0)
        gate.start()
        admitted.until(lambda r: len(r) >= 100, timeout_s=90)
        gate.kill9()
        second = propose_half(bed, 1)
        gate.start()
        decisions.until(lambda r: len(r) >= total, timeout_s=100)
        admitted.poll(2.0)
        decisions.poll(1.0)
    finally:
        gate.stop()
    proposed = set(first + second)

    decided = Counter(bed.codec.decode(r, PolicyDecision).payload.decided_event_id for r in decisions.records)
    assert set(decided) == proposed, "an event was lost (no decision) or a foreign one decided"
    assert [i for i, n in decided.items() if n > 1] == [], "an event was decided twice"
    admitted_ids = Counter(header(r, "ce_id") for r in admitted.records)
    assert [i for i, n in admitted_ids.items() if n > 1] == [], "an event was admitted twice"
    per_tenant = Counter(header(r, "ce_tenant") for r in admitted.records)
    assert per_tenant == {t: LIMIT for t in TENANTS}, "budget counters did not survive kill -9"
    admitted.close()
    decisions.close()
