"""Create planned ACLs on the cluster with the AdminClient (``corps acl apply``).

Existing bindings are read first (``describe_acls``) so a second apply creates nothing; bindings the
plan does not contain are reported, never deleted. A broker without an authorizer answers
SECURITY_DISABLED, reported as such.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import (  # type: ignore[attr-defined]  # exported at run time, not in the stubs
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
)
from confluent_kafka.admin import ResourceType as KafkaResourceType  # type: ignore[attr-defined]

from corps.policy.acl import AclEntry, Operation, PatternType, ResourceType
from corps.policy.errors import PolicyStoreError

__all__ = ["AclApplyResult", "AclError", "apply_acls", "to_binding"]

_RESOURCES = {
    ResourceType.TOPIC: KafkaResourceType.TOPIC,
    ResourceType.GROUP: KafkaResourceType.GROUP,
    ResourceType.TRANSACTIONAL_ID: KafkaResourceType.TRANSACTIONAL_ID,
}
_PATTERNS = {
    PatternType.LITERAL: ResourcePatternType.LITERAL,
    PatternType.PREFIXED: ResourcePatternType.PREFIXED,
}
_OPERATIONS = {
    Operation.READ: AclOperation.READ,
    Operation.WRITE: AclOperation.WRITE,
    Operation.CREATE: AclOperation.CREATE,
}


class AclError(PolicyStoreError):
    """The cluster refused to list or create ACLs (no authorizer, not authorised, unreachable)."""


@dataclass(frozen=True)
class AclApplyResult:
    """What :func:`apply_acls` did.

    Attributes:
        created: Bindings created now.
        present: Planned bindings that already existed.
        unplanned: Bindings on the cluster for the plan's principals that the plan does not contain.
    """

    created: tuple[AclEntry, ...]
    present: tuple[AclEntry, ...]
    unplanned: tuple[str, ...]


def to_binding(entry: AclEntry) -> AclBinding:
    """The confluent-kafka ALLOW binding of ``entry`` (any host)."""
    return AclBinding(
        _RESOURCES[entry.resource_type],
        entry.name,
        _PATTERNS[entry.pattern],
        entry.principal,
        "*",
        _OPERATIONS[entry.operation],
        AclPermissionType.ALLOW,
    )


def _key(binding: AclBinding) -> tuple[str, str, str, str, str, str, str]:
    return (
        str(binding.restype),
        binding.name,
        str(binding.resource_pattern_type),
        binding.principal,
        binding.host,
        str(binding.operation),
        str(binding.permission_type),
    )


def _fail(action: str, exc: KafkaException) -> AclError:
    error = exc.args[0] if exc.args else None
    if isinstance(error, KafkaError) and error.code() == KafkaError.SECURITY_DISABLED:
        return AclError(
            f"cannot {action}: the broker has no authorizer (SECURITY_DISABLED); run it in secure mode "
            "(StandardAuthorizer + SASL, see corps.policy.acl)"
        )
    return AclError(f"cannot {action}: {exc}")


def _existing(admin: AdminClient, timeout: float) -> list[AclBinding]:
    # None matches any name, principal and host (the stubs type them as str).
    anything = AclBindingFilter(
        KafkaResourceType.ANY,
        None,  # type: ignore[arg-type]
        ResourcePatternType.ANY,
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    try:
        found: list[AclBinding] = admin.describe_acls(anything, request_timeout=timeout).result(
            timeout=timeout
        )
    except KafkaException as exc:
        raise _fail("list ACLs", exc) from exc
    return found


def apply_acls(
    config: dict[str, str],
    entries: Sequence[AclEntry],
    *,
    scope_prefix: str = "",
    timeout_s: float = 30.0,
) -> AclApplyResult:
    """Create the bindings of ``entries`` that the cluster does not have yet, and wait until it lists them.

    Args:
        config: librdkafka configuration of an admin principal (a super user in secure mode).
        entries: The plan (:func:`corps.policy.acl.plan_acls`).
        scope_prefix: Report unplanned bindings of the plan's principals only on resources whose name
            starts with this (``"<workflow>."``: stale grants of this topology, not other workflows').
        timeout_s: Timeout of each request, and of the wait for the new bindings to be listed.

    Raises:
        AclError: The cluster cannot list or create ACLs, or does not list the new ones in time.
    """
    admin = AdminClient(dict(config))
    existing = _existing(admin, timeout_s)
    have = {_key(b) for b in existing}
    missing = [e for e in entries if _key(to_binding(e)) not in have]
    present = [e for e in entries if _key(to_binding(e)) in have]
    if missing:
        futures = admin.create_acls([to_binding(e) for e in missing], request_timeout=timeout_s)
        for future in futures.values():
            try:
                future.result(timeout=timeout_s)
            except KafkaException as exc:
                raise _fail("create ACLs", exc) from exc
        _wait_listed(admin, {_key(to_binding(e)) for e in missing}, timeout_s)
    planned = {_key(to_binding(e)) for e in entries}
    principals = {e.principal for e in entries}
    unplanned = sorted(
        _describe(b)
        for b in existing
        if b.principal in principals and _key(b) not in planned and b.name.startswith(scope_prefix)
    )
    return AclApplyResult(created=tuple(missing), present=tuple(present), unplanned=tuple(unplanned))


def _wait_listed(admin: AdminClient, keys: set[tuple[str, ...]], timeout_s: float) -> None:
    """ACLs reach the brokers through the metadata log: wait until they are listed (a re-run: no-op)."""
    deadline = time.monotonic() + timeout_s
    while True:
        listed = {_key(b) for b in _existing(admin, timeout_s)}
        if keys <= listed:
            return
        if time.monotonic() > deadline:
            raise AclError(
                f"{len(keys - listed)} created ACL(s) not listed by the cluster after {timeout_s}s"
            )
        time.sleep(0.2)


def _describe(binding: AclBinding) -> str:
    def name(value: object) -> str:
        return str(getattr(value, "name", value)).lower()

    kind = f"{name(binding.restype)}:{name(binding.resource_pattern_type)}:{binding.name}"
    return f"{binding.principal} {name(binding.operation)} {kind}"
