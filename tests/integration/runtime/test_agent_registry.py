"""Replicas announce themselves on the registry topic, beat, leave cleanly; a killed one turns stale."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.integration.runtime.agents_for_tests import TRIAGE
from tests.integration.runtime.harness import AgentProcess, Bed, running

from corps.cli.main import cli
from corps.events.demo import TicketOpened, TicketTriaged
from corps.runtime.presence import read_announcements

pytestmark = [pytest.mark.integration]

TARGET = "tests.integration.runtime.agents_for_tests:TRIAGE"


@pytest.mark.asyncio
async def test_replicas_announce_beat_and_leave(bed: Bed) -> None:
    source, sink = bed.topic("opened"), bed.topic("triaged")
    settings = bed.settings(
        bed.routing({TicketOpened: source}, {TicketTriaged: sink}),
        telemetry={"heartbeat_interval_s": 0.3},
    )
    topic = settings.topics.registry
    async with running(TRIAGE, settings) as a:
        async with running(a.agent, settings) as b:
            await asyncio.sleep(1.0)
            found = await asyncio.to_thread(read_announcements, bed.config, topic)
            assert {x.replica_id for x in found} == {a.replica_id, b.replica_id}
            first = next(x for x in found if x.replica_id == a.replica_id)
            assert (first.agent, first.version, first.capabilities, first.group_id) == (
                "triage",
                "1.0.0",
                ("classify",),
                settings.group_id,
            )
            assert [(c.event_type, c.topic, c.subject, c.schema_version) for c in first.consumes] == [
                (TicketOpened.event_type, source, f"{source}-value", 1)
            ]
            assert first.heartbeat_at > first.started_at  # it has beaten since it started
        found = await asyncio.to_thread(read_announcements, bed.config, topic)
        assert [x.replica_id for x in found] == [a.replica_id]  # b left cleanly (tombstone)


def test_killed_replica_turns_stale_in_corps_agents(bed: Bed, tmp_path: Path) -> None:
    source, sink = bed.topic("opened"), bed.topic("triaged")
    settings = bed.settings(
        bed.routing({TicketOpened: source}, {TicketTriaged: sink}),
        telemetry={"heartbeat_interval_s": 0.5},
    )
    topic = settings.topics.registry
    env = {"KAFKA_BOOTSTRAP_SERVERS": bed.kafka.bootstrap_servers, "SCHEMA_REGISTRY_URL": bed.registry.url}
    runner = CliRunner()

    def listed() -> list[dict[str, object]]:
        result = runner.invoke(cli, ["agents", "--topic", topic, "--json", "--stale-after", "3"], env=env)
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.output.splitlines()]

    with AgentProcess(TARGET, settings, tmp_path) as proc:
        deadline = datetime.now(UTC).timestamp() + 60
        while not listed() and datetime.now(UTC).timestamp() < deadline:
            assert proc.alive(), proc.log()
        rows = listed()
        assert [(r["agent"], r["stale"]) for r in rows] == [("triage", False)]
        table = runner.invoke(cli, ["agents", "--topic", topic], env=env)
        assert "triage" in table.output
        assert "1.0.0" in table.output
        proc.kill()
    deadline = datetime.now(UTC).timestamp() + 30
    while not listed()[0]["stale"]:
        assert datetime.now(UTC).timestamp() < deadline, "never turned stale"
    assert listed()[0]["pid"] == proc.proc.pid  # type: ignore[union-attr]
