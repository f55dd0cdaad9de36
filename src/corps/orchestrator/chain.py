"""The gate's hash chain: one chain per workflow over everything the gate decided about.

Every proposed event the gate decides about, and every event the orchestrator writes itself, gets one
link: a :class:`~corps.events.lifecycle.PolicyDecision` on ``<workflow>.decisions`` with the link's
``sequence`` (0, 1, 2 … per workflow), ``prev_hash`` (``""`` for the first link) and ``hash``. Replay
(``corps replay --verify``) recomputes every link from the log with the two functions below.

**Canonical event bytes** (:func:`canonical_event`, version 1): UTF-8 JSON, keys sorted, no
whitespace, non-ASCII kept as is (``json.dumps(..., sort_keys=True, separators=(",", ":"),
ensure_ascii=False)``) of::

    {"headers": {<name>: <value>, ...}, "key": <key>, "topic": <topic>, "value_sha256": <hex>}

* ``headers``: every header named ``ce_*`` plus ``content-type``, value decoded as UTF-8 (the gate
  chains only records with a valid CloudEvents envelope, whose headers are UTF-8 and never repeated).
  Trace context, retry and dead-letter headers are left out: they describe a hop, not the event.
* ``key``: the record key as UTF-8 text (the workflow id).
* ``topic``: where the event went: the admitted topic it was written to, or — for a refused event —
  the proposed topic it was read from.
* ``value_sha256``: hex SHA-256 of the record value exactly as written: the Confluent frame (magic
  byte, 4-byte schema id) and the Avro body. The gate copies admitted values byte for byte, so the
  record on the admitted topic hashes to the same digest.

**Link hash** (:func:`link_hash`): hex SHA-256 of the canonical JSON (same rules) of::

    {"decision": {"effect": ..., "event_id": ..., "event_type": ..., "policies": [[id, version], ...],
                  "reason": ..., "redacted_fields": [...]},
     "event": <hex SHA-256 of the canonical event bytes>, "prev": <prev_hash>, "sequence": <n>}

so the decision itself (what was decided, why, under which policy versions) is as tamper-evident as
the event, and a link cannot be moved to another position or chain.

**Link format version 2** (written since the policy engine records ``PolicyDecision`` v2): the
decision object also holds ``"evaluated_at_ms"`` (an integer or ``null``) and ``"set": {"digest": ...,
"name": ..., "version": <n>}`` (the policy set version in force), and the top-level object holds
``"v": 2``. The decision record says which version its link uses in the header ``ce_chainversion``
(absent: version 1, the form above), so chains written before still verify.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from corps.events.lifecycle import PolicyRef

__all__ = [
    "CHAIN_VERSION",
    "CHAIN_VERSION_HEADER",
    "ChainHead",
    "Link",
    "LinkTemplate",
    "canonical_event",
    "event_digest",
    "link_hash",
    "link_template",
    "link_version",
    "templated_hash",
    "version_header",
]

CHAIN_VERSION = 2
"""Version of the link format the gate writes (see the module docstring); replay verifies 1 and 2."""
CHAIN_VERSION_HEADER = "ce_chainversion"
"""Header of a decision record naming its link format version (absent: 1)."""
_VERSION_BYTES = str(CHAIN_VERSION).encode()


_text: Callable[[str], str] = json.encoder.encode_basestring
"""JSON string literal as ``json.dumps(..., ensure_ascii=False)`` writes it (the C encoder)."""


_REPEATING = frozenset(("ce_specversion", "ce_source", "ce_type", "content-type", "ce_tenant", "ce_step"))
"""Headers whose values repeat from record to record: their JSON fragments are cached."""
_FRAGMENTS: dict[str, dict[bytes | None, str]] = {name: {} for name in _REPEATING}
_Plan = tuple[tuple[int, str, "dict[bytes | None, str] | None"], ...]
_PLANS: dict[tuple[str, ...], _Plan] = {}
"""Per sequence of header names: (index, ``"<name>":``, fragment cache) of each kept header, sorted."""


def _field(name: str, raw: bytes | None) -> str:
    return f"{_text(name)}:{_text((raw or b'').decode(errors='replace'))}"


def _canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _plan(names: tuple[str, ...]) -> _Plan:
    last = {name: index for index, name in enumerate(names) if name[:3] == "ce_" or name == "content-type"}
    plan = tuple((last[name], f"{_text(name)}:", _FRAGMENTS.get(name)) for name in sorted(last))
    if len(_PLANS) >= 1024:
        _PLANS.clear()
    _PLANS[names] = plan
    return plan


def canonical_event(
    topic: str, key: bytes | None, headers: Sequence[tuple[str, bytes | None]], value: bytes | None
) -> bytes:
    """The canonical bytes of one event record (see the module docstring for the exact form)."""
    # Written out by hand (the gate's hot path); equal to _canonical_json of the documented object.
    # A repeated header: the last one counts. Which headers are kept, in which order, is worked out
    # once per sequence of header names (records of one producer all have the same).
    names, raws = zip(*headers, strict=True) if headers else ((), ())
    plan = _PLANS.get(names) or _plan(names)
    parts = []
    for index, prefix, cache in plan:
        raw = raws[index]
        if cache is None:
            parts.append(prefix + _text((raw or b"").decode(errors="replace")))
            continue
        part = cache.get(raw)
        if part is None:
            if len(cache) >= 4096:
                cache.clear()
            part = cache[raw] = prefix + _text((raw or b"").decode(errors="replace"))
        parts.append(part)
    fields = ",".join(parts)
    digest = hashlib.sha256(value or b"").hexdigest()
    key_text = _text((key or b"").decode(errors="replace"))
    text = f'{{"headers":{{{fields}}},"key":{key_text},"topic":{_text(topic)},"value_sha256":"{digest}"}}'
    return text.encode()


def event_digest(
    topic: str, key: bytes | None, headers: Sequence[tuple[str, bytes | None]], value: bytes | None
) -> str:
    """Hex SHA-256 of :func:`canonical_event`."""
    return hashlib.sha256(canonical_event(topic, key, headers, value)).hexdigest()


class Link(NamedTuple):
    """What one link commits to, besides the event: the decision about it.

    A named tuple rather than a frozen dataclass: the gate makes one per event, and a tuple is built
    several times faster.
    """

    event_id: str
    event_type: str
    effect: str
    reason: str
    policies: tuple[PolicyRef, ...] = ()
    redacted_fields: tuple[str, ...] = ()
    set_name: str = ""
    set_version: int = 0
    set_digest: str = ""
    evaluated_at_ms: int | None = None


def link_version(headers: Sequence[tuple[str, bytes | None]]) -> int:
    """The link format version a decision record's headers name (1 when they name none).

    Raises:
        ValueError: The header does not name a known version.
    """
    for name, raw in headers:
        if name == CHAIN_VERSION_HEADER:
            version = int((raw or b"").decode())
            if version not in (1, 2):
                raise ValueError(f"unknown chain link format version {version}")
            return version
    return 1


def version_header() -> tuple[str, bytes]:
    """The header a decision record written now carries (its link format version)."""
    return (CHAIN_VERSION_HEADER, _VERSION_BYTES)


def link_hash(prev_hash: str, sequence: int, link: Link, digest: str, version: int = CHAIN_VERSION) -> str:
    """Hex SHA-256 of link ``sequence`` of a chain (see the module docstring for the exact form).

    Raises:
        ValueError: ``version`` is not a known link format version.
    """
    # Written out by hand (the gate's hot path); equal to _canonical_json of the documented object.
    if version == 2:
        return templated_hash(
            link_template(link), prev_hash, sequence, link.event_id, link.event_type, digest
        )
    if version != 1:
        raise ValueError(f"unknown chain link format version {version}")
    policies = ",".join(f"[{_text(p.policy_id)},{_text(p.policy_version)}]" for p in link.policies)
    redacted = ",".join(_text(field) for field in link.redacted_fields)
    decision = (
        f'{{"effect":{_text(link.effect)},"event_id":{_text(link.event_id)},'
        f'"event_type":{_text(link.event_type)},"policies":[{policies}],"reason":{_text(link.reason)},'
        f'"redacted_fields":[{redacted}]}}'
    )
    rest = f'"event":{_text(digest)},"prev":{_text(prev_hash)},"sequence":{int(sequence)}'
    return hashlib.sha256(f'{{"decision":{decision},{rest}}}'.encode()).hexdigest()


class LinkTemplate(NamedTuple):
    """The canonical JSON of a version 2 link around its event id and type: what its decision fixes.

    A gate writes many links with one decision (the default allow, an orchestrator's own events), so
    :class:`~corps.orchestrator.wire.DecisionWriter` makes this once per decision.
    """

    head: str
    """Up to the event id: ``{"decision":{"effect":…,"evaluated_at_ms":…,"event_id":``."""
    tail: str
    """From the policies to the event digest: ``,"policies":[…],…,"set":{…}},"event":``."""


def link_template(link: Link) -> LinkTemplate:
    """The parts of link format 2 fixed by ``link``'s decision (its event id and type are left out)."""
    policies = ",".join(f"[{_text(p.policy_id)},{_text(p.policy_version)}]" for p in link.policies)
    redacted = ",".join(_text(field) for field in link.redacted_fields)
    evaluated = "null" if link.evaluated_at_ms is None else str(int(link.evaluated_at_ms))
    head = f'{{"decision":{{"effect":{_text(link.effect)},"evaluated_at_ms":{evaluated},"event_id":'
    tail = (
        f',"policies":[{policies}],"reason":{_text(link.reason)},"redacted_fields":[{redacted}],'
        f'"set":{{"digest":{_text(link.set_digest)},"name":{_text(link.set_name)},'
        f'"version":{int(link.set_version)}}}}},"event":'
    )
    return LinkTemplate(head, tail)


def templated_hash(
    template: LinkTemplate, prev_hash: str, sequence: int, event_id: str, event_type: str, digest: str
) -> str:
    """:func:`link_hash` (format 2) of a link whose decision made ``template``."""
    text = (
        f'{template.head}{_text(event_id)},"event_type":{_text(event_type)}{template.tail}'
        f'{_text(digest)},"prev":{_text(prev_hash)},"sequence":{int(sequence)},"v":2}}'
    )
    return hashlib.sha256(text.encode()).hexdigest()


class ChainHead(NamedTuple):
    """The end of one workflow's chain: the next link's sequence number and the last link's hash.

    A named tuple (the gate makes one or two per link): cheaper to build than a frozen dataclass.
    """

    sequence: int = 0
    hash: str = ""

    def extend(self, link: Link, digest: str, version: int = CHAIN_VERSION) -> tuple[ChainHead, str]:
        """Append a link (in link format ``version``); return the new head and the link's hash."""
        new = link_hash(self.hash, self.sequence, link, digest, version)
        return ChainHead(self.sequence + 1, new), new
