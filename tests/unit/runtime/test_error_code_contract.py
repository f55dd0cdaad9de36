"""Runtime codes are the StepFailed schema's ErrorCode symbols; DLQ reasons cover the codec's reasons."""

from __future__ import annotations

import typing

from corps.events import errors as event_errors
from corps.events.lifecycle import StepFailed
from corps.runtime import ErrorCode
from corps.runtime.dlq import DeadLetterReason


def test_error_codes_match_the_avro_enum() -> None:
    field = next(f for f in StepFailed.avro_schema["fields"] if f["name"] == "code")
    assert [c.value for c in ErrorCode] == field["type"]["symbols"]
    assert set(typing.get_args(typing.get_type_hints(StepFailed)["code"])) == {c.value for c in ErrorCode}


def test_every_record_error_reason_is_a_dead_letter_reason() -> None:
    leaves = [
        cls
        for cls in vars(event_errors).values()
        if isinstance(cls, type)
        and issubclass(cls, event_errors.RecordError)
        and cls is not event_errors.RecordError
    ]
    assert leaves
    assert {cls.reason for cls in leaves} <= {r.value for r in DeadLetterReason}
