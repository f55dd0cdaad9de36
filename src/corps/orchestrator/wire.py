"""The gate's hot path, written by hand: decision records (body, CloudEvents headers, chain link).

Every proposed event costs one :class:`~corps.events.lifecycle.PolicyDecision`. Going through a
pydantic model, :class:`~corps.events.Envelope` and fastavro costs more than the rest of the gate, so
the decision's Avro body (:mod:`corps.orchestrator.decision_avro`) and the envelope's headers are
written directly. Both are pinned by unit tests to what :class:`~corps.events.EventCodec` and
:meth:`Envelope.to_headers` produce; the schema id still comes from the codec
(``EventCodec.prepare``), so the registry stays the source of truth.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from corps.events import Envelope, EventCodec, RawRecord
from corps.events.headers import format_time
from corps.events.lifecycle import PolicyDecision
from corps.orchestrator.chain import (
    ChainHead,
    Link,
    LinkTemplate,
    event_digest,
    link_template,
    templated_hash,
    version_header,
)
from corps.orchestrator.decision_avro import (
    common_string,
    decision_body,
    decision_parts,
    long_bytes,
    string_bytes,
)
from corps.orchestrator.ids import DECISION_SOURCE, decision_id
from corps.orchestrator.policy import Decision
from corps.orchestrator.topics import OutRecord

__all__ = [
    "CONTENT_TYPE_HEADER",
    "SPECVERSION_HEADER",
    "DecisionWriter",
    "common_header",
    "decision_body",
    "decision_parts",
    "envelope_headers",
    "headers_of",
]

SPECVERSION_HEADER: tuple[str, bytes | None] = ("ce_specversion", b"1.0")
CONTENT_TYPE_HEADER: tuple[str, bytes | None] = ("content-type", b"application/avro")
_SPECVERSION, _CONTENT_TYPE = SPECVERSION_HEADER, CONTENT_TYPE_HEADER
_HEADERS: dict[str, dict[str, tuple[str, bytes | None]]] = {
    name: {} for name in ("ce_source", "ce_type", "ce_tenant", "ce_step")
}


def common_header(name: str, value: str) -> tuple[str, bytes | None]:
    """A header whose values repeat (``name``: ce_source, ce_type, ce_tenant or ce_step), made once."""
    made = _HEADERS[name]
    header = made.get(value)
    if header is None:
        if len(made) >= 4096:
            made.clear()
        header = made[value] = (name, value.encode())
    return header


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
        common_header("ce_source", source),
        common_header("ce_type", event_type),
        ("ce_time", format_time(time)),
        _CONTENT_TYPE,
        common_header("ce_tenant", tenant),
        ("ce_workflowid", workflow_id.encode()),
    ]
    if causation_id is not None:
        headers.append(("ce_causationid", causation_id.encode()))
    if step is not None:
        headers.append(common_header("ce_step", step))
    if traceparent is not None:
        headers.append(("traceparent", traceparent.encode()))
    if tracestate is not None:
        headers.append(("tracestate", tracestate.encode()))
    return headers


def headers_of(envelope: Envelope) -> list[tuple[str, bytes | None]]:
    """:func:`envelope_headers` of an envelope's own attributes (its ``to_headers``, written by hand)."""
    return envelope_headers(
        event_id=envelope.id,
        source=envelope.source,
        event_type=envelope.type,
        time=envelope.time,
        tenant=envelope.tenant,
        workflow_id=envelope.workflow_id,
        causation_id=envelope.causation_id,
        step=envelope.step,
        traceparent=envelope.traceparent,
        tracestate=envelope.tracestate,
    )


class _Template(NamedTuple):
    """What one decision fixes in its links and decision records (made once per decision object)."""

    decision: Decision
    link: LinkTemplate
    middle: bytes
    tail: bytes


