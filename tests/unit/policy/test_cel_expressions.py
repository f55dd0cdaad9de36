"""CEL expressions: pruned activations are exact, values convert deterministically, errors have positions."""

from __future__ import annotations

import datetime as dt
import decimal
import enum
import uuid

import pytest
from policy_helpers import T0, event

from corps.policy import ExpressionError
from corps.policy.expressions import Needs, activation, compile_expression, needs_of
from corps.policy.inputs import cel_event, to_cel

W = None  # the whole value
E: frozenset[str] = frozenset()


@pytest.mark.parametrize(
    ("source", "needs"),
    [
        ("event.tenant == 'a'", Needs((("tenant", W),), E)),
        (
            "event.data.x > 1 && has(event.data.y.z)",
            Needs((("data", (("x", W), ("y", (("z", W),)))),), E),
        ),
        ("event . data . x == 1", Needs((("data", (("x", W),)),), E)),
        ("event.data['x'] == 1", Needs((("data", W),), E)),
        ("size(event.data) > 1", Needs((("data", W),), E)),
        ("event['tenant'] == 'a'", Needs(W, E)),
        ("event.all(k, k != 'x')", Needs(W, E)),
        ("event.data.exists(k, k == 'x')", Needs((("data", W),), E)),
        ("event.data.tags.exists(t, t == 'x')", Needs((("data", (("tags", W),)),), E)),
        ("event.tenant.startsWith('t')", Needs((("tenant", W),), E)),
        ("'event.data.secret' == event.name", Needs((("name", W),), E)),
        ("context.now > event.time", Needs((("time", W),), frozenset({"now"}))),
        ("context.counters['b'] > 1", Needs((), frozenset({"counters"}))),
        ("size(context) > 0", Needs((), None)),
        ("context.now.getDayOfWeek() == 0", Needs((), frozenset({"now"}))),
        (
            "event.data.customer.email.endsWith('x') || event.data.customer == {}",
            Needs((("data", (("customer", W),)),), E),
        ),
        (
            "has(event.data.a.b) && event.data.a.c[0] == 1",
            Needs((("data", (("a", (("b", W), ("c", W))),)),), E),
        ),
    ],
)
def test_needs_of(source: str, needs: Needs) -> None:
    assert needs_of(source) == needs


EXPRESSIONS = [
    "event.tenant == 'acme'",
    "event.data.amount > 10",
    "has(event.data.missing)",
    "event.data.missing == 1",
    "event.data['amount'] == 12",
    "size(event.data) == 3",
    "event.data.items.exists(i, i.sku == 'a')",
    "event.data.all(k, k != 'nothing')",
    "event.all(k, k != 'nothing')",
    "event.data.exists(k, k == 'items')",
    "event['data']['amount'] == 12",
    "event['source'] == 'helpdesk' && event.name == 'TicketOpened'",
    "event.time < context.now",
    "event.nosuchfield == 1",
    "event.data.customer.email.endsWith('.com')",
    "event.data.customer.name == 'x'",
    "has(event.data.customer.email) && !has(event.data.customer.phone)",
    "event.data.items[0].sku == 'a'",
    "event.data.amount.missing == 1",
    "size(event.data.customer) == 1",
    "context.counters.x == 1",
    "context.now > event.time && context.age > duration('0s')",
]
DATA = {"amount": 12, "items": [{"sku": "a"}], "customer": {"email": "a@b.com"}}


def _outcome(source: str, variables: dict[str, object]) -> object:
    try:
        return compile_expression(source).run(activation(variables))
    except Exception as exc:  # the comparison is on what happens, values or error types
        return type(exc).__name__


@pytest.mark.parametrize("source", EXPRESSIONS)
def test_a_pruned_event_gives_what_the_whole_event_gives(source: str) -> None:
    ev = event(data=DATA)
    context = {"now": T0 + dt.timedelta(seconds=1), "age": dt.timedelta(seconds=1), "counters": {}}
    whole = _outcome(source, {"event": cel_event(ev), "context": context})
    pruned = _outcome(source, {"event": cel_event(ev, needs_of(source)), "context": context})
    assert pruned == whole


def test_merged_needs_cover_every_expression() -> None:
    needs = Needs()
    for source in EXPRESSIONS[:3]:
        needs = needs.merge(needs_of(source))
    assert needs == Needs((("data", (("amount", W), ("missing", W))), ("tenant", W)), E)
    assert not needs.counters
    assert needs.merge(needs_of("size(event.data) > 0")).event == (("data", W), ("tenant", W))
    assert needs.merge(needs_of("context.counters.x > 0")).counters


class Colour(enum.Enum):
    RED = "RED"


def test_to_cel_converts_avro_values_deterministically() -> None:
    value = {
        "d": decimal.Decimal("1.50"),
        "u": uuid.UUID(int=1),
        "day": dt.date(2024, 5, 1),
        "naive": dt.datetime(2024, 5, 1, 9),
        "e": Colour.RED,
        "t": (1, 2),
        "s": frozenset({"b", "a"}),
        "nested": {1: [b"x", None]},
    }
    assert to_cel(value) == {
        "d": 1.5,
        "u": "00000000-0000-0000-0000-000000000001",
        "day": "2024-05-01",
        "naive": dt.datetime(2024, 5, 1, 9, tzinfo=dt.UTC),
        "e": "RED",
        "t": [1, 2],
        "s": ["a", "b"],
        "nested": {"1": [b"x", None]},
    }
    assert compile_expression("event.data.u.startsWith('0000')").run(
        activation({"event": {"data": to_cel(value)}})
    )


def test_expression_error_carries_position_and_caret() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("event.tenant ==\n  (1 +")
    err = caught.value
    assert (err.line, err.column) == (2, 7)
    assert err.detail.endswith("|   (1 +\n| ......^")
    assert str(err).startswith("2:7: ")


def test_unknown_variable_position_skips_string_literals() -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression("'user' == event.tenant && user == 'x'")
    assert (caught.value.line, caught.value.column) == (1, 27)
