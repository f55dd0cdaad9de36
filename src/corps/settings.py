"""Typed, frozen settings: one object per process, read from the environment only by entrypoints.

Library code receives these objects explicitly; it never reads ``os.environ`` itself. The CLI (and any
other entrypoint) calls :meth:`CorpsSettings.from_env` once.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, SecretStr

__all__ = ["CorpsSettings", "KafkaSettings", "RegistrySettings"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class KafkaSettings(BaseModel):
    """How to reach the Kafka cluster."""

    model_config = _FROZEN

    bootstrap_servers: str = Field(min_length=1, description="host:port[,host:port...]")
    security_protocol: str = "PLAINTEXT"
    sasl_mechanism: str | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None

    def client_config(self) -> dict[str, str]:
        """Return the librdkafka (confluent-kafka) configuration for these settings."""
        conf = {"bootstrap.servers": self.bootstrap_servers, "security.protocol": self.security_protocol}
        if self.sasl_mechanism:
            conf["sasl.mechanism"] = self.sasl_mechanism
        if self.sasl_username is not None:
            conf["sasl.username"] = self.sasl_username
        if self.sasl_password is not None:
            conf["sasl.password"] = self.sasl_password.get_secret_value()
        return conf


class RegistrySettings(BaseModel):
    """How to reach the Confluent-compatible schema registry."""

    model_config = _FROZEN

    url: str = Field(min_length=1, description="base URL of the Confluent-compatible API")


class CorpsSettings(BaseModel):
    """Everything a corps process needs to know about its surroundings.

    ``kafka`` and ``registry`` are ``None`` when the environment names no external cluster; the CLI
    then falls back to the local development stack (``corps dev up``).
    """

    model_config = _FROZEN

    kafka: KafkaSettings | None = None
    registry: RegistrySettings | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> CorpsSettings:
        """Build settings from an environment mapping (entrypoints pass ``os.environ``).

        Recognised variables: ``KAFKA_BOOTSTRAP_SERVERS``, ``KAFKA_SECURITY_PROTOCOL``,
        ``KAFKA_SASL_MECHANISM``, ``KAFKA_SASL_USERNAME``, ``KAFKA_SASL_PASSWORD`` and
        ``SCHEMA_REGISTRY_URL``.
        """
        kafka = None
        if servers := environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip():
            password = environ.get("KAFKA_SASL_PASSWORD")
            kafka = KafkaSettings(
                bootstrap_servers=servers,
                security_protocol=environ.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
                sasl_mechanism=environ.get("KAFKA_SASL_MECHANISM") or None,
                sasl_username=environ.get("KAFKA_SASL_USERNAME") or None,
                sasl_password=SecretStr(password) if password else None,
            )
        registry = None
        if url := environ.get("SCHEMA_REGISTRY_URL", "").strip():
            registry = RegistrySettings(url=url)
        return cls(kafka=kafka, registry=registry)
