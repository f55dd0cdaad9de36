"""corps: event-driven choreography for AI agents on Apache Kafka."""

from typing import TYPE_CHECKING, Any

from corps.errors import ConfigurationError, CorpsError, ServiceUnavailableError
from corps.settings import CorpsSettings, KafkaSettings, RegistrySettings

__all__ = [
    "Client",
    "ConfigurationError",
    "CorpsError",
    "CorpsSettings",
    "KafkaSettings",
    "RegistrySettings",
    "ServiceUnavailableError",
    "__version__",
]

__version__ = "0.1.0"

if TYPE_CHECKING:
    from corps.client import Client


def __getattr__(name: str) -> Any:
    # The client pulls in the event layer (fastavro, confluent-kafka); importing it lazily keeps
    # `import corps.errors` / `corps.settings` / `corps.dev` light.
    if name == "Client":
        from corps.client import Client

        return Client
    raise AttributeError(f"module 'corps' has no attribute {name!r}")
