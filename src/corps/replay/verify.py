"""``--verify``: chains, re-derived workflow state and re-taken decisions, over the records read.

:func:`verify_log` runs the three checks per workflow (in workflow-id order, so findings come out in a
stable order) and returns one :class:`~corps.replay.verification.Verification`. A fourth, cheap check
reads the orchestrator's state changelog when it was replayed: the chain head it committed for each
workflow must be the last link the decision log holds, so a chain cut short at its end is caught too.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from pydantic import ValidationError

from corps.events import EventCodec
from corps.events.errors import RecordError, RegistryError
from corps.orchestrator.driver import ORCHESTRATOR_SOURCE
from corps.orchestrator.gate import DECISION_SOURCE
from corps.orchestrator.policy import GateContext
from corps.orchestrator.policy import ProposedEvent as GateEvent
from corps.orchestrator.store import WorkflowRecord
from corps.replay.coverage import Coverage
from corps.replay.records import LogRecord
from corps.replay.topics import ReplayTopics, Role
from corps.replay.verification import Check, Finding, Severity, Verification
from corps.replay.verify_chain import ChainResult, verify_chain
from corps.replay.verify_policy import DecidedEvent, DecisionReevaluator, GateChecks, reevaluate_decisions
from corps.replay.verify_state import StateRederiver
from corps.topology import Topology

__all__ = ["verify_log"]

_OWN_SOURCES = (ORCHESTRATOR_SOURCE, DECISION_SOURCE)


def verify_log(
    records: Mapping[str, Sequence[LogRecord]],
    *,
    topology: Topology,
    topics: ReplayTopics,
    codec: EventCodec,
    coverage: Coverage,
    reevaluators: Sequence[DecisionReevaluator] | None = None,
) -> Verification:
    """Verify every workflow in ``records`` (workflow id -> all its records read, any topic, any order).

    Args:
        records: The records of the workflows to verify.
        topology: The topology.
        topics: Its topics.
        codec: Decodes events and encodes what re-derivation writes (subjects ``TopologyTopics.subject``).
        coverage: What was read (tells "missing" from "not read").
        reevaluators: Who re-takes gate decisions (default: the gate's own checks only).
    """
    out = Verification()
    decisions = topics.topics.decisions
    if not coverage.read(decisions):
        out.add(
            Finding(
                Check.CHAIN,
                "not-read",
                Severity.NOTE,
                "",
                f"the decision log {decisions} was not replayed: nothing to verify against",
            )
        )
        return out
    event_topics = {topology.schema_fullname(name): topic for name, topic in topics.topics.admitted.items()}
    orchestrated = any(r.source == ORCHESTRATOR_SOURCE for recs in records.values() for r in recs)
    rederiver = StateRederiver(topology, codec, topics) if orchestrated else None
    if rederiver is None:
        out.add(
            Finding(
                Check.STATE,
                "not-rederived",
                Severity.NOTE,
                "",
                "the log holds no orchestrator events (the gate ran alone): state not re-derived",
            )
        )
    decided: list[DecidedEvent] = []
    state_topic = topics.topics.state
    for workflow_id in sorted(records):
        workflow_records = records[workflow_id]
        if all(r.topic == state_topic for r in workflow_records):
            continue  # the gate's policy counters, kept in the changelog
        chain = verify_chain(workflow_id, workflow_records, topics, coverage, out, event_topics=event_topics)
        if rederiver is not None:
            rederiver.rederive(chain, out)
        decided.extend(_decided(chain, workflow_records, topology, topics, codec))
        if coverage.to_time_ms is None:
            _state_head(chain, workflow_records, topics, out)
    reevaluate_decisions(decided, [*(reevaluators or ()), GateChecks()], out)
    return out


def _decided(
    chain: ChainResult,
    records: Sequence[LogRecord],
    topology: Topology,
    topics: ReplayTopics,
    codec: EventCodec,
) -> list[DecidedEvent]:
    """The gate's decisions about proposed events of one chain, with the events they decided about.

    The events the orchestrator and the gate write themselves (lifecycle events, approval requests)
    are not decisions about proposed events: re-derivation checks the former.
    """
    proposed_roles = (Role.PROPOSED, Role.LIFECYCLE_PROPOSED)
    proposed: dict[str, list[LogRecord]] = {}
    for record in records:
        if record.event_id is not None and topics.roles.get(record.topic) in proposed_roles:
            proposed.setdefault(record.event_id, []).append(record)
    found: list[DecidedEvent] = []
    admitted: set[str] = set()
    for verified in chain.links:
        link, event = verified.link, verified.event
        if event is not None and event.source in _OWN_SOURCES and link.admitting:
            continue
        copies = sorted(proposed.get(link.event_id, []), key=LogRecord.position)
        proposal = event if event is not None and not link.admitting else (copies[0] if copies else None)
        copy = event if event is not None and link.admitting else None
        source = proposal or event
        earlier = frozenset(admitted)
        if link.admitting:
            admitted.add(link.event_id)
        if source is None:
            continue  # reported by the chain check
        try:
            envelope, data = codec.decode_datum(source.raw())
        except (RecordError, RegistryError):
            continue  # a refusal of an undecodable record: nothing to re-evaluate
        gate_event = context = None
        if proposal is not None:
            event_name = topics.event_names.get(proposal.topic)
            target = topics.topics.admitted[event_name] if event_name else topics.topics.lifecycle
            gate_event = GateEvent(envelope, data, event_name, proposal.raw(), target)
            when = link.record.timestamp_ms
            now = datetime.fromtimestamp(when / 1000, UTC) if when is not None else envelope.time
            context = GateContext(topology, link.sequence, now)
        found.append(
            DecidedEvent(
                chain.workflow_id, link, envelope, data, proposal, copy, earlier, gate_event, context
            )
        )
    return found


def _state_head(
    chain: ChainResult, records: Sequence[LogRecord], topics: ReplayTopics, out: Verification
) -> None:
    state_topic = topics.topics.state
    states = sorted((r for r in records if r.topic == state_topic and r.value), key=LogRecord.position)
    if not states or not chain.links:
        return
    latest = states[-1]
    try:
        head = WorkflowRecord.model_validate_json(latest.value or b"")
    except ValidationError as exc:
        out.add(
            Finding(
                Check.CHAIN,
                "unreadable-state",
                Severity.ERROR,
                chain.workflow_id,
                f"the orchestrator's state record cannot be read: {exc.errors()[0]['msg']}",
                location=latest.describe(),
            )
        )
        return
    last = chain.links[-1].link
    out.count("state_heads")
    if head.chain_sequence > last.sequence + 1:
        out.add(
            Finding(
                Check.CHAIN,
                "truncated",
                Severity.ERROR,
                chain.workflow_id,
                f"the orchestrator committed {head.chain_sequence} links, the decision log ends at link "
                f"{last.sequence}: links {last.sequence + 1}..{head.chain_sequence - 1} are missing",
                sequence=last.sequence + 1,
                location=latest.describe(),
            )
        )
    elif head.chain_sequence < last.sequence + 1:
        out.add(
            Finding(
                Check.CHAIN,
                "extra-links",
                Severity.ERROR,
                chain.workflow_id,
                f"the decision log holds links up to {last.sequence}, but the orchestrator committed only "
                f"{head.chain_sequence}: links {head.chain_sequence}..{last.sequence} were not written by it",
                sequence=head.chain_sequence,
                location=latest.describe(),
            )
        )
    elif head.chain_hash != last.hash:
        out.add(
            Finding(
                Check.CHAIN,
                "link-altered",
                Severity.ERROR,
                chain.workflow_id,
                f"the orchestrator committed chain head {head.chain_hash[:16]}…, the log's last link "
                f"hashes to {last.hash[:16]}…",
                sequence=last.sequence,
                location=latest.describe(),
            )
        )
