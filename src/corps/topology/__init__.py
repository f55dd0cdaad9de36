"""Topology files: the declared shape of a choreography — models, loading, checks, drawings, topics.

A topology names a workflow, its event types and schemas, the agents and their steps (trigger, emitted
events, timeout, retries, compensation or ``irreversible``, approvals), what starts and completes a
workflow, the topics' partitions / replication / retention and the policies that apply. Topic names
come from :mod:`corps.topology.naming` only.
"""

from corps.topology.apply import ApplyError, execute_plan, read_cluster, wait_converged
from corps.topology.diagnostics import Diagnostic, Location, Severity, TopologyError, format_diagnostics
from corps.topology.graph import TopologyGraph
from corps.topology.loader import LoadedTopology, load_topology, parse_topology
from corps.topology.mermaid import to_mermaid
from corps.topology.models import Step, Topology
from corps.topology.naming import (
    Stage,
    admitted_topic,
    decision_topic,
    lifecycle_topic,
    proposed_topic,
    topic_name,
)
from corps.topology.plan import ChangeKind, TopicPlan, TopicSpec, desired_topics, diff_topics
from corps.topology.schemas import TopologySchemas, schema_subjects
from corps.topology.svg import to_svg
from corps.topology.validate import validate_topology

__all__ = [
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
