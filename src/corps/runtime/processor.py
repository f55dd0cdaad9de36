"""Turn one consumed record into the records to produce: outputs, a retry, a StepFailed or a dead letter.

This is the engine-independent heart of the runtime. It never talks to Kafka: the engine hands it a
:class:`~corps.events.RawRecord` and produces what :meth:`Processor.process` returns (in the same
transaction as the input offset when delivery is exactly-once). Poison records become dead letters;
handler failures become retries or lifecycle failure events (:mod:`corps.runtime.failures`); nothing
here crashes on bad input. Registry errors propagate: a registry outage is not the record's fault (the
engine retries the batch), and a missing output schema is a deployment error that must stop the agent.

The happy path is the hot path (tens of thousands of records a second per process), so it avoids what
costs per record without buying anything: no span unless tracing is on, the event context is bound as
a tuple and made into an :class:`~corps.runtime.context.EventContext` only when read, metrics are
gathered in dicts and applied once per batch, and outputs are named tuples.
"""

from __future__ import annotations

import asyncio
import random
import time
import typing
from collections.abc import Callable
from datetime import UTC, datetime

from corps.events import Envelope, EventCodec, EventModel, RawRecord
from corps.events.errors import RecordError, RegistryError
from corps.events.lifecycle import CompensationCompleted, CompensationRequested
from corps.runtime.context import _CURRENT
from corps.runtime.definition import Agent, HandlerDefinition
from corps.runtime.dlq import DeadLetterReason
from corps.runtime.eager import Rest, start
from corps.runtime.emit import OutputEncoder, OutputHeaders
from corps.runtime.errors import NonRetryableError, classify
from corps.runtime.failures import Failures
from corps.runtime.metrics import AgentMetrics
from corps.runtime.outcome import Out, Outcome, Status, output_id
from corps.runtime.retry import RetryHeaderError, RetryHeaders, RetryPolicy, retry_topic, strip_retry_headers
from corps.runtime.settings import AgentSettings
from corps.runtime.tracing import SpanHandle, Tracing

__all__ = ["Out", "Outcome", "Processor", "Status", "output_id"]


