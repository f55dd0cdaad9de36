"""Run one agent: check its topics and schemas, start the engine, announce it, stop it cleanly.

Typical use (the CLI does this; tests do it in-process)::

    async with AgentWorker(agent, settings) as worker:
        await worker.run(stop)          # until stop is set; the batch in flight is committed
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType

from opentelemetry.trace import TracerProvider

from corps.errors import ConfigurationError
from corps.events import EventCodec, EventModel, SchemaRegistry
from corps.events.errors import SchemaNotRegisteredError
from corps.events.lifecycle import CompensationCompleted, CompensationFailed, StepFailed
from corps.runtime.announcement import Announcement, EventContract
from corps.runtime.definition import Agent
from corps.runtime.engine import Engine, KafkaEngine
from corps.runtime.metrics import AgentMetrics
from corps.runtime.presence import Presence
from corps.runtime.processor import Processor
from corps.runtime.settings import AgentSettings
from corps.runtime.topics import TopicAdmin
from corps.runtime.tracing import Tracing

__all__ = ["AgentWorker"]

_log = logging.getLogger("corps.runtime")


class AgentWorker:
    """One replica of an agent: an ``async with`` lifecycle around the engine and the heartbeats.

    Args:
        agent: The agent definition.
        settings: The process settings.
        tracer_provider: Where spans go (``None``: no spans; trace context still propagates).
        metrics: The metrics sink (a fresh one by default).
        clock: Wall clock in seconds (tests inject one).
        rng: Randomness for backoff jitter.
    """

    def __init__(
        self,
        agent: Agent,
        settings: AgentSettings,
        *,
        tracer_provider: TracerProvider | None = None,
        metrics: AgentMetrics | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.agent = agent
        self.settings = settings
        self.metrics = metrics or AgentMetrics(agent.name)
        self.group_id = settings.group_id or agent.name
        self.replica_id = settings.instance_id or uuid.uuid4().hex[:12]
        self._registry = SchemaRegistry(settings.registry)
        self.codec = EventCodec(self._registry, subject_strategy=settings.routing.subject)
        tracing = Tracing(agent.name, tracer_provider)
        self.processor = Processor(
            agent, settings, self.codec, tracing=tracing, metrics=self.metrics, clock=clock, rng=rng
        )
        self.engine: Engine = KafkaEngine(
            self.processor,
            settings,
            group_id=self.group_id,
            transactional_id=f"corps-{self.group_id}-{self.replica_id}",
            metrics=self.metrics,
        )
        self._clock = clock
        self._presence: Presence | None = None
        self.metrics_port: int | None = None

    async def __aenter__(self) -> AgentWorker:
        await asyncio.to_thread(self._prepare)
        await self.engine.start()
        telemetry = self.settings.telemetry
        if telemetry.metrics_port is not None:
            self.metrics_port = self.metrics.serve(telemetry.metrics_port, telemetry.metrics_host)
        self._presence = Presence(
            self._announcement(),
            self.settings.kafka.client_config(),
            self.settings.topics.registry,
            self._clock,
        )
        await self._presence.start()
        _log.info("agent %s %s started (replica %s)", self.agent.name, self.agent.version, self.replica_id)
        return self

    async def run(self, stop: asyncio.Event) -> None:
        """Handle events until ``stop`` is set."""
        await self.engine.run(stop)

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            await self.engine.close()
        finally:
            if self._presence is not None:
                await self._presence.stop()
            self.metrics.close()
            self._registry.close()
            _log.info("agent %s stopped (replica %s)", self.agent.name, self.replica_id)

    # -- start-up checks ----------------------------------------------------------------------------------

    def _lifecycle_models(self) -> list[type[EventModel]]:
        models: list[type[EventModel]] = [StepFailed] if self.agent.handlers else []
        if self.agent.compensations:
            models += [CompensationCompleted, CompensationFailed]
        return models

    def _prepare(self) -> None:
        """Check topics, create the runtime's own, and resolve every output schema id (fail fast)."""
        routing, topics = self.settings.routing, self.settings.topics
        admin = TopicAdmin(self.settings.kafka.client_config())
        inputs = admin.require(self.processor.input_topics, f"agent {self.agent.name}: input")
        outputs = [routing.output_topic(m.event_type) for m in self.agent.produces]
        admin.require([*outputs, routing.lifecycle], f"agent {self.agent.name}: output")
        if topics.create:
            partitions = max(inputs.values())
            admin.ensure(self.processor.retry_topics, partitions=partitions, replication=topics.replication)
            admin.ensure(
                [self.processor.dead_letter_topic],
                partitions=partitions,
                replication=topics.replication,
                config={"max.message.bytes": str(topics.dead_letter_max_bytes)},
            )
            admin.ensure(
                [topics.registry],
                partitions=1,
                replication=topics.replication,
                config={"cleanup.policy": "compact"},
            )
        else:
            admin.require([*self.processor.retry_topics, self.processor.dead_letter_topic], "runtime")
        wanted = [(routing.output_topic(m.event_type), m) for m in self.agent.produces]
        wanted += [(routing.lifecycle, m) for m in self._lifecycle_models()]
        for topic, model in wanted:
            try:
                self.codec.prepare(topic, model.schema_ref())
            except SchemaNotRegisteredError as exc:
                subject = routing.subject(topic, model.event_type)
                raise ConfigurationError(
                    f"agent {self.agent.name}: {model.event_type} v{model.schema_version} is not registered "
                    f"for topic {topic} (subject {subject}); register the schemas (`corps schemas register` "
                    "or `corps topology apply`)"
                ) from exc

    def _announcement(self) -> Announcement:
        routing = self.settings.routing
        now = datetime.fromtimestamp(self._clock(), UTC)

        def contract(model: type[EventModel], topic: str) -> EventContract:
            return EventContract(
                event_type=model.event_type,
                topic=topic,
                subject=routing.subject(topic, model.event_type),
                schema_version=model.schema_version,
            )

        return Announcement(
            agent=self.agent.name,
            version=self.agent.version,
            replica_id=self.replica_id,
            capabilities=tuple(self.agent.capabilities),
            description=self.agent.description,
            consumes=tuple(contract(m, routing.input_topic(m.event_type)) for m in self.agent.consumes),
            produces=tuple(contract(m, routing.output_topic(m.event_type)) for m in self.agent.produces),
            host=socket.gethostname(),
            pid=os.getpid(),
            group_id=self.group_id,
            delivery=self.settings.delivery,
            started_at=now,
            heartbeat_at=now,
            heartbeat_interval_s=self.settings.telemetry.heartbeat_interval_s,
        )
