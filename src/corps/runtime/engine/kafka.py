"""The confluent-kafka engine: batched consume -> process -> produce -> commit, transactional by default.

One batch is one Kafka transaction in ``exactly_once`` mode: the outputs, retries, dead letters and
lifecycle reports of every record in the batch, and the batch's input offsets (``send_offsets_to_
transaction`` with the consumer's group metadata, KIP-447), commit together or not at all. A replica
killed mid-batch leaves an open transaction that the broker aborts (``transaction.timeout.ms``, or at
once when a replica with the same ``instance_id`` starts), so a ``read_committed`` reader never sees
its partial output, and the next owner of the partitions starts from the last committed offsets.

Retry-topic records that are not due yet are not handled: their partition is rewound to them and
paused until they are due, which stalls only that retry tier's partition, never an input partition.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
import typing
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

from confluent_kafka import Consumer, KafkaError, KafkaException, Message, Producer, TopicPartition

from corps.errors import CorpsError
from corps.events import RawRecord
from corps.events.errors import RegistryUnavailableError
from corps.runtime.eager import Rest, start
from corps.runtime.metrics import AgentMetrics
from corps.runtime.processor import Outcome, Processor
from corps.runtime.settings import AgentSettings

__all__ = ["KafkaEngine"]

_log = logging.getLogger("corps.runtime.engine")
_T = TypeVar("_T")
TP = tuple[str, int]


class EngineError(CorpsError):
    """The engine cannot go on (fenced producer, fatal client error)."""


class KafkaEngine:
    """Runs a :class:`Processor` on confluent-kafka clients.

    Args:
        processor: What to do with each record.
        settings: The process settings.
        group_id: The consumer group.
        transactional_id: The producer's transactional id (``exactly_once`` only).
        metrics: Where batch timings and lag go.
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
        base = settings.kafka.client_config()
        self._consumer_config: dict[str, Any] = {
            **base,
            "group.id": group_id,
            "client.id": f"corps-{processor.agent.name}",
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "isolation.level": "read_committed",
            "enable.partition.eof": False,
            "fetch.queue.backoff.ms": 0,
            "session.timeout.ms": settings.session_timeout_ms,
            **({"group.instance.id": settings.instance_id} if settings.instance_id else {}),
            **settings.consumer_config,
        }
        self._producer_config: dict[str, Any] = {
            **base,
            "client.id": f"corps-{processor.agent.name}",
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "message.max.bytes": settings.topics.dead_letter_max_bytes + 65536,
            "delivery.report.only.error": True,
            "on_delivery": self._on_delivery,
            **({"transactional.id": transactional_id} if self.exactly_once else {}),
            "transaction.timeout.ms": settings.transaction_timeout_ms,
            **settings.producer_config,
        }
        self._consumer: Consumer | None = None
        self._producer: Producer | None = None
        self._paused: dict[TP, float] = {}
        self._delivery_errors: list[str] = []
        self._assigned: set[TP] = set()
        self._last_lag = 0.0
        self.batches = 0

    @property
    def assignment(self) -> frozenset[tuple[str, int]]:
        """The (topic, partition) pairs this replica owns right now."""
        return frozenset(self._assigned)

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
        """Leave the group (committing nothing more: every batch committed before) and close the clients."""
        consumer, producer = self._consumer, self._producer
        self._consumer = self._producer = None
        if consumer is not None:
            await self._blocking(consumer.close)
        if producer is not None:
            await self._blocking(lambda: producer.flush(10))
        self._executor.shutdown(wait=True)

    async def run(self, stop: asyncio.Event) -> None:
        """Handle batches until ``stop`` is set; the batch in flight is finished and committed first."""
        consumer = self._require_consumer()
        wait_s = self.settings.batch.max_wait_ms / 1000
        max_records = self.settings.batch.max_records
        backoff = 0.5
        while not stop.is_set():
            self._resume_due()
            messages = await self._blocking(lambda: consumer.consume(max_records, wait_s))
            if messages:
                try:
                    await self._batch(messages)
                    backoff = 0.5
                except (RegistryUnavailableError, _Rewind) as exc:
                    _log.warning("batch not committed, reading it again in %.1fs: %s", backoff, exc)
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, 30.0)
            self._report_lag()

    # -- one batch ----------------------------------------------------------------------------------------

    async def _batch(self, messages: list[Message]) -> None:
        started = time.perf_counter()
        now_ms = time.time() * 1000
        first: dict[TP, int] = {}
        commit: dict[TP, int] = {}
        blocked: dict[TP, tuple[int, float]] = {}
        todo: list[RawRecord] = []
        for message in messages:
            err = message.error()
            if err is not None:
                self._client_error(err)
                continue
            ts_type, ts = message.timestamp()
            raw = RawRecord(
                message.topic() or "",
                message.partition() or 0,
                message.offset() or 0,
                message.key(),
                message.value(),
                cast("list[tuple[str, bytes | None]]", message.headers() or ()),
                ts if ts_type else None,
            )
            tp = (raw.topic, raw.partition)
            if tp in self._paused or tp in blocked:
                continue  # fetched before the pause; it will be read again after the rewind
            first.setdefault(tp, raw.offset)
            due = self.processor.due_ms(raw)
            if due is not None and due > now_ms:
                blocked[tp] = (raw.offset, due / 1000)
                continue
            todo.append(raw)
            commit[tp] = raw.offset + 1
        try:
            outcomes = await self._process(todo)
            if self.exactly_once:
                await self._commit_transaction(outcomes, commit)
            else:
                await self._commit_at_least_once(outcomes, commit)
        except BaseException:
            self._rewind(first)
            raise
        for (topic, partition), (offset, due_s) in blocked.items():
            self._pause_until((topic, partition), offset, due_s)
        self.batches += 1
        self.metrics.batch(self.settings.delivery, time.perf_counter() - started)

    async def _process(self, records: list[RawRecord]) -> list[Outcome]:
        """Process a batch: one workflow's (key's) records strictly in order, different keys concurrently.

        Each record runs in its own copy of the context (its event context and span stay its own). It
        starts eagerly: a handler that never waits finishes right there, without a task; one that waits
        becomes a task, and later records of the same key queue behind it. At most ``max_concurrency``
        records wait at once.
        """
        process = self.processor.process
        try:
            if self.settings.batch.max_concurrency == 1:
                return [await process(r) for r in records]
            return await self._process_concurrently(records)
        finally:
            self.metrics.flush()

    async def _process_concurrently(self, records: list[RawRecord]) -> list[Outcome]:
        process, limit = self.processor.process, self.settings.batch.max_concurrency
        loop = asyncio.get_running_loop()
        outcomes: list[Outcome | None] = [None] * len(records)
        tail: dict[bytes | None, asyncio.Task[None]] = {}
        waiting: set[asyncio.Task[None]] = set()

        async def finish(index: int, rest: Rest[Outcome]) -> None:
            outcomes[index] = await rest

        async def after(index: int, previous: asyncio.Task[None]) -> None:
            await previous
            outcomes[index] = await process(records[index])

        try:
            for index, record in enumerate(records):
                previous = tail.get(record.key)
                context = contextvars.copy_context()
                if previous is not None and not previous.done():
                    task = loop.create_task(after(index, previous), context=context)
                else:
                    finished, value = context.run(start, process(record))
                    if finished:
                        outcomes[index] = typing.cast(Outcome, value)
                        continue
                    task = loop.create_task(finish(index, typing.cast(Rest[Outcome], value)), context=context)
                tail[record.key] = task
                waiting.add(task)
                if len(waiting) >= limit:
                    done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                    for task in done:
                        task.result()  # a failure aborts the batch now
            if waiting:
                await asyncio.gather(*waiting)
        except BaseException:
            for task in waiting:
                task.cancel()
            raise
        return [o for o in outcomes if o is not None]

    def _produce_all(self, outcomes: list[Outcome]) -> None:
        producer = self._require_producer()
        for outcome in outcomes:
            for out in outcome.records:
                while True:
                    try:
                        producer.produce(out.topic, out.value, out.key, headers=cast(Any, out.headers))
                        break
                    except BufferError:
                        producer.poll(0.05)
        producer.poll(0)

    async def _commit_transaction(self, outcomes: list[Outcome], commit: dict[TP, int]) -> None:
        producer, consumer = self._require_producer(), self._require_consumer()
        offsets = [TopicPartition(t, p, o) for (t, p), o in commit.items()]
        if not offsets and not any(o.records for o in outcomes):
            return
        producer.begin_transaction()
        try:
            self._produce_all(outcomes)
            if offsets:
                metadata = consumer.consumer_group_metadata()
                await self._blocking(lambda: producer.send_offsets_to_transaction(offsets, metadata, 30))
            await self._blocking(lambda: producer.commit_transaction(60))
        except KafkaException as exc:
            error: KafkaError = exc.args[0]
            if error.txn_requires_abort():
                _log.warning("transaction aborted, batch will be re-read: %s", error.str())
                await self._blocking(lambda: producer.abort_transaction(30))
                raise _Rewind(error.str()) from exc
            raise EngineError(
                f"transaction failed ({'fatal' if error.fatal() else 'error'}): {error.str()}"
            ) from exc

    async def _commit_at_least_once(self, outcomes: list[Outcome], commit: dict[TP, int]) -> None:
        producer, consumer = self._require_producer(), self._require_consumer()
        self._delivery_errors.clear()
        self._produce_all(outcomes)
        remaining = await self._blocking(lambda: producer.flush(60))
        if remaining or self._delivery_errors:
            first = self._delivery_errors[0] if self._delivery_errors else f"{remaining} records unsent"
            raise _Rewind(f"delivery failed: {first}")
        if commit:
            offsets = [TopicPartition(t, p, o) for (t, p), o in commit.items()]
            try:
                await self._blocking(lambda: consumer.commit(offsets=offsets, asynchronous=False))
            except KafkaException as exc:
                raise _Rewind(f"offset commit failed: {exc}") from exc

    # -- helpers ------------------------------------------------------------------------------------------

    def _rewind(self, first: dict[TP, int]) -> None:
        """Seek every partition of a failed batch back to its first record, so nothing is skipped."""
        consumer = self._consumer
        if consumer is None:
            return
        for (topic, partition), offset in first.items():
            if (topic, partition) in self._assigned:
                try:
                    consumer.seek(TopicPartition(topic, partition, offset))
                except KafkaException as exc:  # revoked meanwhile: the next owner reads from the commit
                    _log.debug("seek %s[%d] failed: %s", topic, partition, exc)

    def _pause_until(self, tp: TP, offset: int, due_s: float) -> None:
        consumer = self._require_consumer()
        if tp not in self._assigned:
            return
        part = TopicPartition(tp[0], tp[1], offset)
        consumer.pause([part])
        consumer.seek(part)
        self._paused[tp] = due_s

    def _resume_due(self) -> None:
        if not self._paused:
            return
        now = time.time()
        due = [tp for tp, at in self._paused.items() if at <= now]
        if due:
            self._require_consumer().resume([TopicPartition(t, p) for t, p in due])
            for tp in due:
                del self._paused[tp]

    def _report_lag(self) -> None:
        """Every few seconds, set the lag gauge of each owned partition that has been fetched from."""
        now = time.monotonic()
        consumer = self._consumer
        if consumer is None or now - self._last_lag < 5.0 or not self._assigned:
            return
        parts = [TopicPartition(t, p) for t, p in self._assigned]
        for tp in consumer.position(parts):
            _low, high = consumer.get_watermark_offsets(tp, cached=True)
            if high >= 0 and tp.offset >= 0:  # unknown until the partition's first fetch
                self.metrics.lag(tp.topic, tp.partition, max(0, high - tp.offset))
                self._last_lag = now

    def _on_assign(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        self._assigned = {(p.topic, p.partition) for p in partitions}
        self._paused = {tp: at for tp, at in self._paused.items() if tp in self._assigned}
        _log.info("partitions assigned", extra={"partitions": sorted(self._assigned)})

    def _on_revoke(self, _consumer: Consumer, partitions: list[TopicPartition]) -> None:
        revoked = {(p.topic, p.partition) for p in partitions}
        self._assigned -= revoked
        for tp in revoked:
            self._paused.pop(tp, None)
        _log.info("partitions revoked", extra={"partitions": sorted(revoked)})

    def _on_delivery(self, err: KafkaError | None, _msg: Message) -> None:
        if err is not None:
            self._delivery_errors.append(err.str())

    def _client_error(self, err: KafkaError) -> None:
        if err.fatal():
            raise EngineError(f"fatal consumer error: {err.str()}")
        _log.warning("consumer error: %s", err.str())

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


class _Rewind(CorpsError):
    """The batch did not commit; its partitions were rewound and it will be read again."""

    retriable = True
