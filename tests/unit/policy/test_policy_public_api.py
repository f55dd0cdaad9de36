"""The public surface of corps.policy is pinned: changing it is a deliberate act."""

from __future__ import annotations

import corps.policy


def test_policy_exports_are_pinned() -> None:
    assert sorted(corps.policy.__all__) == [
        "ApprovalRequirement",
        "Charge",
        "CompiledPolicySet",
        "Decision",
        "Effect",
        "EventLike",
        "ExpressionError",
        "LoadedPolicies",
        "Outcome",
        "Policy",
        "PolicyEngine",
        "PolicyError",
        "PolicyExpressionError",
        "PolicyFile",
        "PolicyHistory",
        "PolicyHit",
        "PolicySet",
        "PolicyState",
        "PolicyStore",
        "PolicyStoreError",
        "ProposedEvent",
        "PublishedPolicySet",
        "SetVersion",
        "Switch",
        "compile_policy_set",
        "decode_record",
        "evaluate",
        "load_policy_files",
        "load_topology_policies",
        "policy_refs",
        "set_ref",
    ]
    for name in corps.policy.__all__:
        assert hasattr(corps.policy, name), name
