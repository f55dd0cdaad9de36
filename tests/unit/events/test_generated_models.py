"""The generated models match schemas/ exactly, and behave as frozen typed payloads."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from corps.events import EventModel, SchemaCatalog, lifecycle, models_by_type
from corps.events import demo as demo_models
from corps.events.codegen import MODULES, generate_module
from corps.events.demo import Customer, TicketOpened, TicketTriaged

REPO = Path(__file__).resolve().parents[3]
CATALOG = SchemaCatalog.load(REPO / "schemas")
ALL_MODELS = (*lifecycle.EVENTS, *demo_models.EVENTS)


@pytest.mark.parametrize("namespace", sorted(MODULES))
def test_generated_module_is_up_to_date(namespace: str) -> None:
    path = REPO / "src" / "corps" / "events" / f"{MODULES[namespace]}.py"
    assert path.read_text(encoding="utf-8") == generate_module(CATALOG, namespace), (
        f"{path} is stale: run `.venv/bin/python -m corps.events.codegen schemas`"
    )


def test_every_subject_has_a_model_of_its_latest_version() -> None:
    index = models_by_type(ALL_MODELS)
    assert set(index) == set(CATALOG)
    for event_type, model in index.items():
        latest = CATALOG[event_type].latest
        assert model.schema_version == latest.version
        assert dict(model.avro_schema) == latest.schema


def test_models_are_frozen_and_reject_unknown_fields() -> None:
    ticket = TicketOpened(
        ticket_id="T-1", customer=Customer(customer_id="c", name="Ann", email="a@x"), subject="s", body="b"
    )
    with pytest.raises(ValidationError):
        ticket.subject = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="extra"):
        TicketOpened.model_validate({**ticket.to_avro(), "surprise": 1})


def test_defaults_and_enums_follow_the_schema() -> None:
    triaged = TicketTriaged(ticket_id="T-1", category="BILLING", priority="HIGH", needs_refund=True)
    assert triaged.confidence == 1.0
    assert triaged.summary is None
    with pytest.raises(ValidationError, match="BILLING"):
        TicketTriaged(ticket_id="T-1", category="WEATHER", priority="HIGH", needs_refund=True)  # type: ignore[arg-type]


def test_avro_int_range_is_enforced() -> None:
    with pytest.raises(ValidationError, match="less than or equal to 2147483647"):
        lifecycle.StepFailed(
            step="s", agent="a", code="TIMEOUT", attempts=2**31, last_error="e", retryable=True
        )


def test_to_avro_from_avro_round_trip() -> None:
    ticket = TicketOpened(
        ticket_id="T-1",
        customer=Customer(customer_id="c", name="Ann", email="a@x"),
        subject="s",
        body="b",
        tags=("vip",),
        refund_amount_cents=1250,
    )
    datum = ticket.to_avro()
    assert datum["customer"] == {"customer_id": "c", "name": "Ann", "email": "a@x"}
    assert TicketOpened.from_avro({**datum, "tags": list(datum["tags"])}) == ticket


def test_models_by_type_refuses_two_models_for_one_type() -> None:
    class Impostor(EventModel):
        event_type = "demo.support.TicketOpened"
        schema_version = 1
        avro_schema = TicketOpened.avro_schema

    with pytest.raises(ValueError, match=r"two models for demo\.support\.TicketOpened"):
        models_by_type([TicketOpened, Impostor])
