"""The benchmark payload format and client presets."""

from __future__ import annotations

from bench.wire import (
    FLAG_WARMUP,
    LATENCY_PRODUCER,
    THROUGHPUT_PRODUCER,
    VALUE_BYTES,
    consumer_config,
    decode,
    encode,
    workflow_key,
)


def test_payload_round_trip_and_size() -> None:
    value = encode(42, FLAG_WARMUP, sent_ns=123_456_789)
    assert len(value) == VALUE_BYTES == 256
    assert decode(value) == (42, 123_456_789, FLAG_WARMUP)


def test_workflow_keys_cycle() -> None:
    assert workflow_key(5) == workflow_key(5 + 1024)
    assert workflow_key(5) != workflow_key(6)


def test_presets_keep_the_delivery_guarantees() -> None:
    for preset in (THROUGHPUT_PRODUCER, LATENCY_PRODUCER):
        assert preset["acks"] == "all"
        assert preset["enable.idempotence"] is True
    assert LATENCY_PRODUCER["linger.ms"] == 0


def test_consumer_config_reads_from_the_start_without_commits() -> None:
    conf = consumer_config({"bootstrap.servers": "h:1"}, "g-1")
    assert conf["group.id"] == "g-1"
    assert conf["auto.offset.reset"] == "earliest"
    assert conf["enable.auto.commit"] is False
    assert conf["fetch.queue.backoff.ms"] == 0
    assert conf["bootstrap.servers"] == "h:1"
