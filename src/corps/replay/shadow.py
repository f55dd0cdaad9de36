"""Shadow replay: run recorded events through an agent's handlers without publishing, and compare.

For every admitted event in the range that the agent handles (and every CompensationRequested
addressed to it), the handler is called exactly as the runtime would call it — the event decoded
with the handler's own model (so a new version reading another schema version is exercised), the
event context bound — inside :func:`~corps.replay.recording.replaying`, so recorded tool and LLM calls
are substituted and unrecorded ones refused (or run, when live calls are allowed). Nothing is
produced. What it would emit is compared with what the agent emitted for that event (the records
it caused: ``ce_causationid`` = the event, ``ce_source`` = the agent), output by output and field by
field.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from corps.events import EventCodec, EventModel
from corps.events.errors import RecordError, RegistryError
from corps.events.lifecycle import CompensationFailed, CompensationRequested, StepFailed
from corps.replay.errors import UnrecordedCallError
from corps.replay.recording import CallTape, replaying
from corps.replay.records import LogRecord
from corps.replay.render_jsonl import jsonable
from corps.replay.shadow_cases import Output, ShadowCase, ShadowReport, compare
from corps.replay.topics import ReplayTopics, Role
from corps.runtime import Agent, EventContext, bind_context
from corps.runtime.definition import HandlerDefinition
from corps.runtime.processor import output_id

__all__ = ["ShadowCase", "ShadowReport", "shadow_run"]

_FAILURES = (StepFailed.event_type, CompensationFailed.event_type)
_DEFAULT_TIMEOUT_S = 30.0


def _outputs(result: object) -> list[EventModel]:
    if result is None:
        return []
    if isinstance(result, EventModel):
        return [result]
    if isinstance(result, list | tuple) and all(isinstance(item, EventModel) for item in result):
        return list(result)
    raise TypeError(f"the handler returned {type(result).__name__}, not events")


class _Shadow:
    def __init__(
        self, agent: Agent, codec: EventCodec, topics: ReplayTopics, tape: CallTape | None, live: bool
    ):
        self.agent = agent
        self.codec = codec
        self.topics = topics
        self.tape = tape
        self.live = live
        self.loop = asyncio.new_event_loop()

    def definition(self, record: LogRecord) -> HandlerDefinition | None:
        role = self.topics.roles.get(record.topic)
        if role not in (Role.ADMITTED, Role.LIFECYCLE) or record.event_type is None:
            return None
        definition = self.agent.definitions.get(record.event_type)
        if definition is None:
            return None
        compensation = record.event_type == CompensationRequested.event_type
        if compensation and (record.data or {}).get("agent") != self.agent.name:
            return None
        return definition

    def run(
        self, record: LogRecord, definition: HandlerDefinition, caused: Sequence[LogRecord]
    ) -> ShadowCase:
        case = ShadowCase(record)
        self._recorded(case, caused)
        try:
            event = self.codec.decode(record.raw(), definition.event_model)
        except (RecordError, RegistryError) as exc:
            case.error = f"cannot decode the input with {definition.event_model.__name__}: {exc}"
            case.differences.append(case.error)
            return case
        env = event.envelope
        context = EventContext(
            agent=self.agent.name,
            event_id=env.id,
            event_type=env.type,
            workflow_id=env.workflow_id,
            tenant=env.tenant,
            source=env.source,
            causation_id=env.causation_id,
            step=env.step,
            attempt=1,
            time=env.time,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
        )
        timeout = definition.timeout or _DEFAULT_TIMEOUT_S
        with bind_context(context), replaying(env.id, self.agent.name, self.tape, live=self.live) as uses:
            try:
                result = self.loop.run_until_complete(
                    asyncio.wait_for(definition.invoke(event.payload), timeout)
                )
                case.would_emit = [Output(m.event_type, jsonable(m.to_avro())) for m in _outputs(result)]
            except UnrecordedCallError as exc:
                case.error = f"not replayable: {exc}"
            except Exception as exc:  # the handler's own failure is a result to compare
                case.error = f"{type(exc).__name__}: {exc}"
            case.calls = list(uses)
        compare(case)
        return case

    def _recorded(self, case: ShadowCase, caused: Sequence[LogRecord]) -> None:
        by_id: dict[str, LogRecord] = {}
        proposed = (Role.PROPOSED, Role.LIFECYCLE_PROPOSED)
        # The proposed copy is what the agent wrote (the admitted one may be redacted by the gate).
        for record in sorted(
            caused, key=lambda r: (self.topics.roles.get(r.topic) not in proposed, r.position())
        ):
            if record.event_id is not None:
                by_id.setdefault(record.event_id, record)
        index = self._output_index(case.input.event_id or "", len(by_id))
        for record in sorted(
            by_id.values(),
            key=lambda r: (
                index.get(r.event_id or "", 1 << 30),
                r.time.timestamp() if r.time else 0.0,
                r.position(),
            ),
        ):
            if record.event_type in _FAILURES:
                data = record.data or {}
                case.recorded_failure = f"{data.get('code', '?')}: {data.get('last_error', '')}"
            elif self.topics.roles.get(record.topic) in (Role.PROPOSED, Role.ADMITTED):
                case.emitted.append(Output(record.event_type or "?", jsonable(record.data or {})))

    def _output_index(self, input_id: str, count: int) -> dict[str, int]:
        """The runtime names the n-th output of an input deterministically: the order it emitted them in."""
        return {output_id(input_id, self.agent.name, n): n for n in range(count)}


def shadow_run(
    agent: Agent,
    records: Sequence[LogRecord],
    codec: EventCodec,
    topics: ReplayTopics,
    *,
    tape: CallTape | None = None,
    live_calls: bool = False,
    workflows: Mapping[str, Any] | None = None,
) -> ShadowReport:
    """Run every event of ``records`` that ``agent`` handles through it; nothing is published.

    Args:
        agent: The agent (a new version, typically).
        records: The replayed records (admitted topics give the inputs; proposed ones what it emitted).
        codec: Decodes inputs with the handlers' models.
        topics: The topology's topics.
        tape: Recorded tool / LLM calls to substitute.
        live_calls: Run calls that were not recorded (off: such a case is reported as not replayable).
        workflows: Only these workflow ids (default: all).
    """
    shadow = _Shadow(agent, codec, topics, tape, live_calls)
    caused: dict[str, list[LogRecord]] = {}
    for record in records:
        if record.causation_id is not None and record.source == agent.name:
            caused.setdefault(record.causation_id, []).append(record)
    report = ShadowReport(agent.name, agent.version)
    seen: set[str] = set()
    inputs = sorted(
        (r for r in records if workflows is None or r.workflow in workflows),
        key=lambda r: (r.workflow, r.time.timestamp() if r.time else 0.0, r.position()),
    )
    try:
        for record in inputs:
            definition = shadow.definition(record)
            if definition is None or record.event_id is None or record.event_id in seen:
                continue
            seen.add(record.event_id)
            report.cases.append(shadow.run(record, definition, caused.get(record.event_id, [])))
    finally:
        shadow.loop.close()
    return report
