"""Deterministic ids and trusted envelopes of the records the gate and the orchestrator write."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from corps.events import Envelope
from corps.orchestrator.saga_commands import uuid5_text
from corps.orchestrator.saga_state import construct

__all__ = ["DECISION_SOURCE", "ORCHESTRATOR_SOURCE", "decision_id", "trusted_envelope", "uuid5_text"]

DECISION_SOURCE = "corps/gate"
"""``ce_source`` of every decision record."""
ORCHESTRATOR_SOURCE = "corps/orchestrator"
"""``ce_source`` of the orchestrator's own lifecycle events."""
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:corps:gate:decision")
_IDS_BYTES = _IDS.bytes
_VARIANT = {c: "89ab"[int(c, 16) & 0x3] for c in "0123456789abcdef"}


def decision_id(workflow_id: str, sequence: int) -> str:
    """The ``ce_id`` of link ``sequence`` of a workflow's chain (deterministic).

    ``uuid5_text(_IDS, f"{workflow_id}/{sequence}")`` (a unit test holds it to that), with the
    namespace's bytes taken once: one per link.
    """
    h = hashlib.sha1(_IDS_BYTES + f"{workflow_id}/{sequence}".encode()).hexdigest()  # noqa: S324 - RFC 4122
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


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

    Every field is passed, so no default applies; :func:`~corps.orchestrator.saga_state.construct`
    skips even ``model_construct``'s walk over the fields.
    """
    return construct(
        Envelope,
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
