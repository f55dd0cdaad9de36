"""A poison corpus goes to the dead-letter topic with reasons and original bytes; the partition flows on."""

from __future__ import annotations

import copy
import json
from io import BytesIO

import pytest
from fastavro import parse_schema, schemaless_writer
from tests.integration.runtime.agents_for_tests import TRIAGE, ticket
from tests.integration.runtime.harness import Bed, running

from corps.events import Envelope, SchemaRegistry
from corps.events.demo import TicketOpened, TicketTriaged
from corps.runtime.dlq import DeadLetter

pytestmark = [pytest.mark.integration, pytest.mark.asyncio]


def _incompatible_ticket_schema() -> dict[str, object]:
    """demo.support.TicketOpened with ticket_id as an int: valid Avro, unreadable as the real TicketOpened."""
    schema = copy.deepcopy(dict(TicketOpened.avro_schema))
    fields = [dict(f) for f in schema["fields"]]  # type: ignore[union-attr]
    fields[0] = {"name": "ticket_id", "type": "int"}
    schema["fields"] = fields
    return schema


async def test_poison_records_are_dead_lettered_and_the_partition_keeps_flowing(bed: Bed) -> None:
    source = bed.topic("opened", partitions=1, config={"max.message.bytes": str(3 * 1024 * 1024)})
    sink = bed.topic("triaged", partitions=1)
    settings = bed.settings(bed.routing({TicketOpened: source}, {TicketTriaged: sink}))
    envelope = Envelope.new(TicketOpened.event_type, tenant="acme", workflow_id="wf-0")
    good = bed.codec.encode(source, ticket(0), envelope)
    wrong_type = bed.codec.encode(
        sink,
        TicketTriaged(ticket_id="t", category="OTHER", priority="LOW", needs_refund=False),
        Envelope.new(TicketTriaged.event_type, tenant="acme", workflow_id="wf-x"),
    )
    with SchemaRegistry(bed.registry) as reg:
        other_id = reg.register(bed.unique("elsewhere") + "-value", json.dumps(_incompatible_ticket_schema()))
    buf = BytesIO()
    datum = {
        "ticket_id": 7,
        "customer": {"customer_id": "c", "name": "n", "email": "e"},
        "subject": "s",
        "body": "b",
        "channel": "WEB",
        "refund_amount_cents": None,
        "tags": [],
    }
    schemaless_writer(buf, parse_schema(_incompatible_ticket_schema()), datum)
    headers = good.headers
    poison: dict[str, tuple[bytes, bytes | None, list[tuple[str, bytes]]]] = {
        "unknown-magic-byte": (b"wf-1", b'{"ticket_id": "json, not avro"}', headers),
        "unknown-schema-id": (b"wf-2", b"\x00\x00\x0f\x42\x3f" + good.value[5:], headers),
        "truncated-body": (b"wf-3", good.value[: len(good.value) // 2], headers),
        "unexpected-event-type": (b"wf-4", wrong_type.value, headers),
        "incompatible-schema": (b"wf-5", b"\x00" + other_id.to_bytes(4, "big") + buf.getvalue(), headers),
        "bad-envelope": (b"wf-6", good.value, []),
        "record-too-large": (b"wf-7", b"\x00" + b"x" * (1024 * 1024 + 10), headers),
    }
    expected_goods = []
    for n, (key, value, hdrs) in enumerate(poison.values()):
        matching = [(k, key if k == "ce_workflowid" else v) for k, v in hdrs]  # key == workflow id
        bed.produce_raw(source, key, value, matching)
        expected_goods.append(bed.publish(source, ticket(100 + n), workflow_id=f"wf-good-{n}").id)
    bed.flush()
    async with running(TRIAGE, settings) as worker:
        out = await bed.aread(sink, len(expected_goods))
        letters_raw = await bed.aread(worker.processor.dead_letter_topic, len(poison), settle_s=1.0)
    assert [
        bed.decode(r, TicketTriaged)[0].causation_id for r in sorted(out, key=lambda r: r.offset)
    ] == expected_goods
    letters = {}
    for raw in letters_raw:
        letter = DeadLetter.from_record(
            topic=raw.topic,
            partition=raw.partition,
            offset=raw.offset,
            key=raw.key,
            value=raw.value,
            headers=raw.headers,
        )
        letters[letter.reason] = letter
    assert set(letters) == set(poison)
    for reason, (key, value, _) in poison.items():
        letter = letters[reason]
        assert (letter.key, letter.value) == (key, value), reason  # original bytes intact
        assert (letter.agent, letter.topic, letter.partition) == ("triage", source, 0)
        assert letter.detail
    assert letters["bad-envelope"].original_headers == []
    assert dict(letters["truncated-body"].original_headers)["ce_type"] == TicketOpened.event_type.encode()
