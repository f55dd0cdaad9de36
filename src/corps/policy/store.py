"""Published policy sets on the compacted ``corps.policies`` topic: publish, read back, fold.

Each publication writes two records of the same value (canonical JSON: format, name, number, digest
and the set's content): key ``<name>@<number>`` — never overwritten, so compaction keeps every version
for replay — then key ``<name>``, the latest pointer. A reader folds the records into a
:class:`PolicyHistory`; the latest version of a set is the highest number seen for it, whichever key
carried it, so a publisher that died between the two writes loses nothing. The topic has one partition:
an offset orders every publication, and the gate records the offset it switched at.

Numbers come from the reader (latest + 1); two ``corps policy apply`` racing on one set can pick the
same number — run apply from one place (CI) per set.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from corps.errors import ConfigurationError
from corps.policy.errors import PolicyStoreError
from corps.policy.policy_set import PolicySet, SetVersion, canonical_json
from corps.topology.naming import policy_topic

__all__ = ["PolicyHistory", "PolicyStore", "PublishedPolicySet", "decode_record", "encode_value"]

FORMAT = 1


@dataclass(frozen=True)
class PublishedPolicySet:
    """A policy set as read from (or written to) the policies topic.

    Attributes:
        policy_set: The set, carrying its number.
        digest: The digest recorded with it (verified against the stored content).
        key: The record key (``<name>`` or ``<name>@<number>``).
        partition: Partition of the record.
        offset: Offset of the record.
    """

    policy_set: PolicySet
    digest: str
    key: str
    partition: int
    offset: int

    @property
    def version(self) -> SetVersion:
        """Name, number and the recorded digest."""
        return SetVersion(self.policy_set.name, self.policy_set.number, self.digest)


def encode_value(policy_set: PolicySet) -> bytes:
    """The record value of a numbered set: canonical JSON of format, name, number, digest, content."""
    body = {
        "format": FORMAT,
        "name": policy_set.name,
        "number": policy_set.number,
        "digest": policy_set.digest,
        "content": policy_set.content(),
    }
    return canonical_json(body).encode()


def decode_record(
    key: bytes | None, value: bytes | None, *, partition: int, offset: int, topic: str | None = None
) -> PublishedPolicySet | None:
    """Read one record of the policies topic (``None`` for a tombstone).

    Raises:
        PolicyStoreError: The record is not a policy set, or its digest does not match its content.
    """
    if value is None:
        return None
    where = f"{topic or policy_topic()}[{partition}]@{offset}"
    try:
        body = json.loads(value)
        content = body["content"]
        stored = hashlib.sha256(canonical_json(content).encode()).hexdigest()
        if body.get("format") != FORMAT:
            raise PolicyStoreError(f"{where}: unknown policy record format {body.get('format')!r}")
        if stored != body["digest"]:
            raise PolicyStoreError(f"{where}: digest {body['digest']} does not match the content ({stored})")
        policy_set = PolicySet.from_content(content, int(body["number"]))
    except (ValueError, KeyError, TypeError, ConfigurationError) as exc:
        raise PolicyStoreError(f"{where}: not a policy set record: {exc}") from exc
    if policy_set.name != body["name"]:
        raise PolicyStoreError(f"{where}: name {body['name']!r} differs from the content's")
    text_key = key.decode(errors="replace") if key is not None else ""
    return PublishedPolicySet(policy_set, body["digest"], text_key, partition, offset)


@dataclass
class PolicyHistory:
    """Every published version of every set, folded from the topic in offset order."""

    versions: dict[str, dict[int, PublishedPolicySet]] = field(default_factory=dict)

    def add(self, published: PublishedPolicySet) -> bool:
        """Fold one record in; True when it is a new latest version of its set.

        Of the two records of one version, the latest pointer (key ``<name>``) is kept when both are
        read: its offset is the one a reader reports.
        """
        name = published.policy_set.name
        versions = self.versions.setdefault(name, {})
        number = published.policy_set.number
        newest = max(versions, default=-1)
        if number not in versions or published.key == name:
            versions[number] = published
        return number > newest

    def latest(self, name: str) -> PublishedPolicySet | None:
        """The highest-numbered version of set ``name``."""
        versions = self.versions.get(name)
        return versions[max(versions)] if versions else None

    def get(self, name: str, number: int) -> PublishedPolicySet | None:
        """Version ``number`` of set ``name`` (for replay under a recorded version)."""
        return self.versions.get(name, {}).get(number)

    def names(self) -> list[str]:
        """The sets published, sorted."""
        return sorted(self.versions)


@dataclass(frozen=True)
class PublishOutcome:
    """What :meth:`PolicyStore.publish` did.

    Attributes:
        published: The set's latest version on the topic (the one just written, or the unchanged one).
        changed: False when the latest version already had this content (nothing was written).
    """

    published: PublishedPolicySet
    changed: bool


class PolicyStore:
    """Publish and read policy sets on the policies topic.

    Args:
        config: librdkafka configuration (``KafkaSettings.client_config()``).
        topic: The topic (default :func:`corps.topology.naming.policy_topic`).
        timeout_s: Timeout of each broker request.
    """

    def __init__(self, config: dict[str, str], *, topic: str | None = None, timeout_s: float = 30.0) -> None:
        self._config = dict(config)
        self.topic = topic or policy_topic()
        self._timeout = timeout_s

    def ensure_topic(self, replication: int = 1) -> bool:
        """Create the compacted one-partition topic if it does not exist; True when created.

        Raises:
            PolicyStoreError: The cluster refused or cannot be reached.
        """
        admin = AdminClient(dict(self._config))
        spec = NewTopic(self.topic, 1, replication, config={"cleanup.policy": "compact"})
        future = admin.create_topics([spec], request_timeout=self._timeout)[self.topic]
        try:
            future.result(timeout=self._timeout)
        except KafkaException as exc:
            if exc.args and exc.args[0].code() == KafkaError.TOPIC_ALREADY_EXISTS:
                return False
            raise PolicyStoreError(f"cannot create {self.topic}: {exc}") from exc
        return True

    def read(self) -> PolicyHistory:
        """Read the whole topic up to its end into a history (empty when the topic does not exist).

        Raises:
            PolicyStoreError: The broker cannot be reached in time, or a record is not a policy set.
        """
        history = PolicyHistory()
        for published in self._records():
            history.add(published)
        return history

    def latest(self, name: str) -> PublishedPolicySet | None:
        """The latest published version of set ``name`` and where it sits."""
        return self.read().latest(name)

    def publish(self, policy_set: PolicySet) -> PublishOutcome:
        """Publish ``policy_set`` as the next version of its name, unless its content is unchanged.

        Raises:
            PolicyStoreError: A record could not be written.
        """
        current = self.latest(policy_set.name)
        if current is not None and current.digest == policy_set.digest:
            return PublishOutcome(current, changed=False)
        numbered = policy_set.numbered(current.policy_set.number + 1 if current else 1)
        value = encode_value(numbered)
        delivered: dict[str, tuple[int, int]] = {}
        errors: list[str] = []

        def report(err: Any, msg: Any) -> None:
            if err is not None:
                errors.append(str(err))
            else:
                delivered[msg.key().decode()] = (msg.partition(), msg.offset())

        producer = Producer({**self._config, "enable.idempotence": True, "acks": "all"})
        archive_key, latest_key = f"{numbered.name}@{numbered.number}", numbered.name
        for key in (archive_key, latest_key):
            producer.produce(self.topic, key=key.encode(), value=value, on_delivery=report)
        remaining = producer.flush(self._timeout)
        if errors or remaining or latest_key not in delivered:
            why = "; ".join(errors) or f"{remaining} record(s) not delivered in {self._timeout}s"
            raise PolicyStoreError(f"cannot publish {numbered.name} to {self.topic}: {why}")
        partition, offset = delivered[latest_key]
        return PublishOutcome(
            PublishedPolicySet(numbered, numbered.digest, latest_key, partition, offset), True
        )

    def _records(self) -> Iterable[PublishedPolicySet]:
        consumer = Consumer(
            {
                **self._config,
                "group.id": f"corps-policy-reader-{uuid.uuid4().hex[:12]}",
                "enable.auto.commit": False,
                "isolation.level": "read_committed",
                "auto.offset.reset": "earliest",
                "enable.partition.eof": True,
            }
        )
        try:
            metadata = consumer.list_topics(self.topic, timeout=self._timeout)
            topic = metadata.topics.get(self.topic)
            if topic is None or topic.error is not None:
                return []
            ends: dict[int, int] = {}
            for partition in topic.partitions:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(self.topic, partition), timeout=self._timeout
                )
                if high > low:
                    ends[partition] = high
            if not ends:
                return []
            consumer.assign([TopicPartition(self.topic, p, 0) for p in ends])
            return self._drain(consumer, ends)
        except KafkaException as exc:
            raise PolicyStoreError(f"cannot read {self.topic}: {exc}") from exc
        finally:
            consumer.close()

    def _drain(self, consumer: Consumer, ends: dict[int, int]) -> list[PublishedPolicySet]:
        found: list[PublishedPolicySet] = []
        pending = dict(ends)
        while pending:
            msg = consumer.poll(self._timeout)
            if msg is None:
                raise PolicyStoreError(f"reading {self.topic} stalled before its end ({pending})")
            error = msg.error()
            partition, offset = msg.partition() or 0, msg.offset() or 0
            if error is not None:
                if error.code() == KafkaError._PARTITION_EOF:
                    pending.pop(partition, None)  # robust to compaction gaps at the end
                    continue
                raise PolicyStoreError(f"cannot read {self.topic}: {error}")
            published = decode_record(
                msg.key(), msg.value(), partition=partition, offset=offset, topic=self.topic
            )
            if published is not None:
                found.append(published)
            if offset + 1 >= pending.get(partition, 0):
                pending.pop(partition, None)
        return found
