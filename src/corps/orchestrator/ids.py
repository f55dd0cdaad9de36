"""Deterministic ids and trusted envelopes of the records the gate and the orchestrator write."""

from __future__ import annotations

import uuid
from datetime import datetime

from corps.events import Envelope
from corps.orchestrator.saga_commands import uuid5_text
from corps.orchestrator.saga_state import construct

__all__ = ["DECISION_SOURCE", "decision_id", "trusted_envelope", "uuid5_text"]

DECISION_SOURCE = "corps/gate"
"""``ce_source`` of every decision record."""
_IDS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:corps:gate:decision")


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
