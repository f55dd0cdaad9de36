"""The provisioner's settings: where it keeps things, which versions it runs, how it picks ports."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["StackConfig", "default_cache_dir", "default_home"]

KAFKA_VERSION = "4.4.0"
"""Newest Apache Kafka 4.x on Maven Central when written; its broker runs on Java 17."""

SLF4J_VERSION = "2.0.17"
"""Logging binding for the broker (the kafka_2.13 POM carries none); the API is pinned to the same version."""

REGISTRY_VERSION = "3.0.9"
"""Newest Apicurio Registry on Maven Central that runs on Java 17 (3.1.x is not published there,
3.2+ is built for Java 21)."""


class StackConfig(BaseModel):
    """Everything :class:`~corps.dev.LocalStack` needs; entrypoints build it (library code reads no env).

    Attributes:
        home: The stack's own directory: state file, broker data, registry database, logs.
        cache_dir: Download cache shared by every stack of the user (resolved jars, unpacked registry).
        host: Interface both services listen on.
        kafka_port: Preferred broker port; ``None`` takes any free port. A taken port means another one.
        controller_port: Preferred KRaft controller port (same rules).
        registry_port: Preferred registry HTTP port (same rules).
        search_path: The ``PATH`` to find ``java`` and ``mvn`` on (``None``: the process's own).
        maven_repo_local: Maven's local repository (``None``: Maven's default, usually ``~/.m2``).
        start_timeout_s: How long one service may take to become ready.
        stop_timeout_s: How long a service gets after SIGTERM before SIGKILL.
        secure: Secure mode: the broker also listens with SASL/PLAIN on ``secure_port`` and runs the
            StandardAuthorizer (see :func:`corps.dev.kafka.render_server_properties`).
        secure_port: Preferred SASL listener port (same rules as the others).
        sasl_users: PLAIN users of the secure listener besides ``admin`` (a super user); their
            passwords are generated once per stack home and reported in ``StackInfo.sasl_users``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    home: Path
    cache_dir: Path
    host: str = "127.0.0.1"
    kafka_version: str = KAFKA_VERSION
    slf4j_version: str = SLF4J_VERSION
    registry_version: str = REGISTRY_VERSION
    kafka_port: int | None = Field(default=9092, ge=1, le=65535)
    controller_port: int | None = Field(default=9093, ge=1, le=65535)
    registry_port: int | None = Field(default=8081, ge=1, le=65535)
    kafka_heap: str = Field(default="512m", pattern=r"^\d+[kmgKMG]?$")
    registry_heap: str = Field(default="384m", pattern=r"^\d+[kmgKMG]?$")
    java: str = "java"
    mvn: str = "mvn"
    search_path: str | None = None
    maven_repo_local: Path | None = None
    start_timeout_s: float = Field(default=180.0, gt=0)
    stop_timeout_s: float = Field(default=30.0, gt=0)
    secure: bool = False
    secure_port: int | None = Field(default=9094, ge=1, le=65535)
    sasl_users: tuple[str, ...] = ()


def default_home(environ: Mapping[str, str]) -> Path:
    """Return the default stack home: ``$XDG_STATE_HOME/corps/dev`` or ``~/.local/state/corps/dev``.

    Args:
        environ: The environment mapping (entrypoints pass ``os.environ``).
    """
    base = environ.get("XDG_STATE_HOME", "").strip()
    root = Path(base) if base else _user_home(environ) / ".local" / "state"
    return root / "corps" / "dev"


def default_cache_dir(environ: Mapping[str, str]) -> Path:
    """Return the default download cache: ``$XDG_CACHE_HOME/corps`` or ``~/.cache/corps``.

    Args:
        environ: The environment mapping (entrypoints pass ``os.environ``).
    """
    base = environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base else _user_home(environ) / ".cache"
    return root / "corps"


def _user_home(environ: Mapping[str, str]) -> Path:
    home = environ.get("HOME", "").strip()
    return Path(home) if home else Path.home()
