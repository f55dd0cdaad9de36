"""``corps.Client``: publish typed events from scripts, services and tests.

The client is synchronous on purpose: confluent-kafka's producer is synchronous and callback-driven,
and the common callers (scripts, the CLI, request handlers handing a task to corps) want "it is on the
log" before they go on. :meth:`Client.publish` returns once the broker acknowledged the record
(acks=all, idempotent producer); :meth:`Client.publish_nowait` plus :meth:`Client.flush` is the
throughput path. From asyncio code, call it through ``asyncio.to_thread``. Agents do not use the client:
the runtime encodes with the same codec and envelope.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from corps.errors import ConfigurationError
from corps.events import (
    DeliveryReport,
    Envelope,
    EventCodec,
    EventModel,
    EventProducer,
    SchemaRegistry,
    default_topic,
    topic_name_strategy,
)
from corps.events.errors import DeliveryError
from corps.events.subjects import SubjectNameStrategy
from corps.settings import CorpsSettings, KafkaSettings, RegistrySettings

__all__ = ["Client", "Published"]


@dataclass(frozen=True)
class Published:
    """Where an event landed: its envelope and its topic, partition and offset."""

    envelope: Envelope
    topic: str
    partition: int
    offset: int


class Client:
    """Publishes :class:`~corps.events.EventModel` payloads with a CloudEvents envelope.

    Args:
        kafka: How to reach the cluster.
        registry: How to reach the schema registry.
        tenant: Tenant of events published without one.
        source: CloudEvents ``source`` of the events.
        topics: Topic per event type; an event type not listed goes to the topic named like it.
        subject_strategy: Registry subject per (topic, event type); ``<topic>-value`` by default.
        auto_register: Register a missing writer schema instead of failing (off: register schemas in
            order with ``corps schemas register`` or a topology apply).
        producer_config: Extra librdkafka producer settings.
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        registry: RegistrySettings,
        *,
        tenant: str = "default",
        source: str = "corps://client",
        topics: Mapping[str, str] | None = None,
        subject_strategy: SubjectNameStrategy = topic_name_strategy,
        auto_register: bool = False,
        producer_config: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        self.tenant = tenant
        self.source = source
        self._topics = dict(topics or {})
        self._registry = SchemaRegistry(registry)
        self.codec = EventCodec(
            self._registry, subject_strategy=subject_strategy, auto_register=auto_register
        )
        self._producer = EventProducer(kafka, client_id="corps-client", config=producer_config)
        self._connected = False
        self._failures: list[str] = []

    @classmethod
    def from_settings(cls, settings: CorpsSettings, **options: Any) -> Client:
        """Build a client from process settings (``CorpsSettings.from_env`` in an entrypoint).

        Raises:
            ConfigurationError: The settings name no Kafka cluster or no registry.
        """
        if settings.kafka is None or settings.registry is None:
            raise ConfigurationError("corps.Client needs both Kafka and schema registry settings")
        return cls(settings.kafka, settings.registry, **options)

    def topic_for(self, event_type: str) -> str:
        """Return the topic events of ``event_type`` are published to."""
        return self._topics.get(event_type) or default_topic(event_type)

    def envelope_for(
        self,
        payload: EventModel,
        *,
        workflow_id: str | None = None,
        tenant: str | None = None,
        **attributes: Any,
    ) -> Envelope:
        """Build a fresh envelope for ``payload`` (a new workflow id unless one is given).

        Args:
            payload: The event.
            workflow_id: Workflow (correlation) id; generated when omitted.
            tenant: Tenant; the client's default when omitted.
            **attributes: Further :meth:`Envelope.new` arguments (``causation_id``, ``step`` ...).
        """
        return Envelope.new(
            payload.event_type,
            tenant=tenant or self.tenant,
            workflow_id=workflow_id,
            source=attributes.pop("source", self.source),
            **attributes,
        )

    def publish(
        self,
        payload: EventModel,
        *,
        envelope: Envelope | None = None,
        topic: str | None = None,
        timeout_s: float = 30.0,
        **attributes: Any,
    ) -> Published:
        """Publish one event and wait until the broker acknowledged it.

        Args:
            payload: The event.
            envelope: A ready envelope; otherwise one is built from ``attributes`` (see :meth:`envelope_for`).
            topic: Override the event type's topic.
            timeout_s: How long to wait for the acknowledgement.
            **attributes: ``workflow_id``, ``tenant``, ``causation_id``, ``step``, ``traceparent`` ...

        Raises:
            EventValidationError: The payload does not fit its schema (nothing was sent).
            SchemaNotRegisteredError: The schema is not registered (nothing was sent).
            RegistryUnavailableError: The registry cannot be reached (nothing was sent).
            BrokerUnavailableError: No broker answered (nothing was sent).
            DeliveryError: The broker did not acknowledge the record in time, or refused it.
        """
        env = envelope or self.envelope_for(payload, **attributes)
        record = self.codec.encode(topic or self.topic_for(payload.event_type), payload, env)
        self._connect()
        reports: list[DeliveryReport] = []
        self._producer.send(record, reports.append)
        deadline = time.monotonic() + timeout_s
        while not reports and time.monotonic() < deadline:
            self._producer.poll(0.05)
        if not reports:
            raise DeliveryError(f"event {env.id} to {record.topic}: not acknowledged within {timeout_s:g} s")
        report = reports[0]
        if not report.ok:
            raise DeliveryError(
                f"event {env.id} to {record.topic}: {report.error}", retriable=report.retriable
            )
        return Published(env, report.topic, report.partition, report.offset)

    def publish_nowait(
        self,
        payload: EventModel,
        *,
        envelope: Envelope | None = None,
        topic: str | None = None,
        **attributes: Any,
    ) -> Envelope:
        """Queue one event and return its envelope; :meth:`flush` reports failed deliveries.

        Raises:
            (as :meth:`publish`, except ``DeliveryError``, which :meth:`flush` raises)
        """
        env = envelope or self.envelope_for(payload, **attributes)
        record = self.codec.encode(topic or self.topic_for(payload.event_type), payload, env)
        self._connect()
        self._producer.send(record, self._on_delivery)
        self._producer.poll(0)
        return env

    def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until every queued event is acknowledged.

        Raises:
            DeliveryError: Some events failed or were not acknowledged in time (the message says how many).
        """
        remaining = self._producer.flush(timeout_s)
        failures, self._failures = self._failures, []
        if remaining or failures:
            detail = f"; first failure: {failures[0]}" if failures else ""
            raise DeliveryError(f"{len(failures)} event(s) failed, {remaining} not acknowledged{detail}")

    def close(self, timeout_s: float = 30.0) -> None:
        """Flush and release the registry session."""
        try:
            self.flush(timeout_s)
        finally:
            self._registry.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self) -> None:
        if not self._connected:
            self._producer.check_connection()
            self._connected = True

    def _on_delivery(self, report: DeliveryReport) -> None:
        if not report.ok:
            self._failures.append(f"{report.topic}: {report.error}")
