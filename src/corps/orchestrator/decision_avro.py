"""The Avro body of a decision record (``corps.lifecycle.PolicyDecision`` v2), written by hand.

One per proposed event: going through the pydantic model and fastavro would cost more than the rest
of the gate. A unit test holds :func:`decision_body` to what :class:`~corps.events.EventCodec` writes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from corps.events.avro_writer import avro_long
from corps.events.lifecycle import PolicyRef

__all__ = ["common_string", "decision_body", "decision_parts", "long_bytes", "string_bytes"]

_EFFECTS = {"ALLOW": 0, "DENY": 1, "REDACT": 2, "REQUIRE_APPROVAL": 3}  # corps.lifecycle.Effect, in order
_SMALL = tuple(avro_long(n) for n in range(4096))


def long_bytes(value: int) -> bytes:
    """Avro ``long`` (small non-negative values from a table: lengths, sequences, enum indexes)."""
    return _SMALL[value] if 0 <= value < 4096 else avro_long(value)


def string_bytes(value: str) -> bytes:
    """Avro ``string``: the UTF-8 length, then the bytes."""
    data = value.encode()
    return long_bytes(len(data)) + data


common_string = functools.lru_cache(maxsize=4096)(string_bytes)
""":func:`string_bytes` of values that repeat (types, reasons, policy set names and digests)."""


def decision_parts(
    *,
    effect: str,
    reason: str,
    policies: Sequence[PolicyRef],
    redacted_fields: Sequence[str],
    set_name: str,
    set_version: int,
    set_digest: str,
    evaluated_at_ms: int | None,
) -> tuple[bytes, bytes]:
    """The parts of a decision body fixed by the decision: after the decided event, after the link hash."""
    parts = [long_bytes(_EFFECTS[effect]), common_string(reason)]
    if policies:
        parts.append(long_bytes(len(policies)))
        parts.extend(common_string(p.policy_id) + common_string(p.policy_version) for p in policies)
    parts.append(b"\x00")
    if redacted_fields:
        parts.append(long_bytes(len(redacted_fields)))
        parts.extend(common_string(field) for field in redacted_fields)
    parts.append(b"\x00")
    tail = [common_string(set_name), long_bytes(set_version), common_string(set_digest)]
    tail.append(b"\x00" if evaluated_at_ms is None else b"\x02" + long_bytes(evaluated_at_ms))
    return b"".join(parts), b"".join(tail)


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
    middle, tail = decision_parts(
        effect=effect,
        reason=reason,
        policies=policies,
        redacted_fields=redacted_fields,
        set_name=set_name,
        set_version=set_version,
        set_digest=set_digest,
        evaluated_at_ms=evaluated_at_ms,
    )
    return b"".join(
        (
            string_bytes(decided_event_id),
            common_string(decided_event_type),
            middle,
            long_bytes(sequence),
            string_bytes(prev_hash),
            string_bytes(link_hash),
            tail,
        )
    )
