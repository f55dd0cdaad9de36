"""The machine and version facts recorded with each run (local facts only, no broker, no registry)."""

from __future__ import annotations

from bench.facts import load_average, machine_facts, version_facts


def test_machine_facts_shape() -> None:
    facts = machine_facts([0.5, 0.4, 0.3])
    assert set(facts) == {
        "cores",
        "memory_gib",
        "platform",
        "cpu_model",
        "load_avg_at_start",
        "load_avg_at_end",
    }
    assert facts["load_avg_at_start"] == [0.5, 0.4, 0.3]
    assert isinstance(facts["cores"], int)
    assert facts["cores"] >= 1


def test_load_average_is_three_numbers_or_nothing() -> None:
    assert len(load_average()) in (0, 3)


def test_version_facts_use_what_the_stack_reported() -> None:
    versions = version_facts(kafka_version="4.4.0", registry_version="3.0.9", registry_url=None)
    assert set(versions) == {"python", "confluent-kafka", "aiokafka", "kafka broker", "registry", "corps"}
    assert versions["kafka broker"] == "4.4.0"
    assert versions["registry"] == "3.0.9"
    assert "librdkafka" in versions["confluent-kafka"]


def test_version_facts_for_an_unknown_external_cluster() -> None:
    versions = version_facts(kafka_version=None, registry_version=None, registry_url=None)
    assert versions["kafka broker"] == "unknown (external cluster)"
    assert versions["registry"] == "not configured"
