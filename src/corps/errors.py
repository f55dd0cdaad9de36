"""The one root error of corps and the leaves every layer shares.

Every error corps raises derives from :class:`CorpsError`. A leaf says what the caller should do with
it: ``retriable`` (try again later), or not. Library errors are wrapped with ``raise ... from exc`` so
the original cause stays attached.
"""

from __future__ import annotations

__all__ = ["ConfigurationError", "CorpsError", "ServiceUnavailableError"]


class CorpsError(Exception):
    """Root of every error corps raises.

    Attributes:
        retriable: True when the same call may succeed if tried again later.
    """

    retriable: bool = False


class ConfigurationError(CorpsError):
    """Settings, files or arguments are invalid; the message names what and where."""


class ServiceUnavailableError(CorpsError):
    """A broker, registry or other dependency cannot be reached (may recover by itself)."""

    retriable = True
