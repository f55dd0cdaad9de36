"""Typed settings of the orchestrator service (gate + orchestrator), one frozen object per process."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from corps.settings import KafkaSettings, RegistrySettings

__all__ = ["OrchestratorSettings"]


class OrchestratorSettings(BaseModel):
    """Everything the service needs besides the topology.

    Attributes:
        kafka: How to reach Kafka.
        registry: How to reach the schema registry.
        orchestrate: Run the orchestrator stage behind the gate (off: the gate alone).
        instance_id: Stable id of this replica. It names the transactional producer
            (``corps-orchestrator.<workflow>.<instance_id>``), so a restarted replica fences its
            predecessor and aborts its open transaction at once. Replicas of one topology need distinct
            ids; they share the partitions through the consumer group.
        group_id: Consumer group (default ``corps-orchestrator.<workflow>``).
        max_batch: Most records in one batch (one Kafka transaction).
        max_wait_ms: Longest idle wait for a first record (deadlines are never waited past). A batch
            takes whatever is buffered when it starts, so there is no batching delay.
        transaction_timeout_ms: How long the broker keeps a dead replica's transaction open.
        restore_timeout_s: Longest time to rebuild the state of newly assigned partitions.
        create_topics: Create the state changelog and dead-letter topics when missing.
        consumer_config: Extra librdkafka consumer settings (override the service's).
        producer_config: Extra librdkafka producer settings (override the service's).
        policy_set: Name of the policy set the gate enforces (read from the policies topic, switched to
            newer versions while running); ``None``: no policy engine, the gate allows everything valid.
        policies_topic: The policies topic (default ``corps.policies``).
        gc_threshold: The interpreter's generation-0 garbage collection threshold while the service
            runs (``None``: leave it). The table of workflow records is a large, long-lived heap of
            small objects; with the default threshold (700) the cyclic collector keeps walking it and
            took ~40 % of the CPU per record (measured, ``bench/g3_profile.py``). With ``gc_freeze``
            the default (200,000) is above what a batch of ``max_batch`` records leaves alive, so a
            collection runs only when a batch makes far more objects than usual.
        gc_freeze: After each committed batch, move the surviving objects to the collector's permanent
            generation, so collections scan only what the batch in flight allocated (the pipeline
            makes no reference cycles; reference counting still frees frozen objects). Measured on
            the live service (20,000 G3 workflows): the collector's CPU per workflow went from ~130
            µs (threshold 50,000, no freeze) to 0. See :mod:`corps.orchestrator.heap`.
        gc_full_every_s: With ``gc_freeze``, seconds between two full collections of the frozen heap
            (a cycle frozen alive and dropped later is freed then).
        retention_s: How long a finished workflow's record stays in memory and in the changelog
            (``None``: forever). After that only its chain head is kept, so late events still link
            into its chain and are recorded, never acted on. It is also the dedupe window: a retired
            workflow keeps no admitted ids, so an event re-proposed later is admitted again. Gate-only
            (``orchestrate`` off), where no workflow finishes, a record unchanged for ``retention_s``
            (by this process's clock) with no parked event is retired to its chain head instead.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kafka: KafkaSettings
    registry: RegistrySettings
    orchestrate: bool = True
    instance_id: str = Field(default="0", pattern=r"^[A-Za-z0-9._-]{1,100}$")
    group_id: str | None = None
    max_batch: int = Field(default=2000, ge=1, le=100_000)
    max_wait_ms: int = Field(default=100, ge=1, le=60_000)
    transaction_timeout_ms: int = Field(default=10_000, ge=1000)
    restore_timeout_s: float = Field(default=300.0, gt=0)
    create_topics: bool = True
    consumer_config: dict[str, str | int | float | bool] = Field(default_factory=dict)
    producer_config: dict[str, str | int | float | bool] = Field(default_factory=dict)
    policy_set: str | None = None
    policies_topic: str | None = None
    gc_threshold: int | None = Field(default=200_000, ge=100)
    gc_freeze: bool = True
    gc_full_every_s: float = Field(default=600.0, gt=0)
    retention_s: float | None = Field(default=3600.0, gt=0)
