"""Picking TCP ports: the preferred one when it is free, else any free one the kernel hands out."""

from __future__ import annotations

import socket
from collections.abc import Collection

__all__ = ["is_port_free", "pick_port", "wait_for_port"]


def is_port_free(host: str, port: int) -> bool:
    """Tell whether a listener could bind ``host:port`` now.

    ``SO_REUSEADDR`` is set like the JVM sets it, so a port held only by connections in TIME_WAIT (a
    service that just stopped) counts as free.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(host: str, preferred: int | None = None, *, avoid: Collection[int] = ()) -> int:
    """Return ``preferred`` when it is free and not in ``avoid``, else a free port chosen by the kernel.

    The port is not reserved: a service should bind it soon after (a lost race shows as a start failure).
    """
    if preferred is not None and preferred not in avoid and is_port_free(host, preferred):
        return preferred
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in avoid:
            return port
    raise OSError(f"no free TCP port found on {host}")  # pragma: no cover - kernel keeps handing out avoided


def wait_for_port(host: str, port: int, timeout: float) -> bool:
    """Try one TCP connect to ``host:port``; True when something accepted it within ``timeout``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
