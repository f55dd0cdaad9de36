"""corps: event-driven choreography for AI agents on Apache Kafka."""

from corps.errors import ConfigurationError, CorpsError, ServiceUnavailableError
from corps.settings import CorpsSettings, KafkaSettings, RegistrySettings

__all__ = [
    "ConfigurationError",
    "CorpsError",
    "CorpsSettings",
    "KafkaSettings",
    "RegistrySettings",
    "ServiceUnavailableError",
    "__version__",
]

__version__ = "0.1.0"
