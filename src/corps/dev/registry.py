"""The schema registry: Apicurio Registry with its Confluent-compatible API and a file database."""

from __future__ import annotations

from pathlib import Path

import httpx

__all__ = [
    "CCOMPAT_PATH",
    "ensure_compatibility",
    "find_runner",
    "probe_registry",
    "registry_command",
]

CCOMPAT_PATH = "/apis/ccompat/v7"
"""Where Apicurio serves the Confluent Schema Registry API; clients get ``base + CCOMPAT_PATH``."""


def find_runner(dist: Path) -> Path:
    """Return the Quarkus runner jar of an unpacked Apicurio distribution.

    Raises:
        FileNotFoundError: The distribution holds no runner jar.
    """
    for name in ("quarkus-run.jar", "*-runner.jar"):
        found = sorted(dist.glob(name)) or sorted(dist.glob(f"*/{name}"))
        if found:
            return found[0]
    raise FileNotFoundError(f"no Apicurio runner jar (quarkus-run.jar or *-runner.jar) under {dist}")


def registry_command(
    java: Path, runner: Path, *, host: str, port: int, db_path: Path, heap: str, marker: str
) -> list[str]:
    """Return the JVM command line running Apicurio on ``host:port`` with an H2 file database.

    The ``sql`` storage on a file database keeps every schema across restarts (the default H2 is in
    memory); ``WRITE_DELAY=0`` hands each commit to the OS at once, so even ``kill -9`` loses nothing
    (H2 otherwise writes commits up to 500 ms late). Quarkus' separate management interface stays off,
    so one port per registry is enough.
    """
    return [
        str(java),
        f"-Xmx{heap}",
        "-XX:+UseSerialGC",
        "-Djava.awt.headless=true",
        f"-Dcorps.dev.service={marker}",
        f"-Dquarkus.http.host={host}",
        f"-Dquarkus.http.port={port}",
        "-Dquarkus.management.enabled=false",
        "-Dapicurio.storage.kind=sql",
        "-Dapicurio.storage.sql.kind=h2",
        f"-Dapicurio.datasource.url=jdbc:h2:file:{db_path};WRITE_DELAY=0",
        "-Dapicurio.datasource.username=sa",
        "-Dapicurio.datasource.password=sa",
        "-jar",
        str(runner),
    ]


def probe_registry(base_url: str, timeout: float) -> str:
    """Ask the registry for its system info and return the version it reports.

    Raises:
        httpx.HTTPError: Not reachable or not healthy yet.
    """
    response = httpx.get(f"{base_url}/apis/registry/v3/system/info", timeout=timeout)
    response.raise_for_status()
    return str(response.json().get("version", "unknown"))


def ensure_compatibility(base_url: str, level: str, timeout: float) -> str:
    """Set the registry's global compatibility level through the Confluent API unless already set.

    Returns:
        The level the registry reports afterwards.

    Raises:
        httpx.HTTPError: The registry refused or failed.
    """
    url = f"{base_url}{CCOMPAT_PATH}/config"
    current = httpx.get(url, timeout=timeout)
    current.raise_for_status()
    if current.json().get("compatibilityLevel") != level:
        httpx.put(url, json={"compatibility": level}, timeout=timeout).raise_for_status()
        current = httpx.get(url, timeout=timeout)
        current.raise_for_status()
    return str(current.json().get("compatibilityLevel"))
