"""Check the gate's hash chains against the log: forged, missing, altered, reordered events, gaps.

For one workflow, every record of its decision log is a link (see :mod:`corps.orchestrator.chain` for
the canonical forms, recomputed here with the same functions). A link must sit at its sequence
number, name the previous link's hash, and hash to its recorded value over the event it decided
about: the record with that ``ce_id`` on the admitted topic it went to (``ALLOW`` / ``REDACT``) or on
the proposed topic it came from (``DENY``). Then

* a record on an admitted topic that no link accounts for was **forged** (only the gate writes there);
* a link whose event is nowhere to be found is a **missing** event (a gap);
* a copy whose bytes no longer hash to its link was **altered**;
* chained events that sit in a different order than their links were **reordered**;
* a missing sequence number is a **chain gap**; a link that does not hash to itself was **altered**.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from corps.events.lifecycle import PolicyRef
from corps.orchestrator.chain import Link, event_digest, link_hash, link_version
from corps.orchestrator.gate import DECISION_SOURCE, decision_id
from corps.replay.coverage import Coverage
from corps.replay.records import LogRecord
from corps.replay.topics import ReplayTopics, Role
from corps.replay.verification import Check, Finding, Severity, Verification

__all__ = ["ChainLink", "ChainResult", "VerifiedLink", "verify_chain"]

_ADMITTING = ("ALLOW", "REDACT")


@dataclass(frozen=True)
class ChainLink:
    """One decision record read as a chain link.

    The ``set_*`` fields and the evaluation time come with ``PolicyDecision`` v2; they are covered by
    :func:`~corps.orchestrator.chain.link_hash` in link format 2 (``chain_version``, read from the
    record's ``ce_chainversion`` header; 1 when absent).
    """

    record: LogRecord
    sequence: int
    event_id: str
    event_type: str
    effect: str
    reason: str
    policies: tuple[PolicyRef, ...]
    redacted_fields: tuple[str, ...]
    prev_hash: str
    hash: str
    set_name: str = ""
    set_version: int = 0
    set_digest: str = ""
    evaluated_at_ms: int | None = None
    chain_version: int = 1

    @classmethod
    def of(cls, record: LogRecord, data: Mapping[str, Any]) -> ChainLink:
        """Read a decoded ``PolicyDecision`` record.

        Raises:
            KeyError, TypeError, ValueError: A field is missing or has the wrong shape.
        """
        return cls(
            record=record,
            sequence=int(data["sequence"]),
            event_id=str(data["decided_event_id"]),
            event_type=str(data["decided_event_type"]),
            effect=str(data["effect"]),
            reason=str(data["reason"]),
            policies=tuple(
                PolicyRef(policy_id=str(p["policy_id"]), policy_version=str(p["policy_version"]))
                for p in data.get("policies") or ()
            ),
            redacted_fields=tuple(str(f) for f in data.get("redacted_fields") or ()),
            prev_hash=str(data["prev_hash"]),
            hash=str(data["hash"]),
            set_name=str(data.get("set_name") or ""),
            set_version=int(data.get("set_version") or 0),
            set_digest=str(data.get("set_digest") or ""),
            evaluated_at_ms=None if data.get("evaluated_at_ms") is None else int(data["evaluated_at_ms"]),
            chain_version=link_version(record.headers),
        )

    @property
    def admitting(self) -> bool:
        """True when the link admitted its event (the event is on an admitted topic)."""
        return self.effect in _ADMITTING

    def recompute(self, event: LogRecord) -> str:
        """The link's hash over ``event`` as it sits in the log."""
        link = Link(
            event_id=self.event_id,
            event_type=self.event_type,
            effect=self.effect,
            reason=self.reason,
            policies=self.policies,
            redacted_fields=self.redacted_fields,
            set_name=self.set_name,
            set_version=self.set_version,
            set_digest=self.set_digest,
            evaluated_at_ms=self.evaluated_at_ms,
        )
        digest = event_digest(event.topic, event.key, event.headers, event.value)
        return link_hash(self.prev_hash, self.sequence, link, digest, self.chain_version)


@dataclass
class VerifiedLink:
    """A link and the event it was checked against.

    Attributes:
        link: The link.
        event: The record it decided about (``None`` when not found or not read).
        verified: True when the link's hash was recomputed from that record and matched.
    """

    link: ChainLink
    event: LogRecord | None
    verified: bool


@dataclass
class ChainResult:
    """One workflow's chain after checking.

    Attributes:
        workflow_id: The workflow.
        links: One link per sequence number present, in order.
        from_zero: True when the chain was read from its first link.
        errors: How many discrepancies were found in it.
    """

    workflow_id: str
    links: list[VerifiedLink] = field(default_factory=list)
    from_zero: bool = True
    errors: int = 0


class _Checker:
    def __init__(self, workflow_id: str, topics: ReplayTopics, coverage: Coverage, out: Verification) -> None:
        self.workflow_id = workflow_id
        self.topics = topics
        self.coverage = coverage
        self.out = out
        self.result = ChainResult(workflow_id)

    def error(self, kind: str, message: str, **where: Any) -> None:
        self.result.errors += 1
        self.out.add(Finding(Check.CHAIN, kind, Severity.ERROR, self.workflow_id, message, **where))

    def note(self, kind: str, message: str, **where: Any) -> None:
        self.out.add(Finding(Check.CHAIN, kind, Severity.NOTE, self.workflow_id, message, **where))


def verify_chain(
    workflow_id: str,
    records: Sequence[LogRecord],
    topics: ReplayTopics,
    coverage: Coverage,
    out: Verification,
    *,
    event_topics: Mapping[str, str],
) -> ChainResult:
    """Check one workflow's chain against its records; add findings to ``out``.

    Args:
        workflow_id: The workflow.
        records: Every record of the workflow that was read (any topic, any order).
        topics: The topology's topics.
        coverage: What was read.
        out: Where findings and counts go.
        event_topics: Event type (Avro fullname) -> the admitted topic it goes to.
    """
    check = _Checker(workflow_id, topics, coverage, out)
    decisions = topics.topics.decisions
    links = _links(check, [r for r in records if r.topic == decisions])
    out.count("chains")
    out.count("links", len(links))
    chained = _walk(check, links, records, event_topics)
    _forged(check, records, chained)
    _reordered(check, chained)
    return check.result


def _links(check: _Checker, records: list[LogRecord]) -> list[ChainLink]:
    links: list[ChainLink] = []
    for record in sorted(records, key=LogRecord.position):
        try:
            if record.data is None:
                raise ValueError(record.problem or "no payload")
            link = ChainLink.of(record, record.data)
        except (KeyError, TypeError, ValueError) as exc:
            check.error(
                "unreadable-link",
                f"decision record cannot be read as a link: {exc}",
                location=record.describe(),
            )
            continue
        expected_id = decision_id(check.workflow_id, link.sequence)
        if record.source != DECISION_SOURCE or record.event_id != expected_id:
            check.error(
                "forged-link",
                f"decision record {record.event_id} from {record.source!r} is not the gate's link "
                f"{link.sequence} (expected id {expected_id} from {DECISION_SOURCE})",
                sequence=link.sequence,
                location=record.describe(),
            )
        links.append(link)
    return links


def _walk(
    check: _Checker, links: list[ChainLink], records: Sequence[LogRecord], event_topics: Mapping[str, str]
) -> dict[int, tuple[LogRecord, int]]:
    """Check every link in sequence order; return id(record) -> (record, sequence) of chained events."""
    by_seq: dict[int, list[ChainLink]] = defaultdict(list)
    for link in links:
        by_seq[link.sequence].append(link)
    _order(check, links)
    by_event: dict[str, list[LogRecord]] = defaultdict(list)
    for record in records:
        if record.event_id is not None and record.topic != check.topics.topics.decisions:
            by_event[record.event_id].append(record)
    chained: dict[int, tuple[LogRecord, int]] = {}
    if not by_seq:
        return chained
    first = min(by_seq)
    if first > 0:
        head = by_seq[first][0]
        if _from_start(check, head.record):
            check.error(
                "chain-gap",
                f"the chain starts at link {first}: links 0..{first - 1} are missing",
                sequence=first,
                location=head.record.describe(),
            )
        else:
            check.note(
                "partial-chain",
                f"the range starts inside the chain (first link read: {first})",
                sequence=first,
            )
        check.result.from_zero = False
    previous: ChainLink | None = None
    for sequence in range(first, max(by_seq) + 1):
        found = by_seq.get(sequence)
        if not found:
            check.error("chain-gap", f"link {sequence} is missing from the decision log", sequence=sequence)
            previous = None
            continue
        link = found[0]
        _duplicates(check, link, found[1:])
        if previous is not None and link.prev_hash != previous.hash:
            check.error(
                "link-altered",
                f"link {sequence} names previous hash {link.prev_hash[:16]}…, but link {previous.sequence} "
                f"hashes to {previous.hash[:16]}…",
                sequence=sequence,
                location=link.record.describe(),
            )
        elif sequence == 0 and link.prev_hash != "":
            check.error(
                "link-altered", "link 0 names a previous hash", sequence=0, location=link.record.describe()
            )
        event, verified = _event(check, link, by_event.get(link.event_id, []), event_topics, chained)
        check.result.links.append(VerifiedLink(link, event, verified))
        if verified:
            check.out.count("links_verified")
        previous = link
    return chained


def _order(check: _Checker, links: list[ChainLink]) -> None:
    """Links must appear in the decision log in sequence order."""
    for before, after in pairwise(links):
        if after.sequence < before.sequence:
            check.error(
                "reordered",
                f"link {after.sequence} comes after link {before.sequence} in the decision log",
                sequence=after.sequence,
                location=after.record.describe(),
            )


def _duplicates(check: _Checker, link: ChainLink, others: list[ChainLink]) -> None:
    for other in others:
        same = other.hash == link.hash and other.event_id == link.event_id
        kind, what = ("duplicate", "a second copy of") if same else ("conflicting-link", "a different")
        check.error(
            kind,
            f"{what} link {link.sequence} (first at {link.record.describe()})",
            sequence=link.sequence,
            location=other.record.describe(),
        )


def _event(
    check: _Checker,
    link: ChainLink,
    candidates: list[LogRecord],
    event_topics: Mapping[str, str],
    chained: dict[int, tuple[LogRecord, int]],
) -> tuple[LogRecord | None, bool]:
    roles = check.topics.roles
    if link.admitting:
        wanted = (Role.ADMITTED, Role.LIFECYCLE)
        topic = event_topics.get(link.event_type, check.topics.topics.lifecycle)
    else:
        wanted = (Role.PROPOSED, Role.LIFECYCLE_PROPOSED)
        topic = None
    candidates = sorted((c for c in candidates if roles.get(c.topic) in wanted), key=LogRecord.position)
    match = next((c for c in candidates if link.recompute(c) == link.hash), None)
    if match is not None:
        chained[id(match)] = (match, link.sequence)
        for other in candidates if link.admitting else ():
            if other is match:
                continue
            digest_same = other.value == match.value and dict(other.headers) == dict(match.headers)
            kind = "duplicate" if digest_same else "altered"
            what = "a duplicate copy" if digest_same else "an altered copy"
            check.error(
                kind,
                f"{what} of {link.event_type} {link.event_id} (the chained one is at {match.describe()})",
                sequence=link.sequence,
                location=other.describe(),
                event_id=link.event_id,
            )
        return match, True
    if candidates:
        for other in candidates:
            check.error(
                "altered",
                f"{link.event_type} {link.event_id} does not hash to link {link.sequence} "
                f"({link.effect}): the event or its link was altered",
                sequence=link.sequence,
                location=other.describe(),
                event_id=link.event_id,
            )
        return candidates[0], False
    _missing(check, link, topic)
    return None, False


def _missing(check: _Checker, link: ChainLink, topic: str | None) -> None:
    where = link.record.describe()
    partition = link.record.partition
    if topic is None:
        check.note(
            "unverifiable",
            f"{link.event_type} {link.event_id} was refused ({link.reason}); its proposed record is not "
            "in the range read (proposed topics keep records briefly), so link "
            f"{link.sequence} is taken as recorded",
            sequence=link.sequence,
            location=where,
            event_id=link.event_id,
        )
        return
    if not check.coverage.read(topic):
        check.note(
            "not-read",
            f"{link.event_type} {link.event_id}: topic {topic} was not replayed",
            sequence=link.sequence,
            event_id=link.event_id,
        )
        return
    if not check.coverage.from_start(topic, partition) or check.coverage.near_end(link.record.timestamp_ms):
        check.note(
            "outside-range",
            f"{link.event_type} {link.event_id} is not in the range read of {topic}",
            sequence=link.sequence,
            event_id=link.event_id,
            location=where,
        )
        return
    check.error(
        "missing",
        f"link {link.sequence} admitted {link.event_type} {link.event_id} to {topic}, but no such record "
        f"is there",
        sequence=link.sequence,
        location=where,
        event_id=link.event_id,
    )


def _from_start(check: _Checker, record: LogRecord) -> bool:
    return check.coverage.from_start(record.topic, record.partition)


def _forged(check: _Checker, records: Sequence[LogRecord], chained: dict[int, tuple[LogRecord, int]]) -> None:
    """Records on admitted topics must each be some link's event."""
    decided = {vl.link.event_id for vl in check.result.links}
    for record in sorted(records, key=LogRecord.position):
        role = check.topics.roles.get(record.topic)
        if role is None or not role.admitted_side or id(record) in chained:
            continue
        check.out.count("events")
        if record.event_id in decided:
            continue  # reported against its link (altered or duplicate copy)
        decisions = check.topics.topics.decisions
        in_range = check.coverage.from_start(decisions, record.partition) and not check.coverage.near_end(
            record.timestamp_ms
        )
        if not check.result.from_zero or not in_range:
            check.note(
                "outside-range",
                f"{record.event_type} {record.event_id}: its link may be before the range",
                location=record.describe(),
                event_id=record.event_id,
            )
            continue
        what = (
            f"{record.event_type} {record.event_id}"
            if record.event_id
            else "a record without a valid envelope"
        )
        check.error(
            "forged",
            f"{what} is on admitted topic {record.topic}, but no link of the gate's chain admitted it",
            location=record.describe(),
            event_id=record.event_id,
        )


def _reordered(check: _Checker, chained: dict[int, tuple[LogRecord, int]]) -> None:
    """On each admitted partition, chained events must sit in the order of their links."""
    check.out.count("events", len(chained))
    by_partition: dict[tuple[str, int], list[tuple[int, int, LogRecord]]] = defaultdict(list)
    for record, sequence in chained.values():
        role = check.topics.roles.get(record.topic)
        if role is not None and role.admitted_side:
            by_partition[(record.topic, record.partition)].append((record.offset, sequence, record))
    for key in sorted(by_partition):
        placed = sorted(by_partition[key], key=lambda item: item[0])
        for (_, seq_a, rec_a), (_, seq_b, rec_b) in pairwise(placed):
            if seq_b < seq_a:
                check.error(
                    "reordered",
                    f"{rec_b.event_type} {rec_b.event_id} (link {seq_b}) sits after {rec_a.event_type} "
                    f"{rec_a.event_id} (link {seq_a}) at {rec_a.describe()}",
                    sequence=seq_b,
                    location=rec_b.describe(),
                    event_id=rec_b.event_id,
                )
