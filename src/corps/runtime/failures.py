"""The unhappy paths of a record: a delayed retry, a StepFailed / CompensationFailed report, a dead letter.

Split from :mod:`corps.runtime.processor` (the happy path): these are rare, so they favour clarity over
speed. Every result is an :class:`~corps.runtime.outcome.Outcome` the engine produces in the same
commit unit as the input offset.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

from corps.events import Envelope, EventModel, RawRecord
from corps.events.lifecycle import CompensationFailed, StepFailed
from corps.runtime.definition import HandlerDefinition
from corps.runtime.dlq import DeadLetterReason, dead_letter_headers
from corps.runtime.emit import OutputEncoder, OutputHeaders
from corps.runtime.errors import Failure
from corps.runtime.metrics import AgentMetrics
from corps.runtime.outcome import Out, Outcome, Status, output_id
from corps.runtime.retry import RetryHeaders, RetryPolicy, retry_topic, strip_retry_headers
from corps.runtime.settings import AgentSettings

__all__ = ["Failures"]


class Failures:
    """Builds the outcome of a failed handler call or of a poison record.

    Args:
        agent: The agent's name.
        settings: The process settings (topics, routing).
        encoder: Encodes the lifecycle reports.
        metrics: Metrics sink.
        clock: Wall clock in seconds.
        rng: Randomness for backoff jitter.
        tiers: How many retry tiers the agent has.
    """

    def __init__(
        self,
        agent: str,
        settings: AgentSettings,
        encoder: OutputEncoder,
        metrics: AgentMetrics,
        clock: Callable[[], float],
        rng: random.Random,
        tiers: int,
    ) -> None:
        self.agent = agent
        self.settings = settings
        self.encoder = encoder
        self.metrics = metrics
        self.clock = clock
        self.rng = rng
        self.tiers = tiers
        self.dead_letter_topic = settings.topics.dead_letter_template.format(agent=agent)

    def failed(
        self,
        raw: RawRecord,
        origin: str,
        definition: HandlerDefinition,
        policy: RetryPolicy,
        env: Envelope,
        attempt: int,
        failure: Failure,
        step: str,
    ) -> Outcome:
        """A retry on the next tier while attempts remain and the error is retriable, else a failure report.

        Args:
            raw: The record as consumed (a retry re-sends its bytes unchanged).
            origin: The input topic the record first came from.
            definition: The handler that failed.
            policy: Its retry policy.
            env: The decoded envelope of the record.
            attempt: This attempt's number (1 for the first delivery).
            failure: The classified error.
            step: The step name reports carry.
        """
        now = self.clock()
        if failure.retriable and not policy.exhausted(attempt):
            delay = failure.retry_after
            if delay is None:
                delay = policy.delay(attempt, self.rng)
            headers = RetryHeaders(
                attempt=attempt + 1,
                due_ms=int((now + delay) * 1000),
                origin=origin,
                last_error=f"{failure.code}: {failure.message}",
            )
            topic = retry_topic(self.settings.topics.retry_template, self.agent, min(attempt, self.tiers))
            self.metrics.retry(definition.event_type, failure.code)
            out = Out(topic, raw.key, raw.value, [*strip_retry_headers(raw.headers), *headers.to_headers()])
            return Outcome(Status.RETRY, [out], failure.message)
        report: EventModel
        if definition.kind == "compensation":
            report = CompensationFailed(
                step=step,
                agent=self.agent,
                code=failure.code.value,
                attempts=attempt,
                last_error=failure.message,
            )
        else:
            report = StepFailed(
                step=step,
                agent=self.agent,
                code=failure.code.value,
                attempts=attempt,
                last_error=failure.message,
                retryable=failure.retriable,
            )
        self.metrics.step_failed(failure.code)
        shared = OutputHeaders.of(
            time=datetime.fromtimestamp(now, UTC),
            tenant=env.tenant,
            workflow_id=env.workflow_id,
            causation_id=env.id,
            step=step,
            traceparent=env.traceparent,
            tracestate=env.tracestate,
        )
        topic = self.settings.routing.lifecycle
        value, out_headers = self.encoder.encode(
            topic, report, output_id(env.id, self.agent, "failed"), shared
        )
        return Outcome(Status.FAILED, [Out(topic, shared.workflow_id, value, out_headers)], failure.message)

    def dead_letter(self, raw: RawRecord, reason: DeadLetterReason | str, detail: str) -> Outcome:
        """The record, bytes intact, on the dead-letter topic with the reason in its headers."""
        self.metrics.dead_letter(str(reason))
        headers = dead_letter_headers(
            raw.headers,
            reason=reason,
            detail=detail,
            agent=self.agent,
            topic=raw.topic,
            partition=raw.partition,
            offset=raw.offset,
            time_ms=int(self.clock() * 1000),
        )
        return Outcome(Status.DEAD_LETTER, [Out(self.dead_letter_topic, raw.key, raw.value, headers)], detail)
