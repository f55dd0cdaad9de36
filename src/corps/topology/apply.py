"""Read the cluster's topics and carry out a :class:`~corps.topology.plan.TopicPlan` (confluent-kafka admin).

Every call waits for the broker's answer and wraps failures in corps errors. Applying is idempotent:
topics that already exist are left alone unless the plan says otherwise, and a ``TOPIC_ALREADY_EXISTS``
answer (someone created it between diff and apply) is not an error.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from concurrent.futures import Future
from typing import Any

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

# confluent-kafka ships type hints but re-exports these from confluent_kafka.admin only implicitly.
from confluent_kafka.admin._config import AlterConfigOpType, ConfigEntry, ConfigResource
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewPartitions, NewTopic

from corps.errors import CorpsError, ServiceUnavailableError
from corps.topology.plan import ChangeKind, CurrentTopic, TopicPlan, TopicSpec, diff_topics

__all__ = ["ApplyError", "execute_plan", "read_cluster", "wait_converged"]

_TIMEOUT = 30.0


class ApplyError(CorpsError):
    """The broker refused a topic change; the message names the topic and the broker's reason."""


def _wait(futures: dict[Any, Future[Any]], what: str) -> dict[Any, Any]:
    results: dict[Any, Any] = {}
    for key, future in futures.items():
        try:
            results[key] = future.result(timeout=_TIMEOUT)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                results[key] = None
                continue
            raise ApplyError(f"{what} {key}: {error or exc}") from exc
        except TimeoutError as exc:
            raise ServiceUnavailableError(
                f"{what} {key}: no answer from the broker in {_TIMEOUT:.0f}s"
            ) from exc
    return results


def read_cluster(admin: AdminClient, specs: Iterable[TopicSpec]) -> dict[str, CurrentTopic]:
    """Snapshot the topics of ``specs`` that exist: partitions, replication, managed config values."""
    wanted = {spec.name: spec for spec in specs}
    try:
        metadata = admin.list_topics(timeout=_TIMEOUT)
    except KafkaException as exc:
        raise ServiceUnavailableError(f"cannot list topics: {exc}") from exc
    present = {name: meta for name, meta in metadata.topics.items() if name in wanted and meta.error is None}
    resources = {name: ConfigResource(ResourceType.TOPIC, name) for name in present}
    configs: dict[str, dict[str, str]] = {}
    if resources:
        described = _wait(admin.describe_configs(list(resources.values())), "describe configs of")
        for resource, entries in described.items():
            keys = wanted[resource.name].config.keys()
            configs[resource.name] = {k: str(entries[k].value) for k in keys if k in entries}
    current: dict[str, CurrentTopic] = {}
    for name, meta in present.items():
        partitions = meta.partitions
        replication = len(next(iter(partitions.values())).replicas) if partitions else 0
        current[name] = CurrentTopic(
            name=name, partitions=len(partitions), replication=replication, config=configs.get(name, {})
        )
    return current


def _int(value: int | None) -> int:
    if value is None:
        raise ApplyError("a create / add-partitions change without a partition count (a bug in the plan)")
    return value


def execute_plan(admin: AdminClient, plan: TopicPlan) -> int:
    """Carry out ``plan``; returns how many changes were made.

    Raises:
        ApplyError: the plan has refusals (nothing is changed then), or the broker refused a change.
    """
    if plan.refusals:
        raise ApplyError("refusing to apply:\n" + "\n".join(plan.refusals))
    creates = [c for c in plan.changes if c.kind is ChangeKind.CREATE]
    grows = [c for c in plan.changes if c.kind is ChangeKind.ADD_PARTITIONS]
    alters = [c for c in plan.changes if c.kind is ChangeKind.ALTER_CONFIG]
    if creates:
        new = [
            NewTopic(
                c.topic,
                num_partitions=_int(c.partitions),
                replication_factor=_int(c.replication),
                config=dict(c.config),
            )
            for c in creates
        ]
        _wait(admin.create_topics(new, operation_timeout=_TIMEOUT), "create topic")
    if grows:
        _wait(
            admin.create_partitions([NewPartitions(c.topic, _int(c.partitions)) for c in grows]),
            "add partitions to",
        )
    if alters:
        resources = [
            ConfigResource(
                ResourceType.TOPIC,
                c.topic,
                incremental_configs=[
                    ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET)
                    for k, v in c.config.items()
                ],
            )
            for c in alters
        ]
        _wait(admin.incremental_alter_configs(resources), "alter config of")
    return len(plan.changes)


def wait_converged(admin: AdminClient, specs: list[TopicSpec], *, timeout_s: float = _TIMEOUT) -> None:
    """Wait until the cluster reports every topic as ``specs`` declare it.

    The broker acknowledges a change before every metadata / config read reflects it (KRaft applies it
    through the metadata log), so ``apply`` waits here: a second ``apply`` then sees no difference.

    Raises:
        ApplyError: the cluster still differs after ``timeout_s`` (the message lists what).
    """
    deadline = time.monotonic() + timeout_s
    delay = 0.05
    while True:
        plan = diff_topics(specs, read_cluster(admin, specs))
        if plan.empty:
            return
        if time.monotonic() >= deadline:
            pending = [f"{c.kind.value} {c.topic}" for c in plan.changes] + list(plan.refusals)
            raise ApplyError(f"the cluster did not converge in {timeout_s:.0f}s: " + "; ".join(pending))
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
