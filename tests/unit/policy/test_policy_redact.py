"""Redaction: masked or removed paths, wildcards, copy-on-write, combined with other effects."""

from __future__ import annotations

from pathlib import Path

from policy_helpers import compiled, decide, event

from corps.policy import Effect
from corps.policy.redact import redact

DATA = {
    "ticket_id": "T-1",
    "customer": {"customer_id": "c-1", "name": "Ann", "email": "ann@example.com"},
    "items": [{"sku": "a", "card": "4111"}, {"sku": "b", "card": "5500"}],
    "notes": {"first": "x", "second": "y"},
    "score": 7,
}


def test_mask_replaces_strings_and_reports_paths() -> None:
    out, done = redact(DATA, ["customer.email"], mode="mask", mask_text="***")
    assert out["customer"] == {"customer_id": "c-1", "name": "Ann", "email": "***"}
    assert done == ("customer.email",)


def test_mask_nulls_non_strings() -> None:
    out, done = redact(DATA, ["score", "customer"], mode="mask", mask_text="***")
    assert out["score"] is None
    assert out["customer"] is None
    assert done == ("score", "customer")


def test_remove_deletes_keys() -> None:
    out, done = redact(DATA, ["customer.email", "score"], mode="remove", mask_text="")
    assert "email" not in out["customer"]
    assert "score" not in out
    assert done == ("customer.email", "score")


def test_wildcards_cover_list_items_and_map_values() -> None:
    out, done = redact(DATA, ["items.*.card", "notes.*"], mode="mask", mask_text="#")
    assert [i["card"] for i in out["items"]] == ["#", "#"]
    assert [i["sku"] for i in out["items"]] == ["a", "b"]
    assert out["notes"] == {"first": "#", "second": "#"}
    assert done == ("items[0].card", "items[1].card", "notes.first", "notes.second")


def test_removing_list_items_masks_them_instead() -> None:
    out, _ = redact({"tags": ["a", "b"]}, ["tags.*"], mode="remove", mask_text="#")
    assert out["tags"] == ["#", "#"]  # removing would shift the other items' positions


def test_absent_paths_are_skipped() -> None:
    out, done = redact(DATA, ["customer.phone", "nothing.here", "score.deeper"], mode="mask", mask_text="*")
    assert out == DATA
    assert done == ()


def test_the_input_is_never_modified() -> None:
    before = repr(DATA)
    out, _ = redact(DATA, ["customer.email", "items.*.card"], mode="remove", mask_text="")
    assert repr(DATA) == before
    assert out["items"] is not DATA["items"]
    assert out["customer"] is not DATA["customer"]
    assert out["notes"] is DATA["notes"]  # untouched branches are shared, not copied


REDACT = """
set: t
policies:
  - id: hide-email
    version: 2
    match: {events: [TicketOpened]}
    redact: {fields: [customer.email], reason: e-mail hidden}
  - id: hide-cards
    version: 1
    condition: "event.tenant == 'acme'"
    redact: {fields: ['items.*.card'], mode: remove}
"""


def test_redact_effect_carries_the_redacted_data(tmp_path: Path) -> None:
    decision, _ = decide(compiled(tmp_path, REDACT), event(data=DATA))
    assert decision.effect is Effect.REDACT
    assert decision.admitted
    assert decision.data is not None
    assert decision.data["customer"]["email"] == "[redacted]"
    assert all("card" not in item for item in decision.data["items"])
    assert decision.redacted_fields == ("items[0].card", "items[1].card", "customer.email")
    assert decision.reason == "hide-cards: fields redacted by policy"


def test_redaction_only_where_its_condition_holds(tmp_path: Path) -> None:
    decision, _ = decide(compiled(tmp_path, REDACT), event(data=DATA, tenant="globex"))
    assert decision.redacted_fields == ("customer.email",)


def test_redaction_applies_to_an_event_parked_for_approval(tmp_path: Path) -> None:
    body = (
        REDACT
        + """
  - id: needs-ok
    version: 1
    require_approval: {approvers: [lead]}
"""
    )
    decision, _ = decide(compiled(tmp_path, body), event(data=DATA))
    assert decision.effect is Effect.REQUIRE_APPROVAL
    assert not decision.admitted
    assert decision.data is not None
    assert decision.data["customer"]["email"] == "[redacted]"


def test_a_denied_event_carries_no_redacted_copy(tmp_path: Path) -> None:
    body = (
        REDACT
        + """
  - {id: no, version: 1, deny: {reason: no}}
"""
    )
    decision, _ = decide(compiled(tmp_path, body), event(data=DATA))
    assert decision.effect is Effect.DENY
    assert decision.data is None
    assert decision.redacted_fields == ()


def test_redaction_implies_admission_under_default_deny(tmp_path: Path) -> None:
    body = REDACT.replace("set: t\n", "set: t\ndefault_effect: deny\n")
    decision, _ = decide(compiled(tmp_path, body), event(data=DATA))
    assert decision.effect is Effect.REDACT