_DECISION_TYPE = common_header("ce_type", PolicyDecision.event_type)
_DECISION_SOURCE = common_header("ce_source", DECISION_SOURCE)
_VERSION = version_header()
_HASH_LENGTH = long_bytes(64)


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
        self._templates: dict[int, _Template] = {}

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
        """Append the link deciding about ``written`` (as it is on ``event_topic``); return the new head.

        The same bytes as :func:`~corps.orchestrator.chain.link_hash`, :func:`decision_body` and
        :func:`envelope_headers` of the documented fields (a unit test holds them to it); what the
        decision fixes is worked out once per decision object.
        """
        sequence = head.sequence
        return ChainHead(
            sequence + 1,
            self.append(sequence, head.hash, partition, event_topic, written, envelope, decision, out),
        )

    def append(
        self,
        sequence: int,
        prev_hash: str,
        partition: int,
        event_topic: str,
        written: OutRecord | RawRecord,
        envelope: Envelope,
        decision: Decision,
        out: list[OutRecord],
    ) -> str:
        """:meth:`write` for a chain ending at (``sequence``, ``prev_hash``); return the new link's hash."""
        return self.append_digest(
            sequence,
            prev_hash,
            partition,
            event_digest(event_topic, written.key, written.headers, written.value),
            envelope.id,
            envelope.type,
            envelope.workflow_id,
            envelope.tenant,
            envelope.time,
            envelope.step,
            envelope.traceparent,
            envelope.tracestate,
            decision,
            out,
        )

    def append_digest(
        self,
        sequence: int,
        prev_hash: str,
        partition: int,
        digest: str,
        event_id: str,
        event_type: str,
        workflow_id: str,
        tenant: str,
        time: datetime,
        step: str | None,
        traceparent: str | None,
        tracestate: str | None,
        decision: Decision,
        out: list[OutRecord],
    ) -> str:
        """:meth:`append` of an event whose :func:`~corps.orchestrator.chain.event_digest` is ``digest``.

        The other arguments are the decided event's envelope attributes (for a writer that knows
        the digest without the record's headers: the orchestrator's own events).
        """
        template = self._templates.get(id(decision))
        if template is None or template.decision is not decision:
            template = self._template(decision)
        link_hash = templated_hash(template.link, prev_hash, sequence, event_id, event_type, digest)
        id_bytes = event_id.encode()
        body = b"".join(
            (
                self._prefix or self._frame(),
                long_bytes(len(id_bytes)),
                id_bytes,
                common_string(event_type),
                template.middle,
                long_bytes(sequence),
                string_bytes(prev_hash),
                _HASH_LENGTH,  # a link hash is 64 hex digits
                link_hash.encode(),
                template.tail,
            )
        )
        key = workflow_id.encode()
        headers: list[tuple[str, bytes | None]] = [
            _SPECVERSION,
            ("ce_id", decision_id(workflow_id, sequence).encode()),
            _DECISION_SOURCE,
            _DECISION_TYPE,
            ("ce_time", format_time(time)),
            _CONTENT_TYPE,
            common_header("ce_tenant", tenant),
            ("ce_workflowid", key),
            ("ce_causationid", id_bytes),
        ]
        if step is not None:
            headers.append(common_header("ce_step", step))
        if traceparent is not None:
            headers.append(("traceparent", traceparent.encode()))
        if tracestate is not None:
            headers.append(("tracestate", tracestate.encode()))
        headers.append(_VERSION)
        out.append(OutRecord(self.topic, partition, key, body, headers))
        return link_hash

    def _template(self, decision: Decision) -> _Template:
        evaluated = decision.evaluated_at
        evaluated_ms = None if evaluated is None else int(evaluated.timestamp() * 1000)
        d = decision
        link = link_template(
            Link("", "", d.effect, d.reason, d.policies, d.redacted_fields, d.set_name, d.set_version,
                 d.set_digest, evaluated_ms)
        )  # fmt: skip
        middle, tail = decision_parts(
            effect=d.effect,
            reason=d.reason,
            policies=d.policies,
            redacted_fields=d.redacted_fields,
            set_name=d.set_name,
            set_version=d.set_version,
            set_digest=d.set_digest,
            evaluated_at_ms=evaluated_ms,
        )
        if len(self._templates) >= 256:
            self._templates.clear()
        template = self._templates[id(decision)] = _Template(decision, link, middle, tail)
        return template

    def _frame(self) -> bytes:
        """Magic byte and schema id of decision records (from the codec, cached)."""
        if self._prefix is None:
            schema_id = self.codec.prepare(self.topic, PolicyDecision.schema_ref())
            self._prefix = b"\x00" + schema_id.to_bytes(4, "big")
        return self._prefix
