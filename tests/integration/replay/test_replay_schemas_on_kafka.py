"""A range written with two schema versions replays: each record with its writer's schema, or projected."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from confluent_kafka.admin import AdminClient
from tests.integration.replay.replay_kafka import KafkaLog, lines, make_log
from tests.unit.replay.replay_log import model

from corps.dev import StackInfo

pytestmark = pytest.mark.integration


@pytest.fixture
def two_versions(
    stack: StackInfo,
    admin: AdminClient,
    kafka_config: dict[str, str],
    tmp_path: Path,
    unique: Callable[[str], str],
) -> Iterator[KafkaLog]:
    b_v2 = model("test.rp.B", {"priority": "normal"})
    log = make_log(stack, admin, kafka_config, tmp_path, unique, extra_models=[("B", b_v2)])
    maker = log.maker
    maker.happy("wf-old")  # B written with v1
    maker.propose("A", "wf-new", 10, source="client")
    maker.propose("B", "wf-new", 11, step="s1", source="a1", payload=b_v2(n="wf-new:B", priority="high"))  # type: ignore[call-arg]
    log.write()
    yield log
    log.registry.close()


def b_data(result_lines: list[dict]) -> dict[str, dict]:
    return {o["workflow_id"]: o["data"] for o in result_lines if o["record"] == "event" and o["name"] == "B"}


def test_each_record_is_decoded_with_its_writer_schema(two_versions: KafkaLog) -> None:
    result = two_versions.replay("--format", "jsonl", "--verify")
    assert result.exit_code == 0, result.output
    assert b_data(lines(result)) == {
        "wf-old": {"n": "wf-old:B"},
        "wf-new": {"n": "wf-new:B", "priority": "high"},
    }
    header = lines(result)[0]
    assert header["unreadable"] == 0


def test_payloads_project_onto_the_declared_version(two_versions: KafkaLog, tmp_path: Path) -> None:
    schemas = tmp_path / "schemas"
    b_v2 = model("test.rp.B", {"priority": "normal"})
    for name, event_model in two_versions.maker.models.items():
        folder = schemas / event_model.event_type
        folder.mkdir(parents=True)
        (folder / "v1.avsc").write_text(json.dumps(dict(event_model.avro_schema)), encoding="utf-8")
        if name == "B":
            (folder / "v2.avsc").write_text(json.dumps(dict(b_v2.avro_schema)), encoding="utf-8")
    declared = two_versions.file.read_text(encoding="utf-8").replace(", B: {}", ", B: {version: 2}")
    two_versions.file.write_text(declared, encoding="utf-8")
    result = two_versions.replay("--format", "jsonl", "--reader-schemas", str(schemas))
    assert result.exit_code == 0, result.output
    assert b_data(lines(result)) == {
        "wf-old": {"n": "wf-old:B", "priority": "normal"},  # v1 record read as v2: the default
        "wf-new": {"n": "wf-new:B", "priority": "high"},
    }
