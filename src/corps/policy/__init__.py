"""Policies: pure, deterministic filters the gate applies between proposed and admitted topics.

Typical use (the gate)::

    engine = PolicyEngine(PolicyStore(kafka.client_config()).latest("support"), state=restored)
    decision = engine.decide(event, now=record_time)       # per proposed event; engine.state: counters
    engine.switch(decode_record(key, value, partition=0, offset=offset))  # a newer version arrives

or, without the holder, ``compiled = compile_policy_set(...)`` once per set version and
``decision, state = evaluate(compiled, event, state, now)`` per event.

``evaluate`` is pure: the same set, event, state and time give the same decision, so replay can
re-evaluate a recorded decision under the recorded set version. ``event`` is anything with an
``envelope`` and decoded ``data`` (:class:`EventLike`). Human approvals are tracked by the pure functions
of :mod:`corps.policy.approvals`; Kafka ACLs are derived from a topology by
:func:`corps.policy.acl.plan_acls`; offline tests live in :mod:`corps.policy.offline`.
"""

from corps.policy.compiled import CompiledPolicySet, PolicyExpressionError, compile_policy_set
from corps.policy.decision import ApprovalRequirement, Charge, Decision, Effect, Outcome, PolicyHit
from corps.policy.engine import PolicyEngine, Switch, policy_refs, set_ref
from corps.policy.errors import PolicyError, PolicyStoreError
from corps.policy.evaluate import evaluate
from corps.policy.expressions import ExpressionError
from corps.policy.from_topology import load_topology_policies
from corps.policy.inputs import EventLike, ProposedEvent
from corps.policy.loader import LoadedPolicies, load_policy_files
from corps.policy.models import Policy, PolicyFile
from corps.policy.policy_set import PolicySet, SetVersion
from corps.policy.state import PolicyState
from corps.policy.store import PolicyHistory, PolicyStore, PublishedPolicySet, decode_record

__all__ = [
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
