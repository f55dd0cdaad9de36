"""What the provisioner reports: where the stack is, which versions run, whether each service is up."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

__all__ = ["ProgressFn", "ServiceName", "ServiceStatus", "StackInfo", "StackStatus"]

ServiceName = Literal["kafka", "registry"]

ProgressFn = Callable[[str, int, int], None]
"""``progress(description, completed_steps, total_steps)``, called as provisioning moves on."""

_MODEL = ConfigDict(frozen=True, extra="forbid")


class StackInfo(BaseModel):
    """How clients reach a running stack.

    Attributes:
        bootstrap_servers: Kafka ``host:port`` list.
        schema_registry_url: Base URL of the Confluent-compatible schema registry API.
        kafka_version: Broker version, when known (``None`` for an external cluster).
        registry_version: Registry version, when known (``None`` for an external registry).
        external: True when this describes a cluster named by the environment, not a local stack.
        secure_bootstrap_servers: The SASL/PLAIN listener (secure mode only).
        sasl_users: PLAIN user -> password of the secure listener (``admin`` is a super user).
    """

    model_config = _MODEL

    bootstrap_servers: str
    schema_registry_url: str
    kafka_version: str | None = None
    registry_version: str | None = None
    external: bool = False
    secure_bootstrap_servers: str | None = None
    sasl_users: dict[str, str] = {}


class ServiceStatus(BaseModel):
    """One service of a local stack as seen right now.

    Attributes:
        running: The recorded process is alive (and is this stack's service, not a recycled pid).
        pid: Its process id, when recorded.
        address: ``host:port`` (broker) or base URL (registry), when ever started.
        version: The version it runs, when known.
        log: Its log file.
    """

    model_config = _MODEL

    running: bool
    pid: int | None = None
    address: str | None = None
    version: str | None = None
    log: Path


class StackStatus(BaseModel):
    """A local stack as seen right now.

    Attributes:
        home: The stack's directory.
        kafka: The broker.
        registry: The schema registry.
        info: Client addresses and versions from the last start (``None`` if never started).
    """

    model_config = _MODEL

    home: Path
    kafka: ServiceStatus
    registry: ServiceStatus
    info: StackInfo | None = None

    @property
    def running(self) -> bool:
        """Both services are running."""
        return self.kafka.running and self.registry.running
