"""The gate's hot path, written by hand: decision record bodies and CloudEvents headers.

Every proposed event costs one :class:`~corps.events.lifecycle.PolicyDecision`. Going through a
pydantic model, :class:`~corps.events.Envelope` and fastavro costs more than the rest of the gate, so
the decision's Avro body and the envelope's headers are written here directly. Both are pinned by unit
tests to what :class:`~corps.events.EventCodec` and :meth:`Envelope.to_headers` produce; the schema id
still comes from the codec (``EventCodec.prepare``), so the registry stays the source of truth.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime

from corps.events import Envelope, EventCodec, RawRecord
from corps.events.lifecycle import PolicyDecision, PolicyRef
from corps.orchestrator.chain import ChainHead, Link, event_digest, version_header
from corps.orchestrator.ids import DECISION_SOURCE, decision_id
from corps.orchestrator.policy import Decision
from corps.orchestrator.topics import OutRecord

__all__ = ["DecisionWriter", "decision_body", "envelope_headers"]

_EFFECTS = {"ALLOW": 0, "DENY": 1, "REDACT": 2, "REQUIRE_APPROVAL": 3}  # corps.lifecycle.Effect, in order


def _varint(value: int) -> bytes:
    """Avro ``long``: zig-zag, then base-128 varint."""
    n = (value << 1) ^ (value >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL = tuple(_varint(n) for n in range(4096))


def _long(value: int) -> bytes:
    """Avro ``long`` (small non-negative values from a table: lengths, sequences, enum indexes)."""
    return _SMALL[value] if 0 <= value < 4096 else _varint(value)


def _string(value: str) -> bytes:
    data = value.encode()
    return _long(len(data)) + data


_common = functools.lru_cache(maxsize=4096)(_string)
""":func:`_string` of values that repeat (types, reasons, policy set names and digests)."""


def decision_body(
    *,
    decided_event_id: str,
    decided_event_type: str,
    effect: str,
    reason: str,
    policies: Sequence[PolicyRef],
    redacted_fields: Sequence[str],
    sequence: int,
    prev_hash: str,
    link_hash: str,
    set_name: str,
    set_version: int,
    set_digest: str,
    evaluated_at_ms: int | None,
) -> bytes:
    """The Avro body (no Confluent frame) of a ``corps.lifecycle.PolicyDecision`` v2."""
    parts = [_string(decided_event_id), _common(decided_event_type), _long(_EFFECTS[effect]), _common(reason)]
    if policies:
        parts.append(_long(len(policies)))
        parts.extend(_common(p.policy_id) + _common(p.policy_version) for p in policies)
    parts.append(b"\x00")
    if redacted_fields:
        parts.append(_long(len(redacted_fields)))
        parts.extend(_common(field) for field in redacted_fields)
    parts.append(b"\x00")
    parts += [_long(sequence), _string(prev_hash), _string(link_hash)]
    parts += [_common(set_name), _long(set_version), _common(set_digest)]
    parts.append(b"\x00" if evaluated_at_ms is None else b"\x02" + _long(evaluated_at_ms))
    return b"".join(parts)


_SPECVERSION: tuple[str, bytes | None] = ("ce_specversion", b"1.0")
_CONTENT_TYPE: tuple[str, bytes | None] = ("content-type", b"application/avro")


@functools.lru_cache(maxsize=4096)
def _header(name: str, value: str) -> tuple[str, bytes | None]:
    """A header whose values repeat (source, type, tenant, step), made once."""
    return (name, value.encode())


def envelope_headers(
    *,
    event_id: str,
    source: str,
    event_type: str,
    time: datetime,
    tenant: str,
    workflow_id: str,
    causation_id: str | None,
    step: str | None,
    traceparent: str | None,
    tracestate: str | None,
) -> list[tuple[str, bytes | None]]:
    """The binary-mode headers :meth:`corps.events.Envelope.to_headers` writes for these attributes."""
    headers: list[tuple[str, bytes | None]] = [
        _SPECVERSION,
        ("ce_id", event_id.encode()),
        _header("ce_source", source),
        _header("ce_type", event_type),
        ("ce_time", time.isoformat().replace("+00:00", "Z").encode()),
        _CONTENT_TYPE,
        _header("ce_tenant", tenant),
        ("ce_workflowid", workflow_id.encode()),
    ]
    if causation_id is not None:
        headers.append(("ce_causationid", causation_id.encode()))
    if step is not None:
        headers.append(_header("ce_step", step))
    if traceparent is not None:
        headers.append(("traceparent", traceparent.encode()))
    if tracestate is not None:
        headers.append(("tracestate", tracestate.encode()))
    return headers


class DecisionWriter:
    """Writes the hash-chained decision records of one decision log.

    Args:
        codec: Resolves (once) the schema id of ``PolicyDecision`` on ``topic``.
        topic: The decision log.
    """

    def __init__(self, codec: EventCodec, topic: str) -> None:
        self.codec = codec
        self.topic = topic
        self._prefix: bytes | None = None

    def write(
        self,
        head: ChainHead,
        partition: int,
        event_topic: str,
        written: OutRecord | RawRecord,
        envelope: Envelope,
        decision: Decision,
        out: list[OutRecord],
    ) -> ChainHead:
        """Append the link deciding about ``written`` (as it is on ``event_topic``); return the new head."""
        evaluated = decision.evaluated_at
        evaluated_ms = None if evaluated is None else int(evaluated.timestamp() * 1000)
        link = Link(
            envelope.id,
            envelope.type,
            decision.effect,
            decision.reason,
            decision.policies,
            decision.redacted_fields,
            decision.set_name,
            decision.set_version,
            decision.set_digest,
            evaluated_ms,
        )
        digest = event_digest(event_topic, written.key, written.headers, written.value)
        new_head, link_hash = head.extend(link, digest)
        body = decision_body(
            decided_event_id=envelope.id,
            decided_event_type=envelope.type,
            effect=decision.effect,
            reason=decision.reason,
            policies=decision.policies,
            redacted_fields=decision.redacted_fields,
            sequence=head.sequence,
            prev_hash=head.hash,
            link_hash=link_hash,
            set_name=decision.set_name,
            set_version=decision.set_version,
            set_digest=decision.set_digest,
            evaluated_at_ms=evaluated_ms,
        )
        headers = envelope_headers(
            event_id=decision_id(envelope.workflow_id, head.sequence),
            source=DECISION_SOURCE,
            event_type=PolicyDecision.event_type,
            time=envelope.time,
            tenant=envelope.tenant,
            workflow_id=envelope.workflow_id,
            causation_id=envelope.id,
            step=envelope.step,
            traceparent=envelope.traceparent,
            tracestate=envelope.tracestate,
        )
        headers.append(version_header())
        key = envelope.workflow_id.encode()
        out.append(OutRecord(self.topic, partition, key, self._frame() + body, headers))
        return new_head

    def _frame(self) -> bytes:
        """Magic byte and schema id of decision records (from the codec, cached)."""
        if self._prefix is None:
            schema_id = self.codec.prepare(self.topic, PolicyDecision.schema_ref())
            self._prefix = b"\x00" + schema_id.to_bytes(4, "big")
        return self._prefix
