"""G1: produce and consume through corps' codec and CloudEvents envelope, beside raw bytes (B1, B2).

The corps side does per record what every corps producer and consumer does: build an envelope
(``Envelope.new``: fresh id, time, validation), encode the typed payload (``EventCodec.encode``: Avro
body in the Confluent wire format, CloudEvents headers, key = workflow id) and ``produce`` it with the
same producer preset as B1; then read the topic back like B2 and decode every record into the typed
model (``RawRecord.from_message`` + ``EventCodec.decode``: headers validated, Avro read with the
reader's schema, model built). The payload is a ``demo.support.TicketOpened`` whose value is
:data:`~bench.wire.VALUE_BYTES` long, like B1's. Registry calls are counted after the warm-up (goal 0).
A per-step profile (CPU microseconds per record, in process, no broker) explains the ratios. Each
corps record also carries its CloudEvents headers (``header_bytes`` in the detail) on top of the value.

On a shared machine B1/B2 and G1 run minutes apart under different load, so G1 also alternates its
corps rounds with *paired* raw rounds (same keys, same value size, bytes only) and reports that ratio
too (``G1.*_paired``): the harness ratio follows the issue's definition, the paired one is more
load-robust. Under heavy contention even that swings, so ``G1.*_cpu_us`` give the main thread's CPU
time per record of the same corps and raw loops, and raw / corps as their ratio.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any, cast

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from fastavro import schemaless_reader, schemaless_writer

from bench.context import BenchContext
from bench.results import Result
from bench.wire import (
    CONSUMER,
    THROUGHPUT_PRODUCER,
    VALUE_BYTES,
    DeliveryErrors,
    consumer_config,
    encode,
    new_producer,
    workflow_key,
)
from corps.events import Envelope, EventCodec, RawRecord, SchemaRegistry
from corps.events.demo import Customer, TicketOpened
from corps.settings import RegistrySettings

ID = "G1"
TITLE = "corps codec + envelope: produce and consume throughput vs raw bytes (B1, B2)"
NEEDS: tuple[str, ...] = ("B1", "B2")

_WARMUP = 50_000
_ROUND = 100_000
_ROUNDS = 3
_PASSES = 3
_BATCH = 1000
_PROFILE = 20_000
_SOURCE = "corps://bench/g1"


def _payload(codec: EventCodec, topic: str) -> TicketOpened:
    """A TicketOpened whose encoded value (wire header + Avro body) is exactly VALUE_BYTES long."""

    def make(body: int) -> TicketOpened:
        return TicketOpened(
            ticket_id="T-000123",
            customer=Customer(customer_id="C-42", name="Ann Example", email="ann@example.com"),
            subject="Refund for order 1234",
            body="x" * body,
            refund_amount_cents=1250,
            tags=("billing",),
        )

    probe = make(0)
    size = len(codec.encode(topic, probe, Envelope.new(TicketOpened.event_type, tenant="acme")).value)
    body = VALUE_BYTES - size
    # A string's length prefix is a zig-zag varint: 1 byte up to 63 characters, 2 bytes up to 8191.
    payload = make(body - 1 if body > 63 else body)
    value = codec.encode(topic, payload, Envelope.new(TicketOpened.event_type, tenant="acme")).value
    assert len(value) == VALUE_BYTES, len(value)
    return payload


def _publish(
    producer: Producer,
    errors: DeliveryErrors,
    codec: EventCodec,
    topic: str,
    payload: TicketOpened,
    count: int,
    cpu: list[float] | None = None,
) -> float:
    """Envelope + encode + produce ``count`` records as fast as possible; seconds until all are acked.

    With ``cpu``, appends this thread's CPU microseconds per record (load-robust, unlike the rate).
    """
    produce, poll, encode, new = producer.produce, producer.poll, codec.encode, Envelope.new
    event_type = TicketOpened.event_type
    keys = [workflow_key(i).decode() for i in range(1024)]
    failed_before = errors.count
    started, cpu_started = time.perf_counter(), time.thread_time()
    for seq in range(count):
        record = encode(
            topic, payload, new(event_type, tenant="acme", workflow_id=keys[seq & 1023], source=_SOURCE)
        )
        while True:
            try:
                produce(topic, record.value, record.key, headers=cast(Any, record.headers))
                break
            except BufferError:
                poll(0.005)
        if seq & 0x3FF == 0:
            poll(0)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - started
    if cpu is not None:
        cpu.append((time.thread_time() - cpu_started) / count * 1e6)
    if remaining or errors.count > failed_before:
        raise RuntimeError(
            f"{topic}: {remaining} unflushed, {errors.count - failed_before} failed ({errors.first})"
        )
    return elapsed


def _publish_raw(
    producer: Producer,
    errors: DeliveryErrors,
    topic: str,
    count: int,
    cpu: list[float] | None = None,
    headers: list[tuple[str, str | bytes | None]] | None = None,
) -> float:
    """The paired raw round: the same keys and value size, bytes only, no envelope or headers.

    With ``headers``, every record carries that prebuilt list (corps' CloudEvents headers, no corps
    code per record): the ceiling any binary-mode envelope on this client can reach.
    """
    produce, poll = producer.produce, producer.poll
    value = encode(0)
    keys = [workflow_key(i) for i in range(1024)]
    failed_before = errors.count
    started, cpu_started = time.perf_counter(), time.thread_time()
    for seq in range(count):
        while True:
            try:
                produce(topic, value, keys[seq & 1023], headers=headers)
                break
            except BufferError:
                poll(0.005)
        if seq & 0x3FF == 0:
            poll(0)
    remaining = producer.flush(120)
    elapsed = time.perf_counter() - started
    if cpu is not None:
        cpu.append((time.thread_time() - cpu_started) / count * 1e6)
    if remaining or errors.count > failed_before:
        raise RuntimeError(
            f"{topic}: {remaining} unflushed, {errors.count - failed_before} failed ({errors.first})"
        )
    return elapsed


def _consume_pass(
    ctx: BenchContext,
    codec: EventCodec | None,
    topic: str,
    count: int,
    cpu: list[float] | None = None,
    *,
    headers: bool = False,
) -> float:
    """Read (and decode, with a codec) ``count`` records with a fresh consumer; msgs/s after the first batch.

    Without a codec this is the paired raw pass: the same records, only ``message.error()`` checked
    (and, with ``headers``, ``message.headers()`` read: the ceiling of any binary-mode envelope).
    With ``cpu``, appends this thread's CPU microseconds per record over the same stretch.
    """
    consumer = Consumer(consumer_config(ctx.client_config, ctx.unique_name("g1")))
    wrap = RawRecord.from_message
    decode = codec.decode if codec is not None else None
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(ctx.partitions)])
        remaining = count
        first_at = cpu_first = 0.0
        after_first = 0
        deadline = time.perf_counter() + 600
        while remaining > 0:
            messages = consumer.consume(min(remaining, _BATCH), 1.0)
            for message in messages:
                if message.error() is None:
                    if decode is not None:
                        decode(wrap(cast(Any, message)), TicketOpened)
                    elif headers:
                        message.headers()
                    remaining -= 1
            if messages and not first_at:
                first_at, cpu_first = time.perf_counter(), time.thread_time()
                after_first = remaining
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{topic}: {remaining} records not decoded after 600 s")
        finished, cpu_finished = time.perf_counter(), time.thread_time()
    finally:
        consumer.close()
    if cpu is not None:
        cpu.append((cpu_finished - cpu_first) / after_first * 1e6)
    return after_first / (finished - first_at)


def _per_record_us(step: Callable[[], Any], count: int = _PROFILE) -> float:
    """Best of 3 runs, in this thread's CPU time (other load on the machine does not inflate it)."""
    best = float("inf")
    for _ in range(3):
        started = time.thread_time()
        for _ in range(count):
            step()
        best = min(best, (time.thread_time() - started) / count * 1e6)
    return round(best, 2)


