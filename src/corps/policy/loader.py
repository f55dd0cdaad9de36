"""Read policy files into a :class:`~corps.policy.PolicySet`; every problem names file, line and key.

All files of a set are read and every problem is reported at once: YAML syntax, unknown or mistyped
keys, a policy with no or two effects, ids used twice, files naming different sets or disagreeing on
set options, and CEL that does not compile (with its position in the file where it can be computed
exactly: single-line scalars and ``|`` blocks; otherwise the key's line and the position inside the
expression).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from corps.policy.errors import PolicyError
from corps.policy.expressions import ExpressionError, compile_expression
from corps.policy.models import PolicyFile
from corps.policy.policy_set import PolicySet
from corps.topology import Diagnostic, Location, Severity, TopologyError
from corps.topology.source import SourceMap, load_yaml

__all__ = ["LoadedPolicies", "load_policy_files", "parse_policy_file"]


@dataclass(frozen=True)
class LoadedPolicies:
    """A policy set read from files, with where each policy was defined.

    Attributes:
        policy_set: The set (number 0: not published).
        origins: Policy id -> the location of its ``id`` key.
    """

    policy_set: PolicySet
    origins: dict[str, Location]


@dataclass(frozen=True)
class _Parsed:
    file: PolicyFile
    source: SourceMap
    text: str


def _diag(code: str, message: str, location: Location) -> Diagnostic:
    return Diagnostic(severity=Severity.ERROR, code=code, message=message, location=location)


def _shape_errors(exc: ValidationError, source: SourceMap) -> list[Diagnostic]:
    found = []
    for error in exc.errors(include_url=False):
        path = tuple(part for part in error["loc"] if part != "[key]")
        kind = error["type"]
        message = error["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            code, message = (
                "unknown-key",
                "not a known key here (the format is in topology/policies/README.md)",
            )
        elif kind == "missing":
            code, message = "missing-key", f"required key {path[-1]!r} is missing"
        else:
            code = "invalid-value"
            if "input" in error and not isinstance(error["input"], dict | list):
                message = f"{message} (got {error['input']!r})"
        # pydantic names the model class inside a union; drop those parts that are not keys of the file.
        keys = tuple(p for p in path if isinstance(p, int) or p[:1].islower() or p == "set")
        found.append(_diag(code, message, source.locate(keys)))
    return found


def parse_policy_file(text: str, file: Path) -> tuple[PolicyFile, SourceMap]:
    """Parse one policy file's YAML text (``file`` only names locations); CEL is checked apart.

    Raises:
        PolicyError: invalid YAML or a value of the wrong shape.
    """
    try:
        data, source = load_yaml(text, file)
    except TopologyError as exc:
        raise PolicyError(exc.diagnostics) from exc
    if not isinstance(data, dict):
        raise PolicyError(
            [_diag("invalid-value", "a policy file is a mapping (set:, policies:)", source.locate(()))]
        )
    try:
        return PolicyFile.model_validate(data), source
    except ValidationError as exc:
        raise PolicyError(_shape_errors(exc, source)) from exc


def _value_location(parsed: _Parsed, path: tuple[str | int, ...], error: ExpressionError) -> Location:
    """Where in the file the CEL error sits, exactly when the scalar's layout allows it."""
    key_location = parsed.source.locate(path)
    node: Any = yaml.compose(parsed.text, Loader=yaml.SafeLoader)
    for part in path:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part]
        else:
            node = None
        if node is None:
            return key_location
    if not isinstance(node, yaml.ScalarNode):
        return key_location
    mark = node.start_mark
    if node.style in (None, '"', "'") and error.line == 1 and "\n" not in node.value:
        quote = 1 if node.style else 0
        line, column = mark.line + 1, mark.column + 1 + quote + error.column - 1
    elif node.style == "|":
        lines = parsed.text.splitlines()
        first = next((ln for ln in lines[mark.line + 1 :] if ln.strip()), "")
        indent = len(first) - len(first.lstrip(" "))
        line, column = mark.line + 1 + error.line, indent + error.column
    else:
        return key_location
    return Location(file=parsed.source.file, line=line, column=column, key=key_location.key)


def _cel_errors(parsed: _Parsed) -> list[Diagnostic]:
    found = []
    for index, policy in enumerate(parsed.file.policies):
        sources: list[tuple[tuple[str | int, ...], str | None]] = [
            (("policies", index, "condition"), policy.condition)
        ]
        if policy.budget is not None:
            sources.append((("policies", index, "budget", "amount"), policy.budget.amount))
        for path, expression in sources:
            if expression is None:
                continue
            try:
                compile_expression(expression)
            except ExpressionError as exc:
                message = (
                    f"invalid CEL at {exc.line}:{exc.column} of the expression: {exc.message}\n{exc.detail}"
                )
                found.append(_diag("invalid-cel", message, _value_location(parsed, path, exc)))
    return found


def _agree(parsed: Sequence[_Parsed], option: str, found: list[Diagnostic]) -> Any:
    given = [(p, getattr(p.file, option)) for p in parsed if getattr(p.file, option) is not None]
    if len({value for _, value in given}) > 1:
        first_p, first_v = given[0]
        for p, value in given[1:]:
            if value != first_v:
                message = f"{option} {value.value} disagrees with {first_v.value} in {first_p.source.file}"
                found.append(_diag("set-conflict", message, p.source.locate((option,))))
    return given[0][1] if given else None


def load_policy_files(paths: Iterable[Path]) -> LoadedPolicies:
    """Read policy files into one set, checking every CEL expression.

    Raises:
        PolicyError: any file is unreadable or invalid, or the files do not form one set; every
            problem of every file is reported.
    """
    found: list[Diagnostic] = []
    parsed: list[_Parsed] = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            why = f"cannot read the file: {exc.strerror or exc}"
            found.append(_diag("unreadable", why, SourceMap(file=path).locate(())))
            continue
        try:
            policy_file, source = parse_policy_file(text, path)
        except PolicyError as exc:
            found.extend(exc.diagnostics)
            continue
        parsed.append(_Parsed(policy_file, source, text))
        found.extend(_cel_errors(parsed[-1]))
    if not parsed and not found:
        raise PolicyError([_diag("no-files", "no policy files given", SourceMap(file=Path()).locate(()))])
    names = {p.file.set for p in parsed}
    if len(names) > 1:
        first = parsed[0]
        for p in parsed[1:]:
            if p.file.set != first.file.set:
                message = f"set {p.file.set!r} differs from {first.file.set!r} in {first.source.file}"
                found.append(_diag("set-conflict", message, p.source.locate(("set",))))
    default_effect = _agree(parsed, "default_effect", found)
    on_error = _agree(parsed, "on_error", found)
    origins: dict[str, Location] = {}
    for p in parsed:
        for index, policy in enumerate(p.file.policies):
            where = p.source.locate(("policies", index, "id"))
            if policy.id in origins:
                message = f"policy id {policy.id!r} is already used at {origins[policy.id]}"
                found.append(_diag("duplicate-id", message, where))
            else:
                origins[policy.id] = where
    if found:
        raise PolicyError(found)
    options: dict[str, Any] = {}
    if default_effect is not None:
        options["default_effect"] = default_effect
    if on_error is not None:
        options["on_error"] = on_error
    policies = tuple(policy for p in parsed for policy in p.file.policies)
    policy_set = PolicySet(name=parsed[0].file.set, policies=policies, **options)
    return LoadedPolicies(policy_set=policy_set, origins=origins)
