"""`corps dlq list | show | replay`: inspect dead letters and re-submit them once the cause is fixed."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from tests.integration.runtime.agents_for_tests import TRIAGE, ticket
from tests.integration.runtime.harness import Bed, running

from corps.cli.main import cli
from corps.events.demo import TicketOpened, TicketTriaged

pytestmark = [pytest.mark.integration]


@pytest.mark.asyncio
async def test_list_show_and_replay_after_the_fix(bed: Bed) -> None:
    source, sink = bed.topic("opened", partitions=1), bed.topic("triaged", partitions=1)
    routing = bed.routing({TicketOpened: source}, {TicketTriaged: sink})
    strict = bed.settings(routing, max_record_bytes=300)  # the "bug": too small for real tickets
    small = bed.publish(source, ticket(1), workflow_id="wf-small")
    big_ticket = ticket(2).model_copy(update={"body": "long story " * 40})
    big = bed.publish(source, big_ticket, workflow_id="wf-big")
    bed.flush()
    async with running(TRIAGE, strict) as worker:
        dlq_topic = worker.processor.dead_letter_topic
        await bed.aread(dlq_topic, 1)
        out = await bed.aread(sink, 1)
    assert [bed.decode(r, TicketTriaged)[0].causation_id for r in out] == [small.id]

    env = {"KAFKA_BOOTSTRAP_SERVERS": bed.kafka.bootstrap_servers, "SCHEMA_REGISTRY_URL": bed.registry.url}
    runner = CliRunner()
    listed = runner.invoke(cli, ["dlq", "list", "--topic", dlq_topic, "--json"], env=env)
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert [(r["at"], r["reason"], r["topic"], r["key"]) for r in rows] == [
        ("0:0", "record-too-large", source, "wf-big")
    ]

    shown = runner.invoke(cli, ["dlq", "show", "--topic", dlq_topic, "0:0"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "record-too-large" in shown.output
    assert f"ce_id = {big.id}" in shown.output
    assert '"ticket_id": "t-2"' in shown.output  # the value itself is fine and decodes

    missing = runner.invoke(cli, ["dlq", "show", "--topic", dlq_topic, "0:99"], env=env)
    assert missing.exit_code != 0
    assert "no dead letter at 0:99" in missing.output

    dry = runner.invoke(cli, ["dlq", "replay", "--topic", dlq_topic, "--all", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "would replay 0:0" in dry.output

    fixed = bed.settings(
        routing, group_id=strict.group_id
    )  # same group: carries on after the committed offset
    async with running(TRIAGE, fixed):
        replayed = runner.invoke(cli, ["dlq", "replay", "--topic", dlq_topic, "--at", "0:0"], env=env)
        assert replayed.exit_code == 0, replayed.output
        assert "replayed 1 letter(s)" in replayed.output
        out = await bed.aread(sink, 2)
    causes = [bed.decode(r, TicketTriaged)[0].causation_id for r in sorted(out, key=lambda r: r.offset)]
    assert causes == [small.id, big.id]  # the same event, byte for byte, handled after the fix


def test_replay_needs_a_selection() -> None:
    result = CliRunner().invoke(cli, ["dlq", "replay", "--topic", "x"])
    assert result.exit_code == 2
    assert "exactly one of --at, --reason or --all" in result.output
