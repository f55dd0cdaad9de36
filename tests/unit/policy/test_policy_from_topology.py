"""A topology's policy set: its files plus its approval steps."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from policy_helpers import REPO, decide, event

from corps.policy import Effect, PolicyError, compile_policy_set, load_topology_policies
from corps.topology import parse_topology

# the demo topology without its own policy files (each test names the files it wants)
SUPPORT = re.sub(r"\npolicies:\n(?:  - .*\n)+", "\n", (REPO / "topology" / "support.yaml").read_text())
APPROVAL = "    approval: {approvers: [lead, cfo], quorum: 2, timeout: 2h, on_timeout: escalate}\n"


def topology(tmp_path: Path, policies: str = "", approval: bool = True):
    text = SUPPORT
    if approval:
        text = text.replace(
            "    compensation: RefundReversed\n", "    compensation: RefundReversed\n" + APPROVAL
        )
    if policies:
        text += f"\npolicies: [{policies}]\n"
    file = tmp_path / "support.yaml"
    file.write_text(text)
    return parse_topology(text, file)


def test_approval_steps_become_policies(tmp_path: Path) -> None:
    loaded = load_topology_policies(topology(tmp_path))
    ps = loaded.policy_set
    assert ps.name == "support"
    (policy,) = ps.policies
    assert policy.id == "step-approval.refund"
    assert policy.require_approval is not None
    assert policy.require_approval.quorum == 2
    assert policy.match.events == ("RefundIssued",)
    assert policy.match.sources == ("refunds",)
    assert loaded.origins["step-approval.refund"].key.startswith("steps.refund.approval")
    decision, _ = decide(compile_policy_set(ps), event("RefundIssued", source="refunds"))
    assert decision.effect is Effect.REQUIRE_APPROVAL
    assert decision.approvals[0].approvers == ("lead", "cfo")


def test_policy_files_are_read_relative_to_the_topology(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    (tmp_path / "policies" / "p.yaml").write_text(
        "set: mine\npolicies: [{id: d, version: 1, deny: {reason: x}}]\n"
    )
    ps = load_topology_policies(topology(tmp_path, "policies/p.yaml")).policy_set
    assert ps.name == "mine"
    assert [p.id for p in ps.policies] == ["d", "step-approval.refund"]


def test_reserved_ids_collide(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "set: s\npolicies: [{id: step-approval.refund, version: 1, allow: {}}]\n"
    )
    with pytest.raises(PolicyError, match="reserved"):
        load_topology_policies(topology(tmp_path, "p.yaml"))


def test_no_files_and_no_approvals_is_an_empty_set(tmp_path: Path) -> None:
    ps = load_topology_policies(topology(tmp_path, approval=False)).policy_set
    assert ps.policies == ()
    assert ps.name == "support"
