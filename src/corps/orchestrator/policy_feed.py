"""Running gates follow the policies topic: a newer set version is switched to between two batches.

:class:`PolicyFeed` reads the compacted policies topic (one partition) from just after the version in
force. Before each batch the service calls :meth:`PolicyFeed.poll`: a newer version of the set the gate
serves is switched to at once — no restart — and the switch is logged with the offset it came from;
every later decision names the new version. Versions of other sets and older versions are ignored.
"""

from __future__ import annotations

import logging

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition

from corps.orchestrator.policy_gate import EnginePolicy
from corps.policy import PolicyStoreError, Switch, decode_record
from corps.policy.store import PolicyStore
from corps.topology.naming import policy_topic

__all__ = ["PolicyFeed", "load_policy"]

_log = logging.getLogger("corps.orchestrator.policy")


def load_policy(config: dict[str, str], set_name: str, policy: EnginePolicy) -> Switch | None:
    """Install the latest published version of ``set_name`` in ``policy`` (``None``: none published).

    Raises:
        PolicyStoreError: The policies topic cannot be read.
    """
    latest = PolicyStore(config).latest(set_name)
    return policy.switch(latest) if latest is not None else None


class PolicyFeed:
    """Switches an :class:`EnginePolicy` to newer versions of its set as they are published.

    Args:
        config: librdkafka configuration.
        set_name: The set the gate serves.
        policy: The gate's policy.
        topic: The policies topic (default :func:`corps.topology.naming.policy_topic`).
    """

    def __init__(
        self, config: dict[str, str], set_name: str, policy: EnginePolicy, topic: str | None = None
    ) -> None:
        self.set_name = set_name
        self.policy = policy
        self.topic = topic or policy_topic()
        self.switches: list[Switch] = []
        offset = policy.offset
        self._consumer = Consumer(
            {
                **config,
                "group.id": f"corps-gate-policies.{set_name}",  # never commits: assign() only
                "enable.auto.commit": False,
                "enable.partition.eof": False,
            }
        )
        start = OFFSET_BEGINNING if offset is None else offset + 1
        self._consumer.assign([TopicPartition(self.topic, 0, start)])

    def poll(self) -> list[Switch]:
        """Read what was published since the last call (no wait); return the switches made."""
        made: list[Switch] = []
        for message in self._consumer.consume(100, 0):
            error = message.error()
            if error is not None:
                if error.code() != KafkaError.UNKNOWN_TOPIC_OR_PART:
                    _log.warning("policies topic: %s", error.str())
                continue
            try:
                published = decode_record(
                    message.key(),
                    message.value(),
                    partition=0,
                    offset=message.offset() or 0,
                    topic=self.topic,
                )
            except PolicyStoreError as exc:
                _log.warning("ignored a policies record: %s", exc)
                continue
            if published is None or published.policy_set.name != self.set_name:
                continue
            switch = self.policy.switch(published)
            if switch is not None:
                _log.info(
                    "policy set %s switched to %s at %s[0]@%s",
                    self.set_name, switch.current, self.topic, switch.offset,
                )  # fmt: skip
                made.append(switch)
        self.switches += made
        return made

    def close(self) -> None:
        """Close the consumer."""
        self._consumer.close()