class Processor:
    """Decodes, dispatches to the agent's handler, encodes the result; one record at a time.

    Args:
        agent: The agent definition.
        settings: The process settings (routing, retry, timeouts).
        codec: The event codec (its subject strategy must be ``settings.routing.subject``).
        tracing: Span factory.
        metrics: Metrics sink.
        clock: Wall clock in seconds (injected for tests).
        rng: Randomness for backoff jitter (injected for tests).
    """

    def __init__(
        self,
        agent: Agent,
        settings: AgentSettings,
        codec: EventCodec,
        *,
        tracing: Tracing,
        metrics: AgentMetrics,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.agent = agent
        self.settings = settings
        self.codec = codec
        self.tracing = tracing
        self.metrics = metrics
        self._clock = clock
        self._defs = agent.definitions
        self._by_type = {t.encode(): d for t, d in self._defs.items()}
        self._encoder = OutputEncoder(codec, agent.name)
        self._steps = {
            t: settings.routing.steps.get(t) or agent.name
            for t, d in self._defs.items()
            if d.kind == "handler"
        }
        self._time_cache: tuple[int, bytes] = (-1, b"")
        self._produced = agent.produced_types
        routing = settings.routing
        self._multi = routing.multi_type_topics
        self._out_topics = {t: routing.output_topic(t) for t in self._produced}
        self.tiers = max(self.policy(d).tiers for d in self._defs.values())
        tpl = settings.topics.retry_template
        self.retry_topics = {retry_topic(tpl, agent.name, t): t for t in range(1, self.tiers + 1)}
        self.input_topics = sorted({routing.input_topic(t) for t in self._defs})
        self._max_bytes = settings.max_record_bytes
        rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography
        self.failures = Failures(agent.name, settings, self._encoder, metrics, clock, rng, self.tiers)
        self.dead_letter_topic = self.failures.dead_letter_topic

    def policy(self, definition: HandlerDefinition) -> RetryPolicy:
        """The retry policy of a handler: settings override, else the decorator's, else the default."""
        override = self.settings.handlers.get(definition.event_type)
        return (override and override.retry) or definition.retry or self.settings.retry

    def timeout(self, definition: HandlerDefinition) -> float:
        """The time budget of one call of a handler, in seconds (same precedence as :meth:`policy`)."""
        override = self.settings.handlers.get(definition.event_type)
        return (override and override.timeout_s) or definition.timeout or self.settings.handler_timeout_s

    def due_ms(self, raw: RawRecord) -> int | None:
        """When a retry-topic record may be handled (epoch ms); ``None`` for input records or bad headers."""
        if raw.topic not in self.retry_topics:
            return None
        for name, value in raw.headers:
            if name == "corps_retry_due_ms" and value is not None:
                try:
                    return int(value)
                except ValueError:
                    return None
        return None

    # -- the record path ----------------------------------------------------------------------------------

    async def process(self, raw: RawRecord) -> Outcome:
        """Process one record and return what to produce.

        Raises:
            RegistryError: The registry is unreachable or an output schema is not registered.
        """
        attempt = 1
        view = raw
        if raw.topic in self.retry_topics:
            try:
                rh = RetryHeaders.from_headers({k: v or b"" for k, v in raw.headers})
            except RetryHeaderError as exc:
                return self.failures.dead_letter(raw, DeadLetterReason.BAD_RETRY_HEADERS, str(exc))
            attempt = rh.attempt
            headers = strip_retry_headers(raw.headers)
            view = RawRecord(
                rh.origin, raw.partition, raw.offset, raw.key, raw.value, headers, raw.timestamp_ms
            )
        value, key = raw.value, raw.key
        size = (len(value) if value else 0) + (len(key) if key else 0)
        if size > self._max_bytes:
            detail = f"{size} bytes exceed max_record_bytes {self._max_bytes}"
            return self.failures.dead_letter(raw, DeadLetterReason.RECORD_TOO_LARGE, detail)
        ce_type = None
        for name, header in view.headers:
            if name == "ce_type":
                ce_type = header  # the last one wins, as RawRecord.header reads it
        definition = self._by_type.get(ce_type) if ce_type else None
        if definition is None:
            if ce_type is not None and view.topic in self._multi:
                self.metrics.ignored()
                return Outcome(Status.IGNORED)
            what = "no ce_type header" if ce_type is None else f"no handler for ce_type {ce_type!r}"
            reason = (
                DeadLetterReason.BAD_ENVELOPE if ce_type is None else DeadLetterReason.UNEXPECTED_EVENT_TYPE
            )
            return self.failures.dead_letter(raw, reason, f"{raw.describe()}: {what}")
        try:
            event = self.codec.decode(view, definition.event_model)
        except RecordError as exc:
            return self.failures.dead_letter(raw, exc.reason, str(exc))
        payload = event.payload
        event_type = definition.event_model.event_type
        if definition.kind == "compensation":
            if getattr(payload, "agent", self.agent.name) != self.agent.name:
                self.metrics.ignored()
                return Outcome(Status.IGNORED)
            step = self._step(payload)
        else:
            step = self._steps[event_type]
        self.metrics.event_in(event_type)
        env = event.envelope
        if not self.tracing.enabled:  # the common fast path: pass the caller's trace context on
            return await self._run(raw, view, definition, env, payload, attempt, step, None)
        attrs: dict[str, str | int] = {
            "corps.workflow_id": env.workflow_id,
            "corps.event_id": env.id,
            "corps.attempt": attempt,
        }
        with self.tracing.span(
            event_type, traceparent=env.traceparent, tracestate=env.tracestate, attributes=attrs
        ) as span:
            return await self._run(raw, view, definition, env, payload, attempt, step, span)

    async def _run(
        self,
        raw: RawRecord,
        view: RawRecord,
        definition: HandlerDefinition,
        env: Envelope,
        payload: EventModel,
        attempt: int,
        step: str,
        span: SpanHandle | None,
    ) -> Outcome:
        agent = self.agent.name
        if span is None:
            traceparent, tracestate = env.traceparent, env.tracestate
        else:
            traceparent, tracestate = span.traceparent, span.tracestate
        token = _CURRENT.set(  # the fields of an EventContext; made into one only if read
            (
                agent, env.id, env.type, env.workflow_id, env.tenant, env.source, env.causation_id,
                env.step, attempt, env.time, view.topic, raw.partition, raw.offset, traceparent or "",
            )
        )  # fmt: skip
        started = time.perf_counter()
        try:
            if definition.is_async:  # started eagerly: only a handler that really waits costs a timer
                finished, result = start(definition.fn(payload))
                if not finished:
                    rest = typing.cast(Rest[object], result)
                    result = await asyncio.wait_for(rest, self.timeout(definition))
            else:
                result = definition.fn(payload)
            outputs = self._outputs(definition, result)
            shared = OutputHeaders(
                self._time_bytes(),
                env.tenant.encode(),
                env.workflow_id.encode(),
                env.id.encode(),
                step.encode(),
                None if traceparent is None else traceparent.encode(),
                None if tracestate is None else tracestate.encode(),
            )
            records = [self._emit(m, shared, output_id(env.id, agent, i)) for i, m in enumerate(outputs)]
            if definition.kind == "compensation":
                first = output_id(env.id, agent, 0) if outputs else None
                done = CompensationCompleted(step=step, agent=agent, compensation_event_id=first)
                topic = self.settings.routing.lifecycle
                value, headers = self._encoder.encode(topic, done, output_id(env.id, agent, "done"), shared)
                records.append(Out(topic, shared.workflow_id, value, headers))
        except RegistryError:
            raise
        except Exception as exc:
            failure = classify(exc)
            if span is not None:
                span.fail(failure.code, failure.message)
            policy = self.policy(definition)
            return self.failures.failed(raw, view.topic, definition, policy, env, attempt, failure, step)
        finally:
            _CURRENT.reset(token)
            self.metrics.handler_latency(definition.event_model.event_type, time.perf_counter() - started)
        event_out = self.metrics.event_out
        for m in outputs:
            event_out(m.event_type)
        return Outcome(Status.HANDLED, records)

    def _time_bytes(self) -> bytes:
        """``ce_time`` of outputs made now, RFC 3339 in UTC (cached per millisecond)."""
        ms = int(self._clock() * 1000)
        if ms != self._time_cache[0]:
            text = datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")
            self._time_cache = (ms, text.replace("+00:00", "Z").encode())
        return self._time_cache[1]

    def _step(self, payload: EventModel) -> str:
        """The step of a compensation request (it names the step to undo); else the agent's name."""
        return payload.step if isinstance(payload, CompensationRequested) else self.agent.name

    def _outputs(self, definition: HandlerDefinition, result: object) -> list[EventModel]:
        if result is None:
            return []
        items = [result] if isinstance(result, EventModel) else result
        if not isinstance(items, list | tuple):
            raise NonRetryableError(f"{definition.name} returned {type(result).__name__}, not events")
        for item in items:
            if not isinstance(item, EventModel):
                raise NonRetryableError(
                    f"{definition.name} returned {type(item).__name__}, not an event model"
                )
            if item.event_type not in self._produced:
                raise NonRetryableError(
                    f"{definition.name} returned {item.event_type}, which agent {self.agent.name!r} does not "
                    "declare in produces"
                )
        return items if items.__class__ is list else list(items)

    def _emit(self, payload: EventModel, shared: OutputHeaders, event_id: str) -> Out:
        topic = self._out_topics[payload.event_type]
        value, headers = self._encoder.encode(topic, payload, event_id, shared)
        return Out(topic, shared.workflow_id, value, headers)
