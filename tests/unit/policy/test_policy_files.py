"""Loading policy files: shapes, set agreement, duplicate ids, CEL refused with its position."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from policy_helpers import REPO, policy_set

from corps.policy import PolicyError, load_policy_files
from corps.policy.models import DefaultEffect, OnError


def errors(tmp_path: Path, *bodies: str) -> list[str]:
    files = []
    for n, body in enumerate(bodies):
        file = tmp_path / f"p{n}.yaml"
        file.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
        files.append(file)
    with pytest.raises(PolicyError) as caught:
        load_policy_files(files)
    return [
        f"{d.location.file.name}:{d.location.line}:{d.location.column} {d.code} {d.location.key}: {d.message}"
        for d in caught.value.diagnostics
    ]


def test_the_demo_policies_load() -> None:
    loaded = load_policy_files([REPO / "topology" / "policies" / "support.yaml"])
    ps = loaded.policy_set
    assert ps.name == "support"
    assert ps.default_effect is DefaultEffect.ALLOW
    assert ps.on_error is OnError.DENY
    effects = {p.effect_key for p in ps.policies}
    assert effects == {"deny", "redact", "require_approval", "budget", "throttle", "expire"}
    assert [p.id for p in ps.policies] == sorted(p.id for p in ps.policies)
    assert loaded.origins["spam-tickets"].line > 1


def test_syntax_error_in_a_single_line_condition_points_into_the_file(tmp_path: Path) -> None:
    found = errors(tmp_path, """
        set: t
        policies:
          - id: p
            version: 1
            condition: event.data.amount >
            deny: {reason: x}
        """)  # fmt: skip
    assert len(found) == 1
    # the CEL error is at column 20 of the expression; the expression starts at column 16 of line 5
    assert found[0].startswith("p0.yaml:5:35 invalid-cel policies[0].condition: invalid CEL at 1:20")
    assert "Syntax error" in found[0]
    assert "| event.data.amount >" in found[0]


def test_quoted_conditions_count_the_quote(tmp_path: Path) -> None:
    found = errors(tmp_path, """
        set: t
        policies:
          - {id: p, version: 1, condition: "a && (b", deny: {reason: x}}
        """)  # fmt: skip
    # the expression starts at column 37 (after the quote); the error is at its column 8
    assert found[0].startswith("p0.yaml:3:44 invalid-cel")


def test_syntax_error_in_a_block_condition_points_at_its_line(tmp_path: Path) -> None:
    found = errors(tmp_path, """
        set: t
        policies:
          - id: p
            version: 1
            condition: |
              event.tenant == 'acme' &&
                event.data.x +* 2 > 1
            deny: {reason: x}
        """)  # fmt: skip
    # block indented by 6: line 2 of the expression is line 7 of the file, column 6 + 17
    assert found[0].startswith("p0.yaml:7:23 invalid-cel policies[0].condition: invalid CEL at 2:17")


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ("request.user == 'x'", "unknown variable 'request'"),
        ("lowerAscii(event.tenant) == 'x'", "unknown function 'lowerAscii'"),
        ("now() > event.time", "unknown function 'now'"),
        ("event.tenant.trim() == 'x'", "unknown function 'trim'"),
    ],
)
def test_unknown_names_are_refused_at_load_time(tmp_path: Path, condition: str, message: str) -> None:
    found = errors(tmp_path, f"""
        set: t
        policies:
          - {{id: p, version: 1, condition: "{condition}", deny: {{reason: x}}}}
        """)  # fmt: skip
    assert message in found[0], found


def test_budget_amount_is_checked_too(tmp_path: Path) -> None:
    found = errors(tmp_path, """
        set: t
        policies:
          - id: b
            version: 1
            budget: {amount: "event.data.tokens *", limit: 10}
        """)  # fmt: skip
    assert "p0.yaml:5:42 invalid-cel policies[0].budget.amount: invalid CEL at 1:20" in found[0]


def test_macros_and_type_names_are_accepted(tmp_path: Path) -> None:
    ps = policy_set(tmp_path, """
        set: t
        policies:
          - id: p
            version: 1
            condition: >-
              event.data.items.exists(i, i.price > 10) && event.data.items.all(x, type(x) == map)
              && event.data.items.map(i, i.price).size() > 0
              && event.data.items.filter(i, has(i.sku)).size() > 0
              && int(event.data.n) == 1 && double(1) == 1.0 && string(event.data.n).startsWith('1')
            deny: {reason: x}
        """)  # fmt: skip
    assert ps.policies[0].condition is not None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("set: t\npolicies:\n  - {id: p, version: 1}\n",
         "p0.yaml:3:5 invalid-value policies[0]: a policy has exactly one effect"),
        ("set: t\npolicies:\n  - {id: p, version: 1, allow: {}, deny: {reason: x}}\n",
         "(found: allow, deny)"),
        ("set: t\npolicies:\n  - {id: p, version: 1, alow: {}}\n",
         "p0.yaml:3:25 unknown-key policies[0].alow"),
        ("set: t\npolicies:\n  - {id: P!, version: 1, allow: {}}\n", "invalid-value policies[0].id"),
        ("set: t\npolicies:\n  - {id: p, allow: {}}\n",
         "missing-key policies[0].version: required key 'version'"),
        ("policies: []\n", "p0.yaml:1:1 missing-key set: required key 'set'"),
        ("set: t\npolicies:\n  - {id: p, version: 1, require_approval: {approvers: [a], quorum: 2}}\n",
         "quorum 2 exceeds the 1 approvers named"),
        ("set: t\npolicies:\n  - {id: p, version: 1, throttle: {rate: 0}}\n", "policies[0].throttle.rate"),
        ("set: t\npolicies:\n  - {id: p, version: 1, expire: {max_age: soon}}\n", "not a duration"),
        ("set: t\npolicies:\n  - {id: p, version: 1, redact: {fields: ['a..b']}}\n",
         "policies[0].redact.fields[0]"),
        ("set: t\npolicies:\n  - {id: p, version: 1, require_approval: {approvers: [a], escalate_to: [b]}}\n",
         "escalate_to needs on_timeout: escalate"),
        ("set: t\ndefault_effect: maybe\n", "p0.yaml:2:1 invalid-value default_effect"),
        ("set: t\npolicies: [\n", "yaml-syntax"),
        ("- just a list\n", "a policy file is a mapping"),
    ],
)  # fmt: skip
def test_shape_errors_name_line_and_key(tmp_path: Path, body: str, expected: str) -> None:
    found = errors(tmp_path, body)
    assert any(expected in line for line in found), found


def test_files_of_one_set_must_agree(tmp_path: Path) -> None:
    found = errors(
        tmp_path,
        "set: a\ndefault_effect: deny\npolicies: [{id: x, version: 1, allow: {}}]\n",
        "set: b\ndefault_effect: allow\npolicies: [{id: x, version: 1, allow: {}}]\n",
    )
    assert any("p1.yaml:1:1 set-conflict set: set 'b' differs from 'a'" in f for f in found), found
    assert any("p1.yaml:2:1 set-conflict default_effect" in f for f in found), found
    assert any(
        "p1.yaml:3:13 duplicate-id policies[0].id: policy id 'x' is already used at" in f for f in found
    )


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    found = errors(
        tmp_path,
        "set: a\npolicies: [{id: x, version: 1, condition: 'a +', allow: {}}]\n",
        "set: a\npolicies: [{id: y, version: 0, allow: {}}]\n",
        "set: a\npolicies: [{id: z, version: 1, condition: 'b(', allow: {}}]\n",
    )
    assert [f.split(" ")[0].split(":")[0] for f in found] == ["p0.yaml", "p1.yaml", "p2.yaml"]


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError) as caught:
        load_policy_files([tmp_path / "missing.yaml"])
    assert caught.value.diagnostics[0].code == "unreadable"


def test_options_given_once_apply_to_the_set(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("set: s\non_error: skip\npolicies: [{id: a, version: 1, allow: {}}]\n")
    (tmp_path / "b.yaml").write_text("set: s\npolicies: [{id: b, version: 1, allow: {}}]\n")
    ps = load_policy_files([tmp_path / "b.yaml", tmp_path / "a.yaml"]).policy_set
    assert ps.on_error is OnError.SKIP
    assert ps.default_effect is DefaultEffect.ALLOW
    assert [p.id for p in ps.policies] == ["a", "b"]
