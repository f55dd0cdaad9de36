"""Errors of the replay package: one leaf per thing the caller can act on."""

from __future__ import annotations

from corps.errors import ConfigurationError, CorpsError, ServiceUnavailableError

__all__ = ["ReplayError", "ReplayInputError", "ReplayUnavailableError", "UnrecordedCallError"]


class ReplayError(CorpsError):
    """Root of the errors :mod:`corps.replay` raises."""


class ReplayInputError(ReplayError, ConfigurationError):
    """A range, filter, topic or file given to a replay is invalid; the message names it."""


class ReplayUnavailableError(ReplayError, ServiceUnavailableError):
    """The broker could not be reached, or a partition could not be read to its end in time."""


class UnrecordedCallError(ReplayError):
    """A shadow run made a tool or LLM call that was not recorded, and live calls are not allowed.

    Attributes:
        name: The call's name.
        event_id: The ``ce_id`` of the event being handled.
    """

    def __init__(self, message: str, *, name: str, event_id: str) -> None:
        super().__init__(message)
        self.name = name
        self.event_id = event_id
