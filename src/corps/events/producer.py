"""An idempotent confluent-kafka producer for encoded events (acks=all, enable.idempotence)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException, Message, Producer

from corps.events.errors import BrokerUnavailableError
from corps.events.record import OutgoingRecord
from corps.settings import KafkaSettings

__all__ = ["DeliveryReport", "EventProducer"]


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """The broker's answer for one record: where it landed, or why it did not."""

    topic: str
    partition: int
    offset: int
    error: str | None = None
    retriable: bool = False

    @property
    def ok(self) -> bool:
        """True when the record was acknowledged by all in-sync replicas."""
        return self.error is None


DeliveryCallback = Callable[[DeliveryReport], None]


class EventProducer:
    """Sends :class:`OutgoingRecord` objects with an idempotent producer.

    Args:
        kafka: How to reach the cluster.
        client_id: Kafka client id.
        config: Extra librdkafka settings (override the defaults, e.g. ``linger.ms``).
    """

    def __init__(
        self,
        kafka: KafkaSettings,
        *,
        client_id: str = "corps",
        config: Mapping[str, str | int | float | bool] | None = None,
    ) -> None:
        conf: dict[str, str | int | float | bool] = {
            **kafka.client_config(),
            "client.id": client_id,
            "enable.idempotence": True,
            "acks": "all",
            "linger.ms": 5,
            "message.timeout.ms": 30_000,
        }
        conf.update(config or {})
        self.bootstrap_servers = kafka.bootstrap_servers
        self._producer = Producer(conf)

    def check_connection(self, timeout_s: float = 5.0) -> set[str]:
        """Ask the cluster for its metadata; return the topic names.

        Raises:
            BrokerUnavailableError: No broker answered within ``timeout_s``.
        """
        try:
            metadata = self._producer.list_topics(timeout=timeout_s)
        except KafkaException as exc:
            raise BrokerUnavailableError(
                f"Kafka at {self.bootstrap_servers} cannot be reached: {exc.args[0] if exc.args else exc}"
            ) from exc
        return set(metadata.topics)

    def send(self, record: OutgoingRecord, on_delivery: DeliveryCallback | None = None) -> None:
        """Queue ``record``; ``on_delivery`` is called from :meth:`poll` or :meth:`flush`.

        Waits (serving delivery reports) while the local queue is full.
        """
        callback = None if on_delivery is None else _adapt(on_delivery)
        while True:
            try:
                headers: list[tuple[str, str | bytes | None]] = [*record.headers]
                self._producer.produce(
                    record.topic, record.value, record.key, headers=headers, on_delivery=callback
                )
                return
            except BufferError:
                self._producer.poll(0.05)

    def poll(self, timeout_s: float = 0.0) -> int:
        """Serve delivery callbacks; return how many were served."""
        return int(self._producer.poll(timeout_s))

    def flush(self, timeout_s: float = 30.0) -> int:
        """Wait for every queued record to be acknowledged or fail; return how many are still queued."""
        deadline = time.monotonic() + timeout_s
        remaining = len(self._producer)
        while remaining and time.monotonic() < deadline:
            remaining = int(self._producer.flush(min(0.5, max(deadline - time.monotonic(), 0.0))))
        return remaining

    def __len__(self) -> int:
        return len(self._producer)


def _adapt(on_delivery: DeliveryCallback) -> Callable[[KafkaError | None, Message], None]:
    def callback(err: KafkaError | None, msg: Message) -> None:
        if err is None:
            on_delivery(DeliveryReport(msg.topic() or "", msg.partition() or 0, msg.offset() or 0))
        else:
            on_delivery(
                DeliveryReport(msg.topic() or "", -1, -1, error=err.str(), retriable=bool(err.retriable()))
            )

    return callback
