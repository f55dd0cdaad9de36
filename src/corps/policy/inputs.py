"""What a policy looks at: a proposed event (envelope + decoded data) and the CEL view of it.

CEL sees two variables:

``event``
    ``id``, ``type`` (the Avro fullname), ``name`` (its last segment), ``source``, ``time`` (a
    timestamp), ``tenant``, ``workflow_id``, ``causation_id``, ``step`` (null when absent),
    ``extensions`` (a map) and ``data`` (the decoded payload).
``context``
    ``now`` (the evaluation time: injected, never the wall clock), ``age`` (``now - event.time``, a
    duration) and ``counters`` (per throttle / budget policy id: its current value for this event's
    key — the budget's sum in the current window, or the throttle's backlog in events).
"""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from corps.events import Envelope, EventModel
from corps.policy.expressions import Needs, Tree

__all__ = ["EventLike", "ProposedEvent", "cel_event", "to_cel"]


class EventLike(Protocol):
    """Anything with an envelope and decoded data (the gate passes its own proposed-event objects)."""

    @property
    def envelope(self) -> Envelope:
        """The event's CloudEvents attributes."""
        ...

    @property
    def data(self) -> Mapping[str, Any]:
        """The decoded payload."""
        ...


@dataclass(frozen=True, slots=True)
class ProposedEvent:
    """One event the gate decides about.

    Attributes:
        envelope: Its CloudEvents attributes.
        data: Its decoded payload (as fastavro reads it, or a model's dump).
    """

    envelope: Envelope
    data: Mapping[str, Any]

    @classmethod
    def of(cls, envelope: Envelope, payload: EventModel | Mapping[str, Any]) -> ProposedEvent:
        """Build from an envelope and a typed payload or a plain mapping."""
        data = payload.to_avro() if isinstance(payload, EventModel) else payload
        return cls(envelope=envelope, data=data)

    @property
    def name(self) -> str:
        """The event type's last segment (``TicketOpened``)."""
        return self.envelope.type.rpartition(".")[2]


def cel_event(event: EventLike, needs: Needs | None = None) -> dict[str, Any]:
    """The ``event`` variable of CEL expressions (only the paths ``needs`` names, when given)."""
    env = event.envelope
    tree = None if needs is None else needs.event
    if tree is None:
        view = {name: getter(env) for name, getter in _GETTERS.items()}
        view["data"] = to_cel(event.data)
        return view
    view = {}
    for name, sub in tree:
        if name == "data":
            data = event.data
            view["data"] = to_cel(data) if sub is None else _pruned(data, sub)
            continue
        getter = _GETTERS.get(name)
        if getter is not None:
            view[name] = getter(env) if sub is None else _pruned(getter(env), sub)
    return view


def _pruned(value: Any, tree: Tree) -> Any:
    """``value`` with only the members ``tree`` names (a value that is not a map is taken whole)."""
    if not isinstance(value, dict | Mapping):
        return to_cel(value)
    view: dict[str, Any] = {}
    for name, sub in tree:
        if name in value:
            child = value[name]
            if sub is None:
                view[name] = child if child is None or type(child) in _SCALARS else to_cel(child)
            else:
                view[name] = _pruned(child, sub)
    return view


_SCALARS = frozenset({str, int, float, bool, bytes})
_GETTERS: dict[str, Callable[[Envelope], Any]] = {
    "id": lambda env: env.id,
    "type": lambda env: env.type,
    "name": lambda env: env.type.rpartition(".")[2],
    "source": lambda env: env.source,
    "time": lambda env: env.time,
    "tenant": lambda env: env.tenant,
    "workflow_id": lambda env: env.workflow_id,
    "causation_id": lambda env: env.causation_id,
    "step": lambda env: env.step,
    "extensions": lambda env: dict(env.extensions),
}
_EVENT_FIELDS = (*_GETTERS, "data")


def to_cel(value: Any) -> Any:
    """Convert decoded Avro data into values the CEL binding accepts, deterministically.

    Mappings and sequences are copied; decimals become doubles, UUIDs strings, dates and times ISO
    strings, enums their values, naive datetimes are read as UTC. Other scalars pass through.
    """
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return value
    if isinstance(value, Mapping):
        return {str(k): to_cel(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_cel(v) for v in value]
    if isinstance(value, dt.datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    if isinstance(value, enum.Enum):
        return to_cel(value.value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, uuid.UUID | dt.date | dt.time):
        return str(value) if isinstance(value, uuid.UUID) else value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(to_cel(v) for v in value)
    return str(value)
