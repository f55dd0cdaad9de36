"""Where the CLI finds Kafka and the schema registry: the environment, else the local dev stack.

``KAFKA_BOOTSTRAP_SERVERS`` and ``SCHEMA_REGISTRY_URL`` (read by :meth:`CorpsSettings.from_env`) win.
When neither is set, commands use the stack that ``corps dev up`` started (home ``$CORPS_DEV_HOME`` or
the default); it is never started implicitly, the error says how to start it. Other commands reuse
:func:`resolve_stack` and :func:`resolve_registry`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from corps.dev import LocalStack, ProvisionError, StackConfig, default_cache_dir, default_home
from corps.settings import CorpsSettings, KafkaSettings, RegistrySettings

__all__ = ["StackNotAvailableError", "resolve_registry", "resolve_stack"]

_HINT = "run `corps dev up`, or set KAFKA_BOOTSTRAP_SERVERS and SCHEMA_REGISTRY_URL"


class StackNotAvailableError(click.ClickException):
    """Neither the environment nor a running local stack says where Kafka / the registry are.

    Attributes:
        missing: What cannot be found: ``"kafka"`` and/or ``"registry"``.
    """

    def __init__(self, message: str, missing: tuple[str, ...] = ("kafka", "registry")) -> None:
        super().__init__(message)
        self.missing = missing


def resolve_stack(environ: Mapping[str, str] | None = None) -> tuple[KafkaSettings, RegistrySettings]:
    """Return how to reach Kafka and the registry (environment first, then the local stack).

    Raises:
        StackNotAvailableError: Only one of the two variables is set, or no local stack is running.
    """
    env = os.environ if environ is None else environ
    settings = CorpsSettings.from_env(env)
    if settings.kafka is not None and settings.registry is not None:
        return settings.kafka, settings.registry
    if settings.kafka is not None or settings.registry is not None:
        missing = "SCHEMA_REGISTRY_URL" if settings.registry is None else "KAFKA_BOOTSTRAP_SERVERS"
        raise StackNotAvailableError(
            f"{missing} is not set but its partner is: set both to use an existing cluster, or neither "
            "to use the local dev stack",
            ("registry",) if settings.registry is None else ("kafka",),
        )
    return _local(env, need_kafka=True)


def resolve_registry(environ: Mapping[str, str] | None = None) -> RegistrySettings:
    """Return how to reach the registry alone (``SCHEMA_REGISTRY_URL``, else the local stack's registry).

    Raises:
        StackNotAvailableError: The variable is unset and no local registry is running.
    """
    env = os.environ if environ is None else environ
    settings = CorpsSettings.from_env(env)
    if settings.registry is not None:
        return settings.registry
    return _local(env, need_kafka=False)[1]


def _local(env: Mapping[str, str], *, need_kafka: bool) -> tuple[KafkaSettings, RegistrySettings]:
    home = Path(env["CORPS_DEV_HOME"]) if env.get("CORPS_DEV_HOME") else default_home(env)
    stack = LocalStack(StackConfig(home=home.absolute(), cache_dir=default_cache_dir(env).absolute()))
    try:
        status = stack.status()
    except ProvisionError as exc:
        raise StackNotAvailableError(f"local dev stack at {home}: {exc}") from exc
    down = [
        (key, name)
        for key, name, service in (
            ("kafka", "Kafka", status.kafka),
            ("registry", "schema registry", status.registry),
        )
        if not service.running and (need_kafka or key != "kafka")
    ]
    if down or status.info is None:
        names = " and the ".join(name for _, name in down) or "stack"
        verb = "are" if len(down) > 1 else "is"
        raise StackNotAvailableError(
            f"no cluster configured, and the local dev stack's {names} ({home}) {verb} not running: {_HINT}",
            tuple(key for key, _ in down) or ("kafka", "registry"),
        )
    return (
        KafkaSettings(bootstrap_servers=status.info.bootstrap_servers),
        RegistrySettings(url=status.info.schema_registry_url),
    )
