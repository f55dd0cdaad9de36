"""JSON log lines carry the agent, workflow id and event id of the event being handled."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from corps.runtime import EventContext, bind_context
from corps.runtime.logs import JsonFormatter

CTX = EventContext(
    agent="triage",
    event_id="e-1",
    event_type="demo.support.TicketOpened",
    workflow_id="wf-9",
    tenant="acme",
    source="helpdesk",
    causation_id=None,
    step="triage",
    attempt=2,
    time=datetime(2025, 1, 1, tzinfo=UTC),
    topic="in",
    partition=0,
    offset=5,
)


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "handler", "levelname": "INFO", "msg": message, "args": ()})
    for k, v in extra.items():
        setattr(record, k, v)
    return record


def test_line_inside_a_handler_carries_the_event() -> None:
    formatter = JsonFormatter(static={"replica": "r1"})
    with bind_context(CTX):
        line = json.loads(formatter.format(_record("classified", category="BILLING")))
    assert line["message"] == "classified"
    assert (line["agent"], line["workflow_id"], line["event_id"], line["attempt"]) == (
        "triage",
        "wf-9",
        "e-1",
        2,
    )
    assert line["category"] == "BILLING"
    assert line["replica"] == "r1"
    assert line["level"] == "info"


def test_line_outside_a_handler_has_no_event_fields() -> None:
    line = json.loads(JsonFormatter().format(_record("started")))
    assert "workflow_id" not in line
    assert line["message"] == "started"


def test_exceptions_are_included() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record("failed")
        record.exc_info = sys.exc_info()
    line = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in line["exception"]
