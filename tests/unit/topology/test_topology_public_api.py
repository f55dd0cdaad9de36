"""The public surface of corps.topology is pinned: changing it is a deliberate act."""

from __future__ import annotations

import corps.topology


def test_topology_exports_are_pinned() -> None:
    assert sorted(corps.topology.__all__) == [
        "ApplyError",
        "ChangeKind",
        "Diagnostic",
        "LoadedTopology",
        "Location",
        "Severity",
        "Stage",
        "Step",
        "TopicPlan",
        "TopicSpec",
        "Topology",
        "TopologyError",
        "TopologyGraph",
        "TopologySchemas",
        "admitted_topic",
        "decision_topic",
        "desired_topics",
        "diff_topics",
        "execute_plan",
        "format_diagnostics",
        "lifecycle_topic",
        "load_topology",
        "parse_topology",
        "proposed_topic",
        "read_cluster",
        "schema_subjects",
        "to_mermaid",
        "to_svg",
        "topic_name",
        "validate_topology",
        "wait_converged",
    ]
    for name in corps.topology.__all__:
        assert hasattr(corps.topology, name), name
