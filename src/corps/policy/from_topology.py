"""The policy set of a topology: its policy files plus one require_approval policy per approval step.

A step's ``approval:`` in the topology (approvers, quorum, timeout, on_timeout) says its output needs a
human sign-off; the gate enforces that like any other policy, so it becomes a policy of the set with id
``step-approval.<step>`` matching the step's emitted events from the step's agent. The set's name is the
one its files give, else the workflow's name.
"""

from __future__ import annotations

from pathlib import Path

from corps.policy.errors import PolicyError
from corps.policy.loader import LoadedPolicies, load_policy_files
from corps.policy.models import Match, Policy, RequireApproval
from corps.policy.policy_set import PolicySet
from corps.policy.redact_check import check_redactions, schema_versions
from corps.topology import Diagnostic, LoadedTopology, Severity

__all__ = ["approval_policies", "check_topology_policies", "load_topology_policies"]

APPROVAL_PREFIX = "step-approval."


def approval_policies(loaded: LoadedTopology) -> tuple[Policy, ...]:
    """One require_approval policy per step of the topology that declares an ``approval``."""
    topology = loaded.topology
    policies = []
    for name, step in sorted(topology.steps.items()):
        if step.approval is None:
            continue
        policies.append(
            Policy(
                id=f"{APPROVAL_PREFIX}{name}",
                version=topology.workflow.version,
                description=f"step {name} of {topology.workflow.name} needs a human sign-off",
                match=Match(events=step.emits, sources=(step.agent,)),
                require_approval=RequireApproval(
                    approvers=step.approval.approvers,
                    quorum=step.approval.quorum,
                    timeout=step.approval.timeout,
                    on_timeout=step.approval.on_timeout,
                    reason=f"approve the output of step {name}",
                ),
            )
        )
    return tuple(policies)


def load_topology_policies(loaded: LoadedTopology) -> LoadedPolicies:
    """Load the policy files a topology names (relative to it) and add its approval steps.

    Raises:
        PolicyError: a policy file is invalid, or a policy id collides with a step-approval id.
    """
    base = loaded.path.parent
    files = [base / Path(p) for p in loaded.topology.policies]
    extra = approval_policies(loaded)
    if files:
        from_files = load_policy_files(files)
        clash = [p.id for p in extra if p.id in from_files.origins]
        if clash:
            where = from_files.origins[clash[0]]
            message = f"policy id {clash[0]!r} is reserved for the topology's approval step"
            raise PolicyError(
                [Diagnostic(severity=Severity.ERROR, code="duplicate-id", message=message, location=where)]
            )
        base_set = from_files.policy_set
        origins = dict(from_files.origins)
    else:
        base_set = PolicySet(name=loaded.topology.workflow.name)
        origins = {}
    for policy in extra:
        step = policy.id.removeprefix(APPROVAL_PREFIX)
        origins[policy.id] = loaded.source.locate(("steps", step, "approval"))
    merged = base_set.model_copy(
        update={"policies": tuple(sorted((*base_set.policies, *extra), key=lambda p: p.id))}
    )
    return LoadedPolicies(policy_set=merged, origins=origins)


def check_topology_policies(loaded: LoadedTopology, schemas: Path) -> list[Diagnostic]:
    """What ``corps topology validate`` adds about a topology's policies (the policy layer's checks).

    Invalid policy files or CEL, and redactions the events' schemas (in ``schemas``) could not
    re-encode. Missing files are left out (the topology validator reports those).
    """
    try:
        policies = load_topology_policies(loaded)
    except PolicyError as exc:
        return [d for d in exc.diagnostics if d.code != "unreadable"]
    versions = schema_versions(schemas, loaded.topology)
    if versions is None:
        return []
    return check_redactions(policies.policy_set, policies.origins, versions)
