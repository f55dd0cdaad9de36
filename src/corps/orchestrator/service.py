"""The orchestrator service: gate + orchestrator on Kafka, one transaction per batch, state from Kafka.

Typical use (``corps orchestrator run`` does this)::

    async with OrchestratorService(topology, settings) as service:
        await service.run(stop)          # until stop is set; the batch in flight is committed

Each batch of proposed records is one Kafka transaction: the admitted records, the decision records,
the orchestrator's lifecycle events, the dead letters, the changelog records of every workflow touched
and the batch's input offsets (``send_offsets_to_transaction``) commit together or not at all. The
workflow table is rebuilt from the changelog when partitions are assigned, after the producer's
``init_transactions`` fenced any predecessor with the same ``instance_id`` and aborted its open
transaction. So after ``kill -9`` nothing is admitted twice, no compensation is emitted twice or
missed: the next run starts exactly at the last commit, with the state of that commit.

Why not the runtime's ``KafkaEngine``: it runs an agent ``Processor`` (stateless per record, key-based
partitioning, no timers); the service needs a state table whose batch changes are rolled back when a
transaction aborts, a state restore inside the rebalance callback, clock-driven deadline ticks with no
input record, and outputs pinned to the workflow's partition. The loop below mirrors the engine's
transaction handling (abort + rewind on abortable errors, stop on fatal ones).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, TypeVar

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition

from corps.events import EventCodec, RawRecord, SchemaRegistry
from corps.events.errors import RegistryUnavailableError
from corps.orchestrator.clients import check_topics, consumer_config, producer_config
from corps.orchestrator.heap import HeapPolicy
from corps.orchestrator.pipeline import Pipeline
from corps.orchestrator.policy import Policy
from corps.orchestrator.policy_feed import PolicyFeed, load_policy
from corps.orchestrator.policy_gate import EnginePolicy
from corps.orchestrator.restore import read_partitions
from corps.orchestrator.settings import OrchestratorSettings
from corps.orchestrator.topics import TopologyTopics
from corps.orchestrator.transaction import OrchestratorError, Rewind, ServiceStats, check_error, commit_batch
from corps.policy import PolicyStoreError
from corps.topology import Topology

__all__ = ["OrchestratorError", "OrchestratorService", "ServiceStats"]

_log = logging.getLogger("corps.orchestrator")
_T = TypeVar("_T")


def _utc_now() -> datetime:
    return datetime.now(UTC)


class OrchestratorService:
    """Gate + orchestrator of one topology as a Kafka transactional stream processor.

    Args:
        topology: The topology served.
        settings: The process settings.
        policy: The gate's policy (allow everything by default).
        clock: The injected clock of deadlines and decision contexts (aware datetimes).
    """

    def __init__(
        self,
        topology: Topology,
        settings: OrchestratorSettings,
        *,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.topology = topology
        self.settings = settings
        self.clock = clock
        self._registry = SchemaRegistry(settings.registry)
        workflow = topology.workflow.name
        self.topics = TopologyTopics.of(topology)
        codec = EventCodec(self._registry, subject_strategy=self.topics.subject)
        self.engine_policy: EnginePolicy | None = None
        if policy is None and settings.policy_set is not None:
            self.engine_policy = EnginePolicy(None, codec, partitions=topology.topics.partitions)
            policy = self.engine_policy
        self._feed: PolicyFeed | None = None
        retention = None if settings.retention_s is None else timedelta(seconds=settings.retention_s)
        self.pipeline = Pipeline(
            topology, codec, policy=policy, orchestrate=settings.orchestrate, retention=retention
        )
        self.group_id = settings.group_id or f"corps-orchestrator.{workflow}"
        self.transactional_id = f"corps-orchestrator.{workflow}.{settings.instance_id}"
        self.stats = ServiceStats()
        self._base = settings.kafka.client_config()
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"corps-orchestrator-{workflow}")
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._owned: set[int] = set()
        self._backoff = 0.5
        self._heap = HeapPolicy(
            settings.gc_threshold, freeze=settings.gc_freeze, full_every_s=settings.gc_full_every_s
        )
        self.ready = threading.Event()
        """Set once partitions were assigned and their state restored."""

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def __aenter__(self) -> OrchestratorService:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Check the topology's topics, create the service's own, fence predecessors and subscribe.

        Raises:
            ConfigurationError: A topic of the topology is missing or partitioned differently.
        """
        await self._blocking(self._check_topics)
        if self.engine_policy is not None and self.settings.policy_set is not None:
            await self._blocking(self._start_policies)
        producer = Producer(producer_config(self._base, self.transactional_id, self.settings))
        await self._blocking(lambda: producer.init_transactions(60))
        self._producer = producer
        consumer = Consumer(consumer_config(self._base, self.group_id, self.transactional_id, self.settings))
        consumer.subscribe(self.topics.inputs, on_assign=self._on_assign, on_revoke=self._on_revoke)
        self._consumer = consumer
        _log.info("orchestrator %s subscribed to %d topics", self.transactional_id, len(self.topics.inputs))

    async def close(self) -> None:
        """Leave the group and close the clients (every batch committed before)."""
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        feed, self._feed = self._feed, None
        if feed is not None:
            await self._blocking(feed.close)
        if consumer is not None:
            await self._blocking(consumer.close)
        if producer is not None:
            await self._blocking(lambda: producer.flush(10))
        self._registry.close()
        self._executor.shutdown(wait=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Handle batches and fire deadlines until ``stop`` is set (the batch in flight is committed)."""
        self._heap.enter()
        try:
            while not stop.is_set():
                try:
                    await self._blocking(self.step)
                    self._backoff = 0.5
                except (RegistryUnavailableError, Rewind) as exc:
                    _log.warning("batch not committed, reading it again in %.1fs: %s", self._backoff, exc)
                    await asyncio.sleep(self._backoff)
                    self._backoff = min(self._backoff * 2, 30.0)
        finally:
            self._heap.exit()

    # -- one batch ----------------------------------------------------------------------------------------

    def _start_policies(self) -> None:
        name, policy = self.settings.policy_set, self.engine_policy
        assert name is not None  # checked by the caller
        assert policy is not None
        try:
            switch = load_policy(self._base, name, policy)
        except PolicyStoreError as exc:
            raise OrchestratorError(f"cannot read policy set {name}: {exc}") from exc
        if switch is None:
            _log.info("no version of policy set %s published yet: allowing until one is", name)
        else:
            _log.info("policy set %s in force (offset %s)", switch.current, switch.offset)
        self._feed = PolicyFeed(self._base, name, policy, self.settings.policies_topic)

    def step(self) -> None:
        """Handle one batch in one transaction, blocking (what :meth:`run` repeats in its thread)."""
        consumer = self._require(self._consumer)
        if self._feed is not None:
            self._feed.poll()  # between two batches: a newer set version applies from the next event on
        wait_s = self.settings.max_wait_ms / 1000
        due = self.pipeline.next_deadline()
        if due is not None:
            wait_s = max(0.0, min(wait_s, (due - self.clock()).total_seconds()))
        # Take what is buffered at once; only when nothing is, block for the first record (up to the
        # next deadline). Low load gets small batches without a batching delay, high load big ones.
        messages = consumer.consume(self.settings.max_batch, 0)
        if not messages:
            messages = consumer.consume(1, wait_s)
            if messages and self.settings.max_batch > 1:
                messages += consumer.consume(self.settings.max_batch - 1, 0)
        now = self.clock()
        commit: dict[tuple[str, int], int] = {}
        pipeline = self.pipeline
        handle, record = pipeline.handle, RawRecord
        handled = 0
        started = time.perf_counter()
        message: Any  # a consumed message: topic, partition and offset are set (the stubs allow None)
        try:
            for message in messages:
                if message.error() is not None:
                    check_error(message)
                    continue
                topic, partition, offset = message.topic(), message.partition(), message.offset()
                commit[topic, partition] = offset + 1
                ts_type, ts = message.timestamp()
                key, value, headers = message.key(), message.value(), message.headers() or ()
                handle(record(topic, partition, offset, key, value, headers, ts if ts_type else None), now)
                handled += 1
            pipeline.tick(now)
            self.stats.seconds["process"] += time.perf_counter() - started
            # A tick may change state and nothing else (a workflow retired after the retention): its
            # changelog records still need a transaction, or a restart would restore the full record.
            if commit or pipeline.outputs or pipeline.store.dirty():
                records = [*pipeline.outputs, *pipeline.changelog()]
                commit_batch(self._require(self._producer), consumer, records, commit, self.stats)
                self.stats.batches += 1
                self.stats.records_in += handled
            pipeline.commit()
            self._heap.committed()
            self.stats.evicted = pipeline.evicted
        except BaseException:
            pipeline.rollback()
            self._rewind(messages)
            raise

    def _rewind(self, messages: list[Any]) -> None:
        """Seek every partition of the batch back to its first record (the whole batch is read again)."""
        consumer = self._consumer
        if consumer is None:
            return
        # reversed: the first record of each partition is written last, so it wins
        first: dict[tuple[str, int], int] = {
            (m.topic(), m.partition()): m.offset() for m in reversed(messages) if m.error() is None
        }
        for (topic, partition), offset in first.items():
            if partition in self._owned:
                try:
                    consumer.seek(TopicPartition(topic, partition, offset))
                except KafkaException as exc:  # revoked meanwhile: the next owner reads from the commit
                    _log.debug("seek %s[%d] failed: %s", topic, partition, exc)

    # -- partitions and state -----------------------------------------------------------------------------

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        indexes = {p.partition for p in partitions}
        new = indexes - self._owned
        started = time.monotonic()
        records = read_partitions(
            self._base, self.topics.state, new, timeout_s=self.settings.restore_timeout_s
        )
        try:
            values = [r.value for r in records if r.value is not None]
            restored = self.pipeline.restore(values, self.clock())
        except ValueError as exc:
            raise OrchestratorError(f"{self.topics.state}: unreadable state record: {exc}") from exc
        self._owned |= new
        self.stats.restored += restored
        self.ready.set()
        _log.info(
            "partitions %s assigned: %d workflow records restored in %.2fs",
            sorted(new),
            restored,
            time.monotonic() - started,
        )

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        gone = {p.partition for p in partitions}
        dropped = self.pipeline.store.drop_partitions(gone)
        self._owned -= gone
        _log.info("partitions %s revoked (%d workflow records dropped)", sorted(gone), dropped)

    def _check_topics(self) -> None:
        check_topics(self._base, self.topology, self.topics, create=self.settings.create_topics)

    # -- helpers ------------------------------------------------------------------------------------------

    @staticmethod
    def _require(client: _T | None) -> _T:
        if client is None:
            raise OrchestratorError("the orchestrator service is not started")
        return client

    async def _blocking(self, call: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    def __repr__(self) -> str:
        return f"OrchestratorService({self.transactional_id!r})"
