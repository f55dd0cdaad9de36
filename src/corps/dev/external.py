"""An existing cluster named by the environment: is it reachable, and what does it look like?"""

from __future__ import annotations

import httpx
from confluent_kafka import KafkaException
from pydantic import BaseModel, ConfigDict

from corps.dev.kafka import probe_kafka
from corps.dev.models import StackInfo
from corps.settings import KafkaSettings, RegistrySettings

__all__ = ["ExternalStatus", "probe_external"]


class ExternalStatus(BaseModel):
    """An external Kafka cluster and schema registry as seen right now.

    Attributes:
        info: How clients reach them (versions unknown: Kafka does not report one over the wire).
        kafka_reachable: An admin round trip to the cluster succeeded.
        registry_reachable: The registry answered ``GET /config``.
        kafka_error: Why the cluster was not reachable.
        registry_error: Why the registry was not reachable.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    info: StackInfo
    kafka_reachable: bool
    registry_reachable: bool
    kafka_error: str | None = None
    registry_error: str | None = None

    @property
    def running(self) -> bool:
        """Both answered."""
        return self.kafka_reachable and self.registry_reachable


def probe_external(
    kafka: KafkaSettings, registry: RegistrySettings, *, timeout: float = 10.0
) -> ExternalStatus:
    """Check an external cluster and registry with one round trip each.

    Args:
        kafka: How to reach the cluster (the CLI builds it from the environment).
        registry: How to reach the registry.
        timeout: Seconds per round trip.
    """
    kafka_error = registry_error = None
    try:
        probe_kafka(kafka.bootstrap_servers, timeout=timeout, extra=kafka.client_config())
    except KafkaException as exc:
        kafka_error = str(exc)
    url = registry.url.rstrip("/")
    try:
        httpx.get(f"{url}/config", timeout=timeout).raise_for_status()
    except httpx.HTTPError as exc:
        registry_error = f"{exc.__class__.__name__}: {exc}"
    return ExternalStatus(
        info=StackInfo(bootstrap_servers=kafka.bootstrap_servers, schema_registry_url=url, external=True),
        kafka_reachable=kafka_error is None,
        registry_reachable=registry_error is None,
        kafka_error=kafka_error,
        registry_error=registry_error,
    )
