"""Finding the external programs the provisioner runs (``java``, ``mvn``) and saying how to get them."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

from corps.dev.errors import ToolMissingError

__all__ = ["Which", "find_tool", "parse_java_major", "require_java"]

Which = Callable[[str, str | None], str | None]
"""``which(name, search_path)``: the full path of an executable or ``None`` (default :func:`shutil.which`)."""

_INSTALL_HINTS = {
    "java": (
        "a Java 17+ runtime: e.g. `sudo apt-get install openjdk-17-jre-headless` (Debian/Ubuntu), "
        "`brew install openjdk@17` (macOS), or any JDK 17+ with its bin/ on PATH"
    ),
    "mvn": (
        "Apache Maven 3.6+: e.g. `sudo apt-get install maven` (Debian/Ubuntu), `brew install maven` "
        "(macOS), or https://maven.apache.org/install.html"
    ),
}


def _shutil_which(name: str, search_path: str | None) -> str | None:
    return shutil.which(name, path=search_path)


def find_tool(name: str, *, search_path: str | None = None, which: Which | None = None) -> Path:
    """Locate an executable, or fail with a message saying what to install.

    Args:
        name: Program name (``java``, ``mvn``) or an explicit path to it.
        search_path: The ``PATH`` string to search; ``None`` searches the process's own.
        which: Lookup function, injectable for tests; defaults to :func:`shutil.which`.

    Returns:
        The absolute path of the executable.

    Raises:
        ToolMissingError: Not found; the message names the program and how to install it.
    """
    found = (which or _shutil_which)(name, search_path)
    if found is None:
        tool = Path(name).name
        hint = _INSTALL_HINTS.get(tool, f"`{tool}`")
        where = f"PATH={search_path!r}" if search_path is not None else "the PATH"
        raise ToolMissingError(
            f"`{name}` was not found on {where}. The local Kafka + schema registry stack needs it; "
            f"install {hint}. Or point corps at an existing cluster with KAFKA_BOOTSTRAP_SERVERS and "
            "SCHEMA_REGISTRY_URL."
        )
    return Path(found).absolute()


_VERSION = re.compile(r'version "(\d+)(?:\.(\d+))?')


def parse_java_major(version_output: str) -> int | None:
    """Return the major version from ``java -version`` output (``"1.8.0_x"`` is 8), or None."""
    match = _VERSION.search(version_output)
    if match is None:
        return None
    major = int(match.group(1))
    return int(match.group(2) or 0) if major == 1 else major


def require_java(java: Path, minimum: int = 17) -> int:
    """Check that ``java`` is at least version ``minimum`` and return its major version.

    Raises:
        ToolMissingError: Too old, or it does not run; the message says what to install.
    """
    try:
        done = subprocess.run(
            [str(java), "-version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ToolMissingError(f"{java} does not run ({exc}); install {_INSTALL_HINTS['java']}") from exc
    major = parse_java_major(done.stderr + done.stdout)
    if major is None or major < minimum:
        found = (done.stderr or done.stdout).strip().splitlines()[:1]
        raise ToolMissingError(
            f"{java} is {found[0] if found else 'of unknown version'}, but Kafka 4 needs Java {minimum}+; "
            f"install {_INSTALL_HINTS['java']}"
        )
    return major
