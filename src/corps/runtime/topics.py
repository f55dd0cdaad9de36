"""Start-up checks of the agent's topics; creation of the runtime's own (retry, dead letter, registry)."""

from __future__ import annotations

from collections.abc import Iterable

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from corps.errors import ConfigurationError
from corps.events.errors import BrokerUnavailableError

__all__ = ["TopicAdmin"]


class TopicAdmin:
    """A small wrapper of confluent-kafka's AdminClient for the runtime's start-up checks.

    Args:
        config: librdkafka client configuration (bootstrap servers, security).
        timeout_s: Timeout of each admin request.
    """

    def __init__(self, config: dict[str, str], timeout_s: float = 30.0) -> None:
        self._admin = AdminClient(dict(config))
        self._timeout = timeout_s
        self._servers = config.get("bootstrap.servers", "?")

    def partitions(self) -> dict[str, int]:
        """Return every topic of the cluster with its partition count.

        Raises:
            BrokerUnavailableError: No broker answered in time.
        """
        try:
            metadata = self._admin.list_topics(timeout=self._timeout)
        except KafkaException as exc:
            raise BrokerUnavailableError(f"Kafka at {self._servers} cannot be reached: {exc}") from exc
        return {name: len(t.partitions) for name, t in metadata.topics.items() if t.error is None}

    def require(self, topics: Iterable[str], what: str) -> dict[str, int]:
        """Return the partition counts of ``topics``, which must all exist.

        Raises:
            ConfigurationError: A topic is missing; the message names it and ``what`` it is for.
        """
        existing = self.partitions()
        wanted = sorted(set(topics))
        missing = [t for t in wanted if t not in existing]
        if missing:
            raise ConfigurationError(
                f"{what} topic(s) missing: {', '.join(missing)} (create them, e.g. `corps topology apply`)"
            )
        return {t: existing[t] for t in wanted}

    def ensure(
        self,
        topics: Iterable[str],
        *,
        partitions: int,
        replication: int,
        config: dict[str, str] | None = None,
    ) -> list[str]:
        """Create those of ``topics`` that do not exist yet; return the names created.

        Raises:
            BrokerUnavailableError: The cluster cannot be reached.
            ConfigurationError: The cluster refused to create a topic.
        """
        existing = self.partitions()
        new = [
            NewTopic(t, partitions, replication, config=dict(config or {}))
            for t in topics
            if t not in existing
        ]
        if not new:
            return []
        created = []
        for name, future in self._admin.create_topics(new, request_timeout=self._timeout).items():
            try:
                future.result(timeout=self._timeout)
                created.append(name)
            except KafkaException as exc:
                if exc.args and getattr(exc.args[0], "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
                    continue  # a replica starting at the same time won the race
                raise ConfigurationError(f"cannot create topic {name}: {exc}") from exc
        return created
