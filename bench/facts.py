"""Versions and machine facts recorded with every run, so figures from different runs can be compared."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import aiokafka
import confluent_kafka
import httpx

import corps

__all__ = ["load_average", "machine_facts", "version_facts"]

_REPO = Path(__file__).resolve().parent.parent


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None
    return round(pages * page_size / 2**30, 1)


def load_average() -> list[float]:
    """Return the 1/5/15-minute load averages (empty where the platform has none)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return []


def machine_facts(load_at_start: list[float]) -> dict[str, Any]:
    """Return cores, memory, platform, CPU model, and the load before and after the run.

    The load averages say how busy the machine was with other work: on 2 cores, a 1-minute load well
    above the benchmark's own processes means its figures were measured under contention.
    """
    return {
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "cpu_model": _cpu_model(),
        "load_avg_at_start": load_at_start,
        "load_avg_at_end": load_average(),
    }


def _corps_version() -> str:
    try:
        sha = subprocess.run(
            ["git", "-C", str(_REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return corps.__version__
    return f"{corps.__version__}+g{sha}" if sha else corps.__version__


def _registry_version(url: str) -> str:
    """Ask the registry itself: Apicurio's system info, else the Confluent metadata endpoint."""
    base = url.rstrip("/")
    root = base.split("/apis/", 1)[0]
    probes = [
        (f"{root}/apis/registry/v3/system/info", "Apicurio Registry"),
        (f"{base}/v1/metadata/version", ""),
    ]
    for probe, product in probes:
        try:
            response = httpx.get(probe, timeout=3)
        except httpx.HTTPError:
            continue
        if response.status_code == 200:
            body = response.json()
            version = body.get("version") if isinstance(body, dict) else None
            if version:
                name = product or str(body.get("name") or "schema registry")
                return f"{name} {version}".strip()
    return "unknown"


def version_facts(
    *, kafka_version: str | None, registry_version: str | None, registry_url: str | None
) -> dict[str, str]:
    """Return the versions of Python, the clients, the broker, the registry and corps."""
    client, lib = confluent_kafka.__version__, confluent_kafka.libversion()[0]
    registry = registry_version or (_registry_version(registry_url) if registry_url else "not configured")
    return {
        "python": platform.python_version(),
        "confluent-kafka": f"{client} (librdkafka {lib})",
        "aiokafka": str(aiokafka.__version__),
        "kafka broker": kafka_version or "unknown (external cluster)",
        "registry": registry,
        "corps": _corps_version(),
    }