def _profile(codec: EventCodec, topic: str, payload: TicketOpened) -> dict[str, float]:
    """CPU microseconds per record of each corps step, in process (best of 3 runs of 20,000).

    ``avro_write`` / ``avro_read`` are the body alone through the codec's compiled path, beside
    fastavro's ``schemaless_writer`` / ``schemaless_reader`` on the same record.
    """
    event_type = TicketOpened.event_type
    envelope = Envelope.new(event_type, tenant="acme", workflow_id="wf-1", source=_SOURCE)
    record = codec.encode(topic, payload, envelope)
    raw = RawRecord(topic, 0, 0, record.key, record.value, record.headers)
    ref, datum, body = TicketOpened.schema_ref(), payload.to_avro(), record.value[5:]
    write, read = ref.writer, ref.reader
    if write is None or read is None:
        raise RuntimeError("TicketOpened should be covered by the compiled Avro writer and reader")

    def compiled_write() -> bytes:
        out = bytearray()
        write(datum, out)
        return bytes(out)

    def fastavro_write() -> bytes:
        buf = BytesIO()
        schemaless_writer(buf, ref.parsed, datum)
        return buf.getvalue()

    return {
        "envelope_new": _per_record_us(lambda: Envelope.new(event_type, tenant="acme", workflow_id="wf-1")),
        "payload_to_avro": _per_record_us(payload.to_avro),
        "encode (avro + headers)": _per_record_us(lambda: codec.encode(topic, payload, envelope)),
        "envelope_from_headers": _per_record_us(lambda: Envelope.from_headers(raw.headers, raw)),
        "decode (headers + avro + model)": _per_record_us(lambda: codec.decode(raw, TicketOpened)),
        "avro_write compiled": _per_record_us(compiled_write),
        "avro_write fastavro": _per_record_us(fastavro_write),
        "avro_read compiled": _per_record_us(lambda: read(body, 0)),
        "avro_read fastavro": _per_record_us(lambda: schemaless_reader(BytesIO(body), ref.parsed, None)),
    }


