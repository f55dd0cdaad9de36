"""Check the gate's hash chains against the log: forged, missing, altered, reordered events, gaps.

For one workflow, every record of its decision log is a link (see :mod:`corps.orchestrator.chain` for
the canonical forms, recomputed here with the same functions). A link must sit at its sequence
number, name the previous link's hash, and hash to its recorded value over the event it decided
about: the record with that ``ce_id`` on the admitted topic it went to (``ALLOW`` / ``REDACT``) or on
the proposed topic it came from (``DENY``). Then

* a record on an admitted topic that no link accounts for was **forged** (only the gate writes there);
* a link whose event is nowhere to be found is a **missing** event (a gap);
* a copy whose bytes no longer hash to its link was **altered**; an event id two links admitted was
  **admitted twice**;
* chained events that sit in a different order than their links were **reordered**;
* a missing sequence number is a **chain gap**; a link that does not hash to itself was **altered**.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from itertools import pairwise

from corps.orchestrator.gate import DECISION_SOURCE, decision_id
from corps.replay.chain_links import ChainChecker, ChainLink, ChainResult, VerifiedLink
from corps.replay.chain_placement import check_forged, check_reordered
from corps.replay.coverage import Coverage
from corps.replay.records import LogRecord
from corps.replay.topics import ReplayTopics, Role
from corps.replay.verification import Verification

__all__ = ["ChainLink", "ChainResult", "VerifiedLink", "verify_chain"]


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
    check = ChainChecker(workflow_id, topics, coverage, out)
    decisions = topics.topics.decisions
    links = _links(check, [r for r in records if r.topic == decisions])
    out.count("chains")
    out.count("links", len(links))
    chained = _walk(check, links, records, event_topics)
    check_forged(check, records, chained)
    check_reordered(check, chained)
    return check.result


def _links(check: ChainChecker, records: list[LogRecord]) -> list[ChainLink]:
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
    check: ChainChecker, links: list[ChainLink], records: Sequence[LogRecord], event_topics: Mapping[str, str]
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
    admissions: dict[str, list[ChainLink]] = defaultdict(list)
    for link in links:
        if link.admitting:
            admissions[link.event_id].append(link)
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
        siblings = [other for other in admissions.get(link.event_id, ()) if other is not link]
        copies = by_event.get(link.event_id, [])
        event, verified = _event(check, link, copies, event_topics, chained, siblings)
        check.result.links.append(VerifiedLink(link, event, verified))
        if verified:
            check.out.count("links_verified")
        previous = link
    return chained


def _order(check: ChainChecker, links: list[ChainLink]) -> None:
    """Links must appear in the decision log in sequence order."""
    for before, after in pairwise(links):
        if after.sequence < before.sequence:
            check.error(
                "reordered",
                f"link {after.sequence} comes after link {before.sequence} in the decision log",
                sequence=after.sequence,
                location=after.record.describe(),
            )


def _duplicates(check: ChainChecker, link: ChainLink, others: list[ChainLink]) -> None:
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
    check: ChainChecker,
    link: ChainLink,
    candidates: list[LogRecord],
    event_topics: Mapping[str, str],
    chained: dict[int, tuple[LogRecord, int]],
    siblings: Sequence[ChainLink] = (),
) -> tuple[LogRecord | None, bool]:
    """Find the record a link decided about; report copies of it that no link accounts for.

    ``siblings`` are the workflow's other admitting links for the same event id: an event admitted
    twice (re-proposed after the gate's retention forgot it) is one ``admitted-twice`` finding, each
    copy chained to its own link, not an altered copy.
    """
    roles = check.topics.roles
    if link.admitting:
        wanted = (Role.ADMITTED, Role.LIFECYCLE)
        topic = event_topics.get(link.event_type, check.topics.topics.lifecycle)
    else:
        wanted = (Role.PROPOSED, Role.LIFECYCLE_PROPOSED)
        topic = None
    candidates = sorted((c for c in candidates if roles.get(c.topic) in wanted), key=LogRecord.position)
    match = next((c for c in candidates if id(c) not in chained and link.recompute(c) == link.hash), None)
    if match is None:
        match = next((c for c in candidates if link.recompute(c) == link.hash), None)
    if match is not None:
        chained[id(match)] = (match, link.sequence)
        earlier = [s.sequence for s in siblings if s.sequence < link.sequence] if link.admitting else []
        first = min(earlier, default=None)
        if first is not None:
            check.error(
                "admitted-twice",
                f"{link.event_type} {link.event_id} was admitted again by link {link.sequence} (first by "
                f"link {first}): re-proposed after the gate's retention forgot it, or a gate fault",
                sequence=link.sequence,
                location=match.describe(),
                event_id=link.event_id,
            )
        for other in candidates if link.admitting else ():
            if other is match or any(s.recompute(other) == s.hash for s in siblings):
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


def _missing(check: ChainChecker, link: ChainLink, topic: str | None) -> None:
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


def _from_start(check: ChainChecker, record: LogRecord) -> bool:
    return check.coverage.from_start(record.topic, record.partition)
