"""G5's ceiling: the null gate's templates and plans, and the figures it reports (no broker involved)."""

from __future__ import annotations

from pathlib import Path

from bench.g3_stage import TOPOLOGY
from bench.g5_ceiling import ceiling_results, template_bytes
from bench.g5_null_gate import EVENTS, Templates, _plans
from corps.orchestrator.topics import TopologyTopics
from corps.topology import parse_topology


def _templates(orchestrate: bool) -> Templates:
    def copy(tag: str) -> tuple[bytes, list[tuple[str, bytes]]]:
        return tag.encode() * 3, [("ce_type", tag.encode()), ("ce_id", b"1")]

    lifecycle = orchestrate
    return Templates(
        decisions=[copy(f"d{n}") for n in range(len(EVENTS))],
        states=[b"s" * (n + 1) for n in range(len(EVENTS))],
        started=[copy("ws"), copy("wsd")] if lifecycle else [],
        completed=[copy("wc"), copy("wcd")] if lifecycle else [],
    )


def _topics() -> TopologyTopics:
    topology = parse_topology(TOPOLOGY.format(name="g5c", partitions=3), Path("g5c.yaml")).topology
    return TopologyTopics.of(topology)


def test_templates_survive_the_spec_file() -> None:
    for orchestrate in (False, True):
        templates = _templates(orchestrate)
        assert Templates.from_json(templates.to_json()) == templates


def test_gate_only_plan_writes_the_admitted_copy_and_one_decision() -> None:
    topics = _topics()
    templates = _templates(False)
    plans = _plans(topics, templates)
    assert set(plans) == set(topics.proposed)
    for index, event in enumerate(EVENTS):
        proposed = next(t for t, e in topics.proposed.items() if e == event)
        admitted, at, extra = plans[proposed]
        assert (admitted, at) == (topics.admitted[event], index)
        assert extra == [(topics.decisions, templates.decisions[index])]


def test_orchestrated_plan_adds_the_lifecycle_records_with_their_decisions() -> None:
    topics = _topics()
    templates = _templates(True)
    plans = _plans(topics, templates)
    by_event = {topics.proposed[t]: extra for t, (_, _, extra) in plans.items()}
    assert by_event["TicketOpened"][1:] == [
        (topics.lifecycle, templates.started[0]),
        (topics.decisions, templates.started[1]),
    ]
    assert by_event["ReplyDrafted"][1:] == [
        (topics.lifecycle, templates.completed[0]),
        (topics.decisions, templates.completed[1]),
    ]
    assert len(by_event["TicketTriaged"]) == len(by_event["RefundIssued"]) == 1


def test_records_per_workflow_match_the_service() -> None:
    assert template_bytes(_templates(False))["records_out_per_workflow"] == 12
    assert template_bytes(_templates(True))["records_out_per_workflow"] == 16


def test_ceiling_is_null_on_over_null_off_with_the_real_ratio_beside() -> None:
    templates = {False: _templates(False), True: _templates(True)}
    cpu = {
        "real_off": {"orchestrator": 300.0, "agents": 300.0, "source": 50.0},
        "real_on": {"orchestrator": 600.0, "agents": 300.0},
        "null_off": {"orchestrator": 100.0, "agents": 300.0},
        "null_on": {"orchestrator": 200.0, "agents": 300.0},
    }
    results = ceiling_results(
        {True: 600.0, False: 1000.0}, {True: 800.0, False: 1000.0}, [], cpu, templates, {}
    )
    by_id = {r.id: r for r in results}
    assert by_id["G5.ceiling_ratio"].value == 0.8
    assert by_id["G5.ceiling_ratio"].detail["real_ratio"] == 0.6
    assert by_id["G5.ceiling_ratio"].detail["real_share_of_ceiling"] == 0.75
    assert by_id["G5.ceiling_ratio"].detail["cpu_ratio_real"] == round(600 / 900, 3)  # source left out
    assert by_id["G5.ceiling_ratio"].detail["cpu_ratio_null"] == 0.8
    assert by_id["G5.null_on_wf_per_s"].baseline_id == "G5.null_off_wf_per_s"