def run(ctx: BenchContext) -> list[Result]:
    """Publish like B1 and consume like B2, through corps; report both rates and registry calls."""
    registry = SchemaRegistry(RegistrySettings(url=ctx.registry_url))
    try:
        topic = ctx.create_topic("g1")
        registry.register(f"{topic}-value", TicketOpened.schema_ref().canonical)
        writer = EventCodec(registry)
        payload = _payload(writer, topic)
        producer, errors = new_producer(ctx.client_config, THROUGHPUT_PRODUCER)
        warmup, per_round = ctx.scale.count(_WARMUP), ctx.scale.count(_ROUND)
        raw_topic = ctx.create_topic("g1-raw")
        _publish(producer, errors, writer, topic, payload, warmup)
        _publish_raw(producer, errors, raw_topic, warmup)
        calls = writer.registry_calls
        rates: list[float] = []
        paired: list[float] = []
        ceiling: list[float] = []
        prebuilt: list[tuple[str, str | bytes | None]] = [
            *Envelope.new(
                TicketOpened.event_type, tenant="acme", workflow_id=workflow_key(0).decode(), source=_SOURCE
            ).to_headers()
        ]
        cpu: list[float] = []
        raw_cpu: list[float] = []
        for _ in range(_ROUNDS):  # raw and corps rounds alternate, so both see the same machine load
            paired.append(per_round / _publish_raw(producer, errors, raw_topic, per_round, raw_cpu))
            rates.append(per_round / _publish(producer, errors, writer, topic, payload, per_round, cpu))
            ceiling.append(per_round / _publish_raw(producer, errors, raw_topic, per_round, headers=prebuilt))
        produce_calls = writer.registry_calls - calls
        total = warmup + per_round * _ROUNDS

        reader = EventCodec(registry)  # fresh: fetches the writer schema by id during the warm-up pass
        _consume_pass(ctx, reader, topic, total)
        calls = reader.registry_calls
        passes: list[float] = []
        paired_passes: list[float] = []
        read_cpu: list[float] = []
        raw_read_cpu: list[float] = []
        read_ceiling: list[float] = []
        for _ in range(_PASSES):
            paired_passes.append(_consume_pass(ctx, None, topic, total, raw_read_cpu))
            passes.append(_consume_pass(ctx, reader, topic, total, read_cpu))
            read_ceiling.append(_consume_pass(ctx, None, topic, total, headers=True))
        consume_calls = reader.registry_calls - calls
        profile = _profile(writer, topic, payload)
    finally:
        registry.close()
    measured = per_round * _ROUNDS + total * _PASSES
    headers = Envelope.new(
        TicketOpened.event_type, tenant="acme", workflow_id=workflow_key(0).decode()
    ).to_headers()
    common = {
        "payload": "demo.support.TicketOpened",
        "value_bytes": VALUE_BYTES,
        "header_bytes": sum(len(name) + len(value) for name, value in headers),  # on top of the value
        "headers": len(headers),
        "partitions": ctx.partitions,
        "key": "workflow id (1,024 distinct)",
        "profile_us_per_record": profile,
    }
    return [
        Result(
            id="G1.produce_msgs_per_s",
            label="corps produce (envelope + Avro encode)",
            value=round(statistics.median(rates)),
            unit="msgs/s",
            baseline_id="B1.msgs_per_s",
            goal_ratio=0.70,
            detail={
                **common,
                "producer": dict(THROUGHPUT_PRODUCER),
                "round_messages": per_round,
                "round_msgs_per_s": [round(r) for r in rates],
                "warmup_messages": warmup,
                "statistic": f"median of {_ROUNDS} rounds, each ends with flush() (all acked)",
            },
        ),
        Result(
            id="G1.consume_msgs_per_s",
            label="corps consume (headers + Avro decode + model)",
            value=round(statistics.median(passes)),
            unit="msgs/s",
            baseline_id="B2.msgs_per_s",
            goal_ratio=0.70,
            detail={
                **common,
                "consumer": dict(CONSUMER),
                "messages_per_pass": total,
                "pass_msgs_per_s": [round(r) for r in passes],
                "statistic": f"median of {_PASSES} passes after one warm-up pass",
            },
        ),
        Result(
            id="G1.produce_paired",
            label="corps produce vs raw rounds alternated with it",
            value=round(statistics.median(rates)),
            unit="msgs/s",
            ratio=round(statistics.median(rates) / statistics.median(paired), 3),
            goal_ratio=0.70,
            detail={
                "raw_msgs_per_s": [round(r) for r in paired],
                "corps_msgs_per_s": [round(r) for r in rates],
            },
        ),
        Result(
            id="G1.consume_paired",
            label="corps consume vs raw passes alternated with it",
            value=round(statistics.median(passes)),
            unit="msgs/s",
            ratio=round(statistics.median(passes) / statistics.median(paired_passes), 3),
            goal_ratio=0.70,
            detail={
                "raw_msgs_per_s": [round(r) for r in paired_passes],
                "corps_msgs_per_s": [round(r) for r in passes],
            },
        ),
        Result(
            id="G1.produce_headers_ceiling",
            label="raw produce with corps' prebuilt headers, no corps code (the envelope's ceiling)",
            value=round(statistics.median(ceiling)),
            unit="msgs/s",
            ratio=round(statistics.median(ceiling) / statistics.median(paired), 3),
            detail={
                "raw_msgs_per_s": [round(r) for r in paired],
                "headers_only_msgs_per_s": [round(r) for r in ceiling],
                "meaning": "the best ratio any binary-mode CloudEvents producer on confluent-kafka "
                "can reach against headerless bytes: the cost of the headers in the client alone",
            },
        ),
        Result(
            id="G1.consume_headers_ceiling",
            label="raw consume reading message.headers(), no corps code (the envelope's ceiling)",
            value=round(statistics.median(read_ceiling)),
            unit="msgs/s",
            ratio=round(statistics.median(read_ceiling) / statistics.median(paired_passes), 3),
            detail={
                "raw_msgs_per_s": [round(r) for r in paired_passes],
                "headers_only_msgs_per_s": [round(r) for r in read_ceiling],
                "meaning": "the best ratio any binary-mode CloudEvents consumer on confluent-kafka "
                "can reach against a loop that does not read the headers",
            },
        ),
        Result(
            id="G1.produce_cpu_us",
            label="corps produce: main-thread CPU per record (vs raw rounds)",
            value=round(statistics.median(cpu), 2),
            unit="us",
            ratio=round(statistics.median(raw_cpu) / statistics.median(cpu), 3),
            goal_ratio=0.70,
            detail={
                "raw_cpu_us_per_msg": [round(c, 2) for c in raw_cpu],
                "corps_cpu_us_per_msg": [round(c, 2) for c in cpu],
                "ratio": "raw / corps CPU per record of the paired rounds: load-robust, unlike msgs/s",
            },
        ),
        Result(
            id="G1.consume_cpu_us",
            label="corps consume: main-thread CPU per record (vs raw passes)",
            value=round(statistics.median(read_cpu), 2),
            unit="us",
            ratio=round(statistics.median(raw_read_cpu) / statistics.median(read_cpu), 3),
            goal_ratio=0.70,
            detail={
                "raw_cpu_us_per_msg": [round(c, 2) for c in raw_read_cpu],
                "corps_cpu_us_per_msg": [round(c, 2) for c in read_cpu],
                "ratio": "raw / corps CPU per record of the paired passes: load-robust, unlike msgs/s",
            },
        ),
        Result(
            id="G1.registry_calls_per_msg",
            label="registry HTTP calls per message after warm-up (goal 0)",
            value=(produce_calls + consume_calls) / measured,
            unit="calls/msg",
            detail={
                "produce_calls": produce_calls,
                "consume_calls": consume_calls,
                "messages": measured,
                "counted": "every call into the registry client (an upper bound of HTTP requests)",
            },
        ),
        Result(
            id="G1.encode_us",
            label="envelope + encode per record (in process)",
            value=round(profile["envelope_new"] + profile["encode (avro + headers)"], 2),
            unit="us",
            detail=profile,
        ),
        Result(
            id="G1.decode_us",
            label="decode per record (in process)",
            value=profile["decode (headers + avro + model)"],
            unit="us",
            detail=profile,
        ),
    ]
