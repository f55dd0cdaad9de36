"""Typed settings of one agent process: where its topics are, how it delivers, how it retries.

One frozen object per process, built by the entrypoint (``corps agent run``) or a test; library code
never reads the environment. Topic names are configuration, not convention baked into the runtime:
:class:`Routing` maps every consumed event type to the topic it is read from (the gate's *admitted*
side) and every produced event type to the topic it is written to (the *proposed* side).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from corps.events import default_topic
from corps.runtime.retry import RetryPolicy
from corps.settings import KafkaSettings, RegistrySettings

__all__ = [
    "AgentSettings",
    "BatchSettings",
    "Delivery",
    "HandlerSettings",
    "Routing",
    "TelemetrySettings",
    "TopicSettings",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

Delivery = Literal["exactly_once", "at_least_once"]
"""``exactly_once``: consume-transform-produce in Kafka transactions (outputs, retries, dead letters and
the input offsets commit atomically). ``at_least_once``: idempotent producer, offsets committed after
the outputs are acknowledged; a crash can duplicate the outputs of the last batch."""

LIFECYCLE_TOPIC = "corps.lifecycle"


class Routing(BaseModel):
    """Which topic each event type is read from and written to.

    Attributes:
        inputs: Consumed event type -> topic to read (an *admitted* topic when a gate runs).
        outputs: Produced event type -> topic to write (a *proposed* topic when a gate runs).
        lifecycle: Topic for the runtime's own reports (StepFailed, CompensationCompleted/Failed).
        steps: Consumed event type -> topology step name (``ce_step`` of outputs, ``step`` of StepFailed).
        multi_type_topics: Topics that carry several event types; their subjects follow the
            TopicRecordNameStrategy (``<topic>-<fullname>``) and records of types the agent does not
            handle are skipped there instead of dead-lettered.
    """

    model_config = _FROZEN

    inputs: dict[str, str] = Field(default_factory=dict)
    outputs: dict[str, str] = Field(default_factory=dict)
    lifecycle: str = LIFECYCLE_TOPIC
    steps: dict[str, str] = Field(default_factory=dict)
    multi_type_topics: frozenset[str] = frozenset({LIFECYCLE_TOPIC})

    def input_topic(self, event_type: str) -> str:
        """Topic ``event_type`` is read from (its own name when not mapped)."""
        return self.inputs.get(event_type) or default_topic(event_type)

    def output_topic(self, event_type: str) -> str:
        """Topic ``event_type`` is written to (its own name when not mapped)."""
        return self.outputs.get(event_type) or default_topic(event_type)

    def subject(self, topic: str, event_type: str) -> str:
        """Registry subject of ``event_type`` written on ``topic``."""
        return f"{topic}-{event_type}" if topic in self.multi_type_topics else f"{topic}-value"


class BatchSettings(BaseModel):
    """How records are grouped into consumed batches and commit units.

    Attributes:
        max_records: Most records consumed and handled at once.
        max_wait_ms: Longest wait for a record when none is buffered.
        commit_interval_ms: Longest a commit unit (one transaction, or one offset commit) stays open
            while records keep coming; it commits at once when the input runs dry.
        max_concurrency: Handlers waiting at once; records of one workflow (key) always run in order.
    """

    model_config = _FROZEN

    max_records: int = Field(default=1000, ge=1, le=100_000)
    max_wait_ms: int = Field(default=200, ge=1, le=60_000)
    commit_interval_ms: int = Field(default=100, ge=0, le=60_000)
    max_concurrency: int = Field(default=64, ge=1, le=10_000)


class TopicSettings(BaseModel):
    """Names and shapes of the runtime's own topics.

    Attributes:
        retry_template: Retry topic per tier; ``{agent}`` and ``{tier}`` are substituted.
        dead_letter_template: Dead-letter topic; ``{agent}`` is substituted.
        registry: The compacted agent-registry topic.
        create: Create missing retry / dead-letter / registry topics at start.
        replication: Replication factor of created topics.
        dead_letter_max_bytes: ``max.message.bytes`` of the dead-letter topic (oversized records fit).
    """

    model_config = _FROZEN

    retry_template: str = "{agent}.retry.{tier}"
    dead_letter_template: str = "{agent}.dlq"
    registry: str = "corps.agents"
    create: bool = True
    replication: int = Field(default=1, ge=1)
    dead_letter_max_bytes: int = Field(default=16 * 1024 * 1024, ge=1024)


class TelemetrySettings(BaseModel):
    """Observability switches.

    Attributes:
        metrics_port: Port of the Prometheus endpoint (``None``: no endpoint; 0: any free port).
        metrics_host: Interface the endpoint listens on.
        traces: Where spans go: ``none`` (trace context is still propagated), ``console`` (stdout) or
            ``otlp`` (OTLP/HTTP protobuf to ``otlp_endpoint``, batched).
        otlp_endpoint: The OTLP/HTTP traces URL of a collector (Jaeger, Tempo, an OTel Collector).
        otlp_headers: Extra HTTP headers of each export (e.g. an API key).
        otlp_timeout_s: Time budget of one export request.
        heartbeat_interval_s: Seconds between registry heartbeats.
        missed_heartbeats: Heartbeats a replica may miss before it counts as stale.
    """

    model_config = _FROZEN

    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"
    traces: Literal["none", "console", "otlp"] = "none"
    otlp_endpoint: str = Field(default="http://127.0.0.1:4318/v1/traces", pattern=r"^https?://")
    otlp_headers: dict[str, str] = Field(default_factory=dict)
    otlp_timeout_s: float = Field(default=10.0, gt=0)
    heartbeat_interval_s: float = Field(default=5.0, gt=0)
    missed_heartbeats: int = Field(default=3, ge=1)


class HandlerSettings(BaseModel):
    """Per-event-type overrides of a handler's retry policy and time budget (e.g. from the topology).

    They win over the decorator's arguments, which win over the agent-wide defaults.
    """

    model_config = _FROZEN

    retry: RetryPolicy | None = None
    timeout_s: float | None = Field(default=None, gt=0)


class AgentSettings(BaseModel):
    """Everything one agent process needs besides the agent definition.

    Attributes:
        kafka: How to reach Kafka.
        registry: How to reach the schema registry.
        routing: Topics of consumed and produced event types.
        delivery: ``exactly_once`` (transactions, the default) or ``at_least_once``.
        group_id: Consumer group (default: the agent's name); replicas of one agent share it.
        instance_id: Stable id of this replica (e.g. a StatefulSet ordinal). It names the transactional
            producer, so a restarted replica fences its predecessor's open transaction at once instead
            of waiting ``transaction_timeout_ms``, and it is the consumer's static group membership
            (``group.instance.id``), so the restarted replica takes its partitions back without waiting
            for the dead one's session to expire. Default: random per process, no static membership.
        retry: Default retry policy of the agent's handlers.
        handler_timeout_s: Default time budget of one handler call.
        handlers: Overrides per consumed event type (retry policy, time budget).
        max_record_bytes: Larger input records are dead-lettered unread.
        transaction_timeout_ms: How long the broker keeps a dead replica's transaction open.
        session_timeout_ms: How long the group waits for a silent replica before moving its partitions.
        batch: Batching knobs.
        topics: The runtime's own topics.
        telemetry: Metrics and heartbeats.
        consumer_config: Extra librdkafka consumer settings (override the runtime's).
        producer_config: Extra librdkafka producer settings (override the runtime's).
    """

    model_config = _FROZEN

    kafka: KafkaSettings
    registry: RegistrySettings
    routing: Routing = Field(default_factory=Routing)
    delivery: Delivery = "exactly_once"
    group_id: str | None = None
    instance_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9._-]{1,100}$")
    retry: RetryPolicy = Field(default_factory=RetryPolicy)
    handler_timeout_s: float = Field(default=30.0, gt=0)
    handlers: dict[str, HandlerSettings] = Field(default_factory=dict)
    max_record_bytes: int = Field(default=1024 * 1024, ge=1)
    transaction_timeout_ms: int = Field(default=10_000, ge=1000)
    session_timeout_ms: int = Field(default=10_000, ge=1000)
    batch: BatchSettings = Field(default_factory=BatchSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)
    telemetry: TelemetrySettings = Field(default_factory=TelemetrySettings)
    consumer_config: dict[str, str | int | float | bool] = Field(default_factory=dict)
    producer_config: dict[str, str | int | float | bool] = Field(default_factory=dict)
