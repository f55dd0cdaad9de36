"""The local development stack: a real Kafka broker and schema registry from Maven Central, no Docker.

``corps dev up`` and the test fixtures use the same code::

    stack = LocalStack(StackConfig(home=..., cache_dir=...))
    info = stack.up()            # idempotent; returns StackInfo(bootstrap_servers, schema_registry_url, ...)
    stack.down(purge=False)

When ``KAFKA_BOOTSTRAP_SERVERS`` and ``SCHEMA_REGISTRY_URL`` name an existing cluster, entrypoints use
that instead (see :func:`probe_external`). Testcontainers is not used: the machines corps targets have
no Docker engine, and the provisioner needs only Java 17 and Maven.
"""

from corps.dev.config import StackConfig, default_cache_dir, default_home
from corps.dev.errors import ProvisionError, ResolveError, ServiceStartError, ToolMissingError
from corps.dev.external import ExternalStatus, probe_external
from corps.dev.models import ServiceName, ServiceStatus, StackInfo, StackStatus
from corps.dev.stack import LocalStack

__all__ = [
    "ExternalStatus",
    "LocalStack",
    "ProvisionError",
    "ResolveError",
    "ServiceName",
    "ServiceStartError",
    "ServiceStatus",
    "StackConfig",
    "StackInfo",
    "StackStatus",
    "ToolMissingError",
    "default_cache_dir",
    "default_home",
    "probe_external",
]
