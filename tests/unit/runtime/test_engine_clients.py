"""The engine's librdkafka configurations: the runtime's defaults, and the settings' overrides winning."""

from __future__ import annotations

from confluent_kafka import KafkaError, Message

from corps.runtime.engine.clients import consumer_config, producer_config
from corps.runtime.settings import AgentSettings
from corps.settings import KafkaSettings, RegistrySettings


def _settings(**values: object) -> AgentSettings:
    return AgentSettings.model_validate(
        {
            "kafka": KafkaSettings(bootstrap_servers="127.0.0.1:9"),
            "registry": RegistrySettings(url="http://127.0.0.1:9"),
            **values,
        }
    )


def _ignore(_err: KafkaError | None, _msg: Message) -> None:
    return None


def test_the_consumer_reads_committed_and_commits_by_hand() -> None:
    config = consumer_config(_settings(), "group", "client")
    assert config["isolation.level"] == "read_committed"
    assert config["enable.auto.commit"] is False
    assert config["fetch.queue.backoff.ms"] == 0
    assert config["group.id"] == "group"


def test_the_transactional_producer_retries_concurrent_transactions_quickly() -> None:
    config = producer_config(_settings(), "client", "txn-1", _ignore)
    assert config["transactional.id"] == "txn-1"
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"
    # back-to-back transactions meet CONCURRENT_TRANSACTIONS; librdkafka's 100 ms default backoff
    # would be most of a low-rate hop's latency
    assert config["retry.backoff.ms"] == 5
    assert config["retry.backoff.max.ms"] == 100


def test_the_at_least_once_producer_has_no_transactional_id() -> None:
    config = producer_config(_settings(delivery="at_least_once"), "client", None, _ignore)
    assert "transactional.id" not in config


def test_settings_overrides_win_over_the_runtime_defaults() -> None:
    settings = _settings(
        producer_config={"retry.backoff.ms": 50, "linger.ms": 0},
        consumer_config={"fetch.wait.max.ms": 10},
    )
    produced = producer_config(settings, "client", "txn-1", _ignore)
    consumed = consumer_config(settings, "group", "client")
    assert (produced["retry.backoff.ms"], produced["linger.ms"]) == (50, 0)
    assert consumed["fetch.wait.max.ms"] == 10
