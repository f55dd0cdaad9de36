"""Records decode with their writer schema (any version), optionally projected onto a reader schema."""

from __future__ import annotations

from replay_log import LogMaker, model

from corps.replay.builder import TimelineBuilder
from corps.replay.decode import RecordDecoder
from corps.replay.timeline import Stage


def test_a_range_spanning_two_schema_versions_replays_each_with_its_writer() -> None:
    maker = LogMaker()
    b_v2 = model("test.rp.B", {"priority": "normal"})
    maker.cache(501, b_v2, "B")
    maker.propose("A", "wf-1", 0)
    maker.propose("B", "wf-1", 1, step="s1")  # v1 writer
    maker.propose("A", "wf-2", 2)
    maker.propose("B", "wf-2", 3, step="s1", payload=b_v2(n="wf-2:B", priority="high"))  # type: ignore[call-arg]
    decoded = {r.workflow: r for r in maker.records() if r.topic == "rp.B"}
    assert decoded["wf-1"].data == {"n": "wf-1:B"}
    assert decoded["wf-2"].data == {"n": "wf-2:B", "priority": "high"}
    assert decoded["wf-2"].schema_id == 501
    assert decoded["wf-1"].schema_id != 501
    assert all(r.problem is None for r in maker.records() if r.topic != "rp.orchestrator.state")


def test_projection_onto_a_reader_schema_fills_defaults_and_drops_unknown_fields() -> None:
    maker = LogMaker()
    b_v2 = model("test.rp.B", {"priority": "normal"})
    maker.cache(501, b_v2, "B")
    maker.propose("B", "wf-1", 1, step="s1")
    maker.propose("B", "wf-2", 3, step="s1", payload=b_v2(n="wf-2:B", priority="high"))  # type: ignore[call-arg]
    to_v2 = RecordDecoder(maker.codec, readers={"test.rp.B": b_v2.schema_ref()})
    to_v1 = RecordDecoder(maker.codec, readers={"test.rp.B": maker.models["B"].schema_ref()})
    raws = [r for r in maker.log if r.topic == "rp.B"]

    def data(decoder: RecordDecoder) -> list[object]:
        return [
            decoder.decode(r.topic, r.partition, r.offset, None, r.key, r.value, r.headers).data for r in raws
        ]

    assert data(to_v2) == [{"n": "wf-1:B", "priority": "normal"}, {"n": "wf-2:B", "priority": "high"}]
    assert data(to_v1) == [{"n": "wf-1:B"}, {"n": "wf-2:B"}]


def test_unreadable_records_are_kept_with_the_reason() -> None:
    maker = LogMaker()
    decoder = RecordDecoder(maker.codec)
    bare = decoder.decode("rp.B", 0, 7, None, b"k", b"plain text", [])
    assert bare.problem is not None
    assert "missing CloudEvents header(s) ce_id" in bare.problem
    assert "not Confluent-framed" in bare.problem
    good = maker.propose("A", "wf-1", 0)
    wrong_key = decoder.decode(good.topic, 0, 0, None, b"other", good.value, good.headers)
    assert wrong_key.problem == "message key is not ce_workflowid 'wf-1'"
    truncated = decoder.decode(good.topic, 0, 0, None, good.key, (good.value or b"")[:-2], good.headers)
    assert truncated.problem is not None
    assert "Avro body" in truncated.problem
    builder = TimelineBuilder(maker.topology, maker.replay_topics)
    builder.add(bare)
    (timeline,) = builder.build()
    assert timeline.entries[0].stage is Stage.UNREADABLE


def test_unknown_schema_ids_are_a_problem_not_a_crash() -> None:
    maker = LogMaker()
    good = maker.propose("A", "wf-1", 0)
    value = b"\x00\x00\x00\x03\xe7" + (good.value or b"")[5:]
    from corps.events.errors import RegistryUnavailableError

    decoder = RecordDecoder(maker.codec)
    try:
        record = decoder.decode(good.topic, 0, 0, None, good.key, value, good.headers)
    except RegistryUnavailableError:
        return  # the offline registry is unreachable: a retriable error, raised, never a wrong decode
    assert record.problem is not None
