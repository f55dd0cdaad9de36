"""Structured JSON logs: one object per line, with the agent, workflow id and event id of the event.

The event fields come from the per-event context, so handler code logs with the plain ``logging`` API.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

from corps.runtime.context import _current

__all__ = ["JsonFormatter", "configure_logging"]

_STANDARD = frozenset(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """Formats a record as one JSON line.

    Fields: ``time``, ``level``, ``logger``, ``message``, the event context (``agent``, ``workflow_id``,
    ``event_id``, ``event_type``, ``attempt``, ``tenant``) when inside a handler, and any ``extra``.

    Args:
        static: Fields put on every line (e.g. the agent name and replica id of the process).
    """

    def __init__(self, static: dict[str, Any] | None = None) -> None:
        super().__init__()
        self.static = dict(static or {})

    def format(self, record: logging.LogRecord) -> str:
        """Return one JSON line."""
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **self.static,
        }
        ctx = _current()
        if ctx is not None:
            line.update(
                agent=ctx.agent,
                workflow_id=ctx.workflow_id,
                event_id=ctx.event_id,
                event_type=ctx.event_type,
                attempt=ctx.attempt,
                tenant=ctx.tenant,
            )
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str)


def configure_logging(
    level: str = "INFO", *, json_format: bool = True, static: dict[str, Any] | None = None
) -> None:
    """Configure the root logger for an agent process (called by the CLI, never by library code)."""
    handler = logging.StreamHandler()
    if json_format:
        handler.setFormatter(JsonFormatter(static))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for chatty in ("httpx", "httpx2", "httpcore"):  # one line per registry request at INFO
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
