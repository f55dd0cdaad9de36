"""What every benchmark module receives: where the broker is, how big to run, and topic helpers."""

from __future__ import annotations

import contextlib
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]  # no __all__ there

__all__ = ["SCALES", "BenchContext", "Scale"]


@dataclass(frozen=True)
class Scale:
    """How long/large to run. ``full`` is what ``make bench`` uses; ``small`` is a quick check.

    Modules state their figures for ``full`` and pass them through :meth:`count` / :meth:`seconds`, so
    one knob shrinks every benchmark alike.
    """

    name: str
    factor: float

    def count(self, full: int, minimum: int = 1) -> int:
        """Scale a message count given for the full run."""
        return max(minimum, round(full * self.factor))

    def seconds(self, full: float, minimum: float = 1.0) -> float:
        """Scale a duration given for the full run."""
        return max(minimum, full * self.factor)


SCALES: dict[str, Scale] = {
    "small": Scale(name="small", factor=0.2),
    "full": Scale(name="full", factor=1.0),
}


@dataclass
class BenchContext:
    """The shared context of one benchmark run.

    Attributes:
        client_config: the base librdkafka configuration (``bootstrap.servers`` and security settings);
            modules copy it and add their own producer/consumer settings.
        registry_url: the Confluent-compatible schema registry base URL.
        scale: the size knob.
        partitions: the default partition count of benchmark topics.
        run_id: a short unique id, part of every topic and group name of this run.
        shared: hand-over between modules of the same run (e.g. B1 leaves its filled topic for B2).
    """

    client_config: dict[str, str]
    registry_url: str
    scale: Scale
    partitions: int = 3
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    shared: dict[str, Any] = field(default_factory=dict)
    _created: list[str] = field(default_factory=list, repr=False)
    _admin: AdminClient | None = field(default=None, repr=False)
    _counter: int = field(default=0, repr=False)

    @property
    def bootstrap_servers(self) -> str:
        """The ``bootstrap.servers`` of the broker under test."""
        return self.client_config["bootstrap.servers"]

    @property
    def admin(self) -> AdminClient:
        """A lazily created admin client for the broker under test."""
        if self._admin is None:
            self._admin = AdminClient(dict(self.client_config))
        return self._admin

    def unique_name(self, label: str) -> str:
        """Return a name unique to this run, for a topic or a consumer group: ``bench-<label>-<run>-<n>``."""
        self._counter += 1
        return f"bench-{label}-{self.run_id}-{self._counter}"

    def create_topic(
        self, label: str, partitions: int | None = None, config: dict[str, str] | None = None
    ) -> str:
        """Create a fresh topic with a unique name and wait until every partition has a leader.

        The topic is deleted again when the run ends (:meth:`close`).

        Returns:
            The topic name.
        """
        name = self.unique_name(label)
        count = partitions or self.partitions
        topic = NewTopic(name, num_partitions=count, replication_factor=-1, config=config or {})
        self.admin.create_topics([topic], operation_timeout=30)[name].result(timeout=60)
        self._created.append(name)
        self._await_leaders(name, count)
        return name

    def _await_leaders(self, name: str, count: int, timeout_s: float = 30.0) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            meta = self.admin.list_topics(name, timeout=10).topics.get(name)
            if (
                meta is not None
                and meta.error is None
                and len(meta.partitions) == count
                and all(p.leader >= 0 for p in meta.partitions.values())
            ):
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {name}: partitions without a leader after {timeout_s} s")
            time.sleep(0.1)

    def close(self) -> None:
        """Delete the topics this run created (best effort) and release the admin client."""
        if self._created:
            futures = self.admin.delete_topics(list(self._created), operation_timeout=30)
            for future in futures.values():
                # already gone or the broker is shutting down: nothing left to clean up then
                with contextlib.suppress(KafkaException):
                    future.result(timeout=60)
            self._created.clear()
        self._admin = None  # the client is destroyed with its last reference, before the broker stops
