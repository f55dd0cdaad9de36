"""Agent registry announcements: staleness after N missed heartbeats, and the `corps agents` summary."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from corps.runtime.announcement import Announcement, summarize

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def _ann(agent: str, replica: str, version: str, beat_ago_s: float) -> Announcement:
    return Announcement(
        agent=agent,
        version=version,
        replica_id=replica,
        capabilities=("c-" + replica,),
        host="h",
        pid=1,
        group_id=agent,
        delivery="exactly_once",
        started_at=T0 - timedelta(hours=1),
        heartbeat_at=T0 - timedelta(seconds=beat_ago_s),
        heartbeat_interval_s=5,
    )


def test_stale_after_missed_heartbeats() -> None:
    a = _ann("triage", "r1", "1", beat_ago_s=14)
    assert not a.is_stale(T0, missed_heartbeats=3)
    assert a.is_stale(T0, missed_heartbeats=2)
    assert not a.beat(T0).is_stale(T0, missed_heartbeats=1)


def test_json_round_trip_and_key() -> None:
    a = _ann("triage", "r1", "1", 0)
    assert Announcement.model_validate_json(a.model_dump_json()) == a
    assert a.key == "triage/r1"


def test_summary_groups_by_agent() -> None:
    rows = summarize(
        [_ann("triage", "r1", "1.0", 1), _ann("triage", "r2", "1.1", 100), _ann("drafter", "r3", "2", 2)],
        now=T0,
        missed_heartbeats=3,
    )
    assert [r.agent for r in rows] == ["drafter", "triage"]
    triage = rows[1]
    assert (triage.versions, triage.live, triage.stale) == (("1.0", "1.1"), 1, 1)
    assert triage.last_heartbeat == T0 - timedelta(seconds=1)
    assert triage.capabilities == ("c-r1", "c-r2")
