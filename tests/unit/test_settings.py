from __future__ import annotations

import pydantic
import pytest

from corps import CorpsSettings, KafkaSettings


def test_empty_environment_names_no_external_cluster() -> None:
    settings = CorpsSettings.from_env({})
    assert settings.kafka is None
    assert settings.registry is None


def test_environment_points_at_existing_cluster() -> None:
    settings = CorpsSettings.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": "k1:9092,k2:9092", "SCHEMA_REGISTRY_URL": "http://sr:8081"}
    )
    assert settings.kafka is not None
    assert settings.kafka.client_config() == {
        "bootstrap.servers": "k1:9092,k2:9092",
        "security.protocol": "PLAINTEXT",
    }
    assert settings.registry is not None
    assert settings.registry.url == "http://sr:8081"


def test_settings_are_frozen_and_reject_unknown_keys() -> None:
    settings = KafkaSettings(bootstrap_servers="x:1")
    with pytest.raises(pydantic.ValidationError):
        settings.bootstrap_servers = "y:2"  # type: ignore[misc]
    with pytest.raises(pydantic.ValidationError, match="bogus"):
        KafkaSettings(bootstrap_servers="x:1", bogus=1)  # type: ignore[call-arg]


def test_sasl_password_is_secret_but_reaches_the_client_config() -> None:
    settings = CorpsSettings.from_env(
        {"KAFKA_BOOTSTRAP_SERVERS": "k:9092", "KAFKA_SASL_USERNAME": "u", "KAFKA_SASL_PASSWORD": "s3cr3t-pw"}
    )
    assert settings.kafka is not None
    assert "s3cr3t-pw" not in repr(settings.kafka)
    assert settings.kafka.client_config()["sasl.password"] == "s3cr3t-pw"
