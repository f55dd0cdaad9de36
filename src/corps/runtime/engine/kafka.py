"""The confluent-kafka engine: consume -> process -> produce -> commit, in Kafka transactions by default.

Records are handled as they are consumed and their outputs produced at once; a *commit unit* gathers
them until ``commit_interval_ms`` passed or the input runs dry, then commits (the Kafka Streams
model). In ``exactly_once`` mode a unit is one transaction: the outputs, retries, dead letters and
lifecycle reports of its records and their input offsets commit together or not at all
(:func:`~corps.runtime.engine.clients.commit_unit`). A replica killed mid-unit leaves an open
transaction the broker aborts (``transaction.timeout.ms``, or at once when a replica with the same
``instance_id`` starts), so a ``read_committed`` reader never sees its partial output, and the next
owner of the partitions starts from the last committed offsets. In ``at_least_once`` mode a unit ends
with a flush (every output acknowledged) and then an offset commit. A rebalance commits the open unit
before the partitions go.

Retry-topic records that are not due yet are not handled: their partition is rewound to them and
paused until they are due, which stalls only that retry tier's partition, never an input partition.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from corps.events import RawRecord
from corps.events.errors import RegistryUnavailableError
from corps.runtime.engine.clients import EngineError, Rewind, commit_unit, consumer_config, producer_config
from corps.runtime.engine.dispatch import process_in_order
from corps.runtime.engine.partitions import TP, Partitions
from corps.runtime.metrics import AgentMetrics
from corps.runtime.outcome import Outcome
from corps.runtime.processor import Processor
from corps.runtime.settings import AgentSettings

__all__ = ["EngineError", "KafkaEngine"]

_log = logging.getLogger("corps.runtime.engine")
_T = TypeVar("_T")


class KafkaEngine:
    """Runs a :class:`Processor` on confluent-kafka clients.

    Args:
        processor: What to do with each record.
        settings: The process settings.
        group_id: The consumer group.
        transactional_id: The producer's transactional id (``exactly_once`` only).
        metrics: Where commit timings and lag go.
    """

    def __init__(
        self,
        processor: Processor,
        settings: AgentSettings,
        *,
        group_id: str,
        transactional_id: str,
        metrics: AgentMetrics,
    ) -> None:
        self.processor = processor
        self.settings = settings
        self.group_id = group_id
        self.metrics = metrics
        self.exactly_once = settings.delivery == "exactly_once"
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"corps-{processor.agent.name}")
        name = f"corps-{processor.agent.name}"
        self._consumer_config = consumer_config(settings, group_id, name)
        txn_id = transactional_id if self.exactly_once else None
        self._producer_config = producer_config(settings, name, txn_id, self._on_delivery)
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._delivery_errors: list[str] = []
        self._parts = Partitions(metrics)
        # the open commit unit
        self._open = False
        self._unit_first: dict[TP, int] = {}
        self._unit_offsets: dict[TP, int] = {}
        self._unit_started = 0.0
        self.commits = 0

    @property
    def assignment(self) -> frozenset[tuple[str, int]]:
        """The (topic, partition) pairs this replica owns right now."""
        return frozenset(self._parts.assigned)

    # -- lifecycle ----------------------------------------------------------------------------------------

    async def start(self) -> None:
        """Create the clients, initialise transactions (fencing a predecessor) and subscribe."""
        self._producer = Producer(self._producer_config)
        if self.exactly_once:
            producer = self._producer
            await self._blocking(lambda: producer.init_transactions(30))
        self._consumer = Consumer(self._consumer_config)
        topics = [*self.processor.input_topics, *self.processor.retry_topics]
        self._consumer.subscribe(topics, on_assign=self._on_assign, on_revoke=self._on_revoke)
        _log.info("subscribed", extra={"topics": topics, "group_id": self.group_id})

    async def close(self) -> None:
        """Leave the group (the last unit is committed by :meth:`run`) and close the clients."""
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        if consumer is not None:
            await self._blocking(consumer.close)
        if producer is not None:
            await self._blocking(lambda: producer.flush(10))
        self._executor.shutdown(wait=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Handle records until ``stop`` is set, then commit the open unit."""
        backoff = 0.5
        interval = self.settings.batch.commit_interval_ms / 1000
        while not stop.is_set():
            if self._parts.paused:
                self._parts.resume_due(self._require_consumer())
            try:
                messages = await self._poll()
                if messages:
                    await self._add(messages)
                if self._open and (not messages or time.monotonic() - self._unit_started >= interval):
                    await self._commit()
                backoff = 0.5
            except (RegistryUnavailableError, Rewind) as exc:
                _log.warning("records not committed, reading them again in %.1fs: %s", backoff, exc)
                await self._abort()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 30.0)
            self._parts.report_lag(self._consumer)
        if self._open:
            try:
                await self._commit()
            except Rewind:
                await self._abort()

    async def _poll(self) -> list[Message]:
        """What is buffered (up to ``max_records``) at once; when nothing is, commit, then wait a while.

        Idle (no open unit), one hand-off to the client thread both takes what is buffered and, when
        nothing is, waits for the first record: a record that arrives is returned at once, so
        ``max_wait_ms`` only sets how often an idle loop wakes up, never a batching delay.
        """
        consumer = self._require_consumer()
        batch = self.settings.batch
        if self._open:
            messages: list[Message] = await self._blocking(lambda: consumer.consume(batch.max_records, 0))
            if messages:
                return messages
            await self._commit()  # idle: make the open unit visible now, not at the interval
        wait_s = batch.max_wait_ms / 1000

        def take_or_wait() -> list[Message]:
            buffered: list[Message] = consumer.consume(batch.max_records, 0)
            if buffered:
                return buffered
            first: list[Message] = consumer.consume(1, wait_s)
            return first + consumer.consume(batch.max_records - 1, 0) if first else first

        return await self._blocking(take_or_wait)

    # -- the commit unit ----------------------------------------------------------------------------------

    async def _add(self, messages: list[Message]) -> None:
        """Process consumed records and produce their outcomes into the open unit."""
        now_ms = time.time() * 1000
        first: dict[TP, int] = {}
        offsets: dict[TP, int] = {}
        blocked: dict[TP, tuple[int, float]] = {}
        todo: list[RawRecord] = []
        paused, assigned = self._parts.paused, self._parts.assigned
        retry_topics, due_ms = self.processor.retry_topics, self.processor.due_ms
        for message in messages:
            err = message.error()
            if err is not None:
                if err.fatal():
                    raise EngineError(f"fatal consumer error: {err.str()}")
                _log.warning("consumer error: %s", err.str())
                continue
            tp = (message.topic(), message.partition())
            if tp in paused or tp in blocked or tp not in assigned:
                continue  # fetched before a pause or a revoke; it will be read again
            offset: int = message.offset()  # type: ignore[assignment]
            if tp not in first:
                first[tp] = offset
            ts_type, ts = message.timestamp()
            key, value, headers = message.key(), message.value(), message.headers() or ()
            raw = RawRecord(tp[0], tp[1], offset, key, value, headers, ts if ts_type else None)  # type: ignore[arg-type]
            if tp[0] in retry_topics:
                due = due_ms(raw)
                if due is not None and due > now_ms:
                    blocked[tp] = (offset, due / 1000)
                    continue
            todo.append(raw)
            offsets[tp] = offset + 1
        try:
            outcomes = await process_in_order(
                self.processor.process, todo, self.settings.batch.max_concurrency
            )
        except BaseException:
            self._parts.rewind(self._consumer, first)  # nothing of these was produced; the unit stays good
            raise
        finally:
            self.metrics.flush()
        if not self._open:
            if self.exactly_once:
                self._require_producer().begin_transaction()
            self._open, self._unit_started = True, time.monotonic()
        for tp, offset in first.items():
            self._unit_first.setdefault(tp, offset)
        self._unit_offsets.update(offsets)
        self._produce_all(outcomes)
        for tp, (offset, due_s) in blocked.items():
            self._parts.pause_until(self._require_consumer(), tp, offset, due_s)

    def _produce_all(self, outcomes: list[Outcome]) -> None:
        producer = self._require_producer()
        produce = producer.produce
        for outcome in outcomes:
            for topic, key, value, headers in outcome.records:
                while True:
                    try:
                        produce(topic, value, key, headers=headers)  # type: ignore[arg-type]
                        break
                    except BufferError:
                        producer.poll(0.05)
        producer.poll(0)

    async def _commit(self) -> None:
        """Commit the open unit (in the executor thread, so handlers of other tasks keep running).

        Raises:
            Rewind: It did not commit (the caller aborts it and reads its records again).
            EngineError: The producer is fenced or failed fatally.
        """
        if not self._open:
            return
        started = time.perf_counter()
        offsets = [TopicPartition(t, p, o) for (t, p), o in self._unit_offsets.items()]
        await self._blocking(lambda: self._commit_now(offsets))
        self._clear_unit()
        self.commits += 1
        self.metrics.batch(self.settings.delivery, time.perf_counter() - started)

    def _commit_now(self, offsets: list[TopicPartition]) -> None:
        producer, consumer, errors = self._require_producer(), self._require_consumer(), self._delivery_errors
        commit_unit(producer, consumer, offsets, exactly_once=self.exactly_once, delivery_errors=errors)

    async def _abort(self) -> None:
        """Drop the open unit: abort its transaction and read its records again."""
        if self._open and self.exactly_once:
            producer = self._require_producer()
            try:
                await self._blocking(lambda: producer.abort_transaction(30))
            except KafkaException as exc:
                raise EngineError(f"cannot abort the transaction: {exc}") from exc
        self._parts.rewind(self._consumer, self._unit_first)
        self._clear_unit()

    def _clear_unit(self) -> None:
        self._open = False
        self._unit_first, self._unit_offsets = {}, {}

    # -- client callbacks ---------------------------------------------------------------------------------

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._parts.assign(partitions)

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        """Called inside ``consume`` (executor thread) before partitions go: commit the open unit first."""
        if self._open:
            offsets = [TopicPartition(t, p, o) for (t, p), o in self._unit_offsets.items()]
            try:
                self._commit_now(offsets)
            except (Rewind, EngineError) as exc:
                _log.warning("could not commit before the rebalance (the next owner redoes it): %s", exc)
                if self.exactly_once:
                    try:
                        self._require_producer().abort_transaction(30)
                    except KafkaException as abort_exc:
                        _log.warning("abort failed: %s", abort_exc)
            self._clear_unit()
        self._parts.revoke(partitions)

    def _on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            self._delivery_errors.append(err.str())

    def _require_consumer(self) -> Consumer:
        if self._consumer is None:
            raise EngineError("engine not started")
        return self._consumer

    def _require_producer(self) -> Producer:
        if self._producer is None:
            raise EngineError("engine not started")
        return self._producer

    async def _blocking(self, call: Callable[[], _T]) -> _T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)
