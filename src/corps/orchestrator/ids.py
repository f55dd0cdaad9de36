"""Deterministic ids and trusted envelopes of the records the gate and the orchestrator write."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from corps.events import Envelope

__all__ = ["DECISION_SOURCE", "decision_id", "trusted_envelope", "uuid5_text"]

DECISION_SOURCE = "corps/gate"
"""``ce_source`` of every decision record."""
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:corps:gate:decision")


def uuid5_text(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))``, about four times faster (no UUID object on the way)."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])  # noqa: S324 - RFC 4122
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def decision_id(workflow_id: str, sequence: int) -> str:
    """The ``ce_id`` of link ``sequence`` of a workflow's chain (deterministic)."""
    return uuid5_text(_IDS, f"{workflow_id}/{sequence}")


def trusted_envelope(
    *,
    event_id: str,
    source: str,
    event_type: str,
    time: datetime,
    tenant: str,
    workflow_id: str,
    causation_id: str | None,
    step: str | None,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> Envelope:
    """An envelope of attributes taken from a validated envelope or made here: built without validation.

    Every field is passed, so pydantic runs no default factory (that alone costs more than the rest).
    """
    return Envelope.model_construct(
        specversion="1.0",
        id=event_id,
        source=source,
        type=event_type,
        time=time,
        datacontenttype="application/avro",
        tenant=tenant,
        workflow_id=workflow_id,
        causation_id=causation_id,
        step=step,
        traceparent=traceparent,
        tracestate=tracestate,
        extensions={},
    )
