"""Approval votes as records (the SDK side of ``corps approve | reject``).

A vote is an ApprovalGranted / ApprovalDenied proposed on the workflow's proposed lifecycle topic;
the gate counts it (see :mod:`corps.orchestrator.approvals_stage`). Its ``request_id`` is left empty:
the gate finds the pending request of the named ``step`` in the workflow.
"""

from __future__ import annotations

from corps.events import Envelope, EventCodec, OutgoingRecord
from corps.events.lifecycle import ApprovalDenied, ApprovalGranted
from corps.topology import Topology
from corps.topology.naming import Stage, lifecycle_topic

__all__ = ["vote_record"]


def vote_record(
    codec: EventCodec,
    topology: Topology,
    *,
    workflow_id: str,
    step: str,
    approver: str,
    grant: bool,
    reason: str = "",
    tenant: str = "default",
    source: str = "corps://cli/approve",
) -> OutgoingRecord:
    """The encoded vote of ``approver`` about ``step`` of ``workflow_id``, for the proposed lifecycle topic.

    Raises:
        SchemaNotRegisteredError: The topology's schemas are not registered (apply it first).
        RegistryUnavailableError: The registry cannot be reached.
    """
    payload: ApprovalGranted | ApprovalDenied
    if grant:
        payload = ApprovalGranted(request_id="", step=step, approver=approver, comment=reason or None)
    else:
        payload = ApprovalDenied(request_id="", step=step, approver=approver, reason=reason or "rejected")
    envelope = Envelope.new(
        payload.event_type, tenant=tenant, workflow_id=workflow_id, source=source, step=step
    )
    topic = lifecycle_topic(topology.workflow.name, Stage.PROPOSED)
    return codec.encode(topic, payload, envelope)
