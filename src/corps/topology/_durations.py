"""Human-friendly durations in topology files: ``500ms``, ``30s``, ``5m``, ``4h``, ``7d`` or seconds."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import BeforeValidator, PlainSerializer

__all__ = ["FOREVER_SPAN", "Duration", "Retention", "format_duration", "parse_duration", "retention_ms"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")
FOREVER = "forever"
FOREVER_SPAN = timedelta.max
"""The retention written ``forever``: Kafka keeps the records without a time limit."""


def parse_duration(value: object) -> object:
    """Turn ``"30s"``-style text or a number of seconds into a :class:`~datetime.timedelta`.

    Anything else is passed through unchanged so pydantic reports the type error itself.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative: {value}")
        return timedelta(seconds=value)
    if isinstance(value, str):
        match = _PATTERN.match(value)
        if match is None:
            raise ValueError(f"not a duration: {value!r} (use e.g. 500ms, 30s, 5m, 4h, 7d)")
        return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    return value


def _parse_retention(value: object) -> object:
    if isinstance(value, str) and value.strip().lower() == FOREVER:
        return FOREVER_SPAN
    return parse_duration(value)


def format_duration(value: timedelta) -> str:
    """Render a duration the way a topology file would write it (``forever`` for :data:`FOREVER_SPAN`)."""
    if value == FOREVER_SPAN:
        return FOREVER
    millis = round(value.total_seconds() * 1000)
    for unit, factor in (("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if millis and millis % factor == 0:
            return f"{millis // factor}{unit}"
    return f"{millis}ms"


def retention_ms(value: timedelta) -> int:
    """Kafka's ``retention.ms`` for a retention (``-1`` keeps records forever)."""
    return -1 if value == FOREVER_SPAN else round(value.total_seconds() * 1000)


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
]
"""A positive or zero span of time, written ``30s``, ``5m`` … in YAML."""

Retention = Annotated[
    timedelta,
    BeforeValidator(_parse_retention),
    PlainSerializer(format_duration, return_type=str),
]
"""How long a topic keeps records; ``forever`` (:data:`FOREVER_SPAN`) keeps them without limit."""
