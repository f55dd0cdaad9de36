"""The policy engine behind the gate's :class:`~corps.orchestrator.policy.Policy` seam.

:class:`EnginePolicy` evaluates the policy set in force on every proposed event, at the proposed
record's timestamp (never the wall clock), and turns the engine's decision into the gate's:

* ``allow`` / ``deny`` as they are; ``redact`` with the redacted payload re-encoded under the writer's
  own schema id (a redaction that no longer fits the schema denies: fail closed);
* ``require_approval`` with the approvals to open (the gate parks the event);
* every decision names the set version (``set:<name>`` reference and the v2 ``set_*`` fields) and the
  policies that took part, so replay can re-evaluate it under the recorded version.

Throttle and budget counters are kept **per partition** of the proposed topics: an event is evaluated
against the counters of its own partition (the workflow key's partition), and those counters are
written to the same partition of the gate's changelog. So a partition's counters move with it on a
rebalance and are restored exactly, any number of gate replicas give the same decisions as one, and
replay re-takes them by threading the counters per partition in offset order. A ``split: even``
limit (the default) stays a bound on the counter key as a whole: the engine is built for the
topology's partition count P and gives each partition ``1/P`` of the limit; ``split: none`` keeps
the limit per partition (see ``topology/policies/README.md``).
:meth:`EnginePolicy.begin` / :meth:`commit` / :meth:`rollback` follow the service's transactions, so a
batch that is read again is not charged twice.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from fastavro import parse_schema, schemaless_writer

from corps.errors import ConfigurationError
from corps.events import EventCodec
from corps.events.lifecycle import PolicyRef
from corps.orchestrator.policy import AllowAll, Decision, GateContext, ProposedEvent
from corps.policy import Decision as EngineDecision
from corps.policy import (
    Effect,
    PolicyEngine,
    PolicyState,
    PublishedPolicySet,
    Switch,
    policy_refs,
    set_ref,
)
from corps.policy.state import Counter, counter_from_json

__all__ = ["COUNTER_KEY_PREFIX", "EnginePolicy", "is_counter_record"]

COUNTER_KEY_PREFIX = "policy-counter:"
"""Changelog keys of policy counters (the other keys of the changelog are workflow ids)."""
_COUNTER_MARK = '{"policy_counter":'
_MEMO_LIMIT = 4096


def is_counter_record(value: bytes) -> bool:
    """True when a changelog value is a policy counter (not a workflow record, which starts ``{"v":``).

    Written with the marker first; early ones had their keys sorted, so the key is looked for anywhere.
    """
    return value.startswith(_COUNTER_MARK.encode()) or (
        not value.startswith(b'{"v":') and b'"policy_counter":' in value
    )


def _counter_json(counter: Counter) -> bytes:
    return json.dumps(counter.to_json(), sort_keys=True, separators=(",", ":")).encode()


def evaluation_time(event: ProposedEvent) -> datetime:
    """The time a policy decision is taken at: the proposed record's timestamp (else ``ce_time``)."""
    ms = event.raw.timestamp_ms
    if ms is None:
        return event.envelope.time
    return datetime.fromtimestamp(ms / 1000, UTC)


class EnginePolicy:
    """The gate's policy: a :class:`~corps.policy.PolicyEngine` plus payload re-encoding.

    Until a set is in force (``engine`` is ``None``: nothing published yet) it decides like
    :class:`~corps.orchestrator.policy.AllowAll`; :meth:`switch` installs the first set.

    Args:
        engine: The engine holding the set in force and the counters, if a set is published.
        codec: The gate's codec (writer schemas of redacted payloads).
        partitions: The partition count P of the topology's proposed topics, which ``split: even``
            throttle and budget limits are shared among (default: the engine's, else 1).

    Raises:
        ConfigurationError: ``partitions`` differs from the count ``engine`` was built for.
    """

    def __init__(
        self, engine: PolicyEngine | None, codec: EventCodec, *, partitions: int | None = None
    ) -> None:
        if engine is not None and partitions is not None and partitions != engine.partitions:
            held = engine.partitions
            raise ConfigurationError(
                f"the policy engine is built for {held} partitions, the gate has {partitions}"
            )
        self.partitions = partitions or (engine.partitions if engine is not None else 1)
        """The partition count P split limits are shared among."""
        self.engine = engine
        self.codec = codec
        self._schemas: dict[int, Any] = {}
        self._default = AllowAll()
        self._base: PolicyState = engine.state if engine is not None else PolicyState()
        """Counters of partitions that have none of their own (an engine's initial state, old records)."""
        self._states: dict[int, PolicyState] = {}
        self._committed: dict[int, PolicyState] = {}
        self._charged: dict[tuple[int, str], Counter] = {}
        self._ref_memo: dict[tuple[object, ...], tuple[PolicyRef, ...]] = {}

    @property
    def offset(self) -> int | None:
        """Offset on the policies topic of the set version in force, if any."""
        return self.engine.offset if self.engine is not None else None

    def decide(self, event: ProposedEvent, context: GateContext) -> Decision:
        """Evaluate the set in force on ``event`` at its record's timestamp."""
        if self.engine is None:
            return self._default.decide(event, context)
        now = evaluation_time(event)
        partition = event.raw.partition
        engine = self.engine
        engine.state = self._states.get(partition, self._base)
        decided = engine.decide(event, now)
        if decided.charges:
            self._states[partition] = engine.state
        version = decided.set_version
        common: dict[str, Any] = {
            "reason": decided.reason,
            "policies": self._refs(decided),
            "redacted_fields": decided.redacted_fields,
            "set_name": version.name,
            "set_version": version.number,
            "set_digest": version.digest,
            "evaluated_at": now,
            "value": None,
            "approvals": (),
        }
        for charge in decided.charges:
            self._charged[partition, charge.key] = charge.counter
        if decided.effect is Effect.DENY:
            return Decision(effect="DENY", **common)
        value: bytes | None = None
        if decided.data is not None and decided.redacted_fields:
            value = self._reencode(event, decided.data)
            if value is None:
                common["reason"] = f"redaction does not fit the writer schema: {decided.reason}"
                return Decision(effect="DENY", **common)
        common["value"] = value
        if decided.effect is Effect.REQUIRE_APPROVAL:
            common["approvals"] = decided.approvals
            return Decision(effect="REQUIRE_APPROVAL", **common)
        return Decision(effect="REDACT" if value is not None else "ALLOW", **common)

    def _refs(self, decided: EngineDecision) -> tuple[PolicyRef, ...]:
        """The set reference and the policies that took part (the ``PolicyRef`` models are memoised)."""
        key = (decided.set_version, *((hit.policy_id, hit.version) for hit in decided.policies))
        refs = self._ref_memo.get(key)
        if refs is None:
            refs = (set_ref(decided.set_version), *policy_refs(decided))
            if len(self._ref_memo) >= _MEMO_LIMIT:
                self._ref_memo.clear()
            self._ref_memo[key] = refs
        return refs

    def switch(self, published: PublishedPolicySet) -> Switch | None:
        """Move to a newer version of the set in force (see :meth:`PolicyEngine.switch`).

        Without a set in force, the first published one is installed (with the counters restored).
        """
        if self.engine is None:
            self.engine = PolicyEngine(published, self._base, partitions=self.partitions)
            return Switch(previous=None, current=self.engine.version, offset=published.offset)
        return self.engine.switch(published)

    # -- transactions and the counters changelog -------------------------------------------------------

    def begin(self) -> None:
        """A batch starts (nothing to do: the committed state is kept since the last commit)."""

    def counters(self, partition: int) -> PolicyState:
        """The counters events of ``partition`` are evaluated against."""
        return self._states.get(partition, self._base)

    def commit(self) -> None:
        """The batch's transaction committed: its counters are the committed ones."""
        for partition, _key in self._charged:
            self._committed[partition] = self._states[partition]
        self._charged.clear()

    def rollback(self) -> None:
        """The batch's transaction failed: forget the counters it charged."""
        for partition, _key in self._charged:
            if partition in self._committed:
                self._states[partition] = self._committed[partition]
            else:
                self._states.pop(partition, None)
        self._charged.clear()

    def changelog(self) -> list[tuple[int, bytes, bytes]]:
        """``(partition, key, value)`` of every counter the batch in flight changed.

        The value names its partition too: restore puts it back where it was charged.
        """
        return [
            (
                partition,
                f"{COUNTER_KEY_PREFIX}{key}".encode(),
                _COUNTER_MARK.encode()
                + json.dumps(key).encode()
                + b',"partition":'
                + str(partition).encode()
                + b',"counter":'
                + _counter_json(counter)
                + b"}",
            )
            for (partition, key), counter in self._charged.items()
        ]

    def restore(self, values: list[bytes]) -> int:
        """Load counters from changelog values (oldest first, the last per key wins); return how many.

        Values without a partition (written before counters were per partition) become the counters
        of every partition that has none of its own.
        """
        updates: dict[int | None, dict[str, Counter]] = {}
        for value in values:
            data = json.loads(value)
            partition = data.get("partition")
            updates.setdefault(partition if isinstance(partition, int) else None, {})[
                str(data["policy_counter"])
            ] = counter_from_json(data["counter"])
        for partition, counters in updates.items():
            if partition is None:
                self._base = self._base.with_updates(counters)
                continue
            state = self._states.get(partition, self._base).with_updates(counters)
            self._states[partition] = self._committed[partition] = state
        return sum(len(counters) for counters in updates.values())

    # -- internals ----------------------------------------------------------------------------------------

    def _reencode(self, event: ProposedEvent, data: Any) -> bytes | None:
        value = event.raw.value or b""
        schema_id = int.from_bytes(value[1:5], "big")
        parsed = self._schemas.get(schema_id)
        if parsed is None:
            parsed = parse_schema(dict(self.codec.writer_schema(schema_id)))
            self._schemas[schema_id] = parsed
        buf = BytesIO()
        buf.write(value[:5])
        try:
            schemaless_writer(buf, parsed, dict(data))
        except (TypeError, ValueError, OverflowError, KeyError, AttributeError):
            return None
        return buf.getvalue()
