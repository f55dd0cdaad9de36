"""The public surface of corps.orchestrator is pinned: changing it is a deliberate act."""

from __future__ import annotations

import ast
from pathlib import Path

import corps.orchestrator


def test_orchestrator_exports_are_pinned() -> None:
    assert sorted(corps.orchestrator.__all__) == [
        "AllowAll",
        "COMPENSATION_TIMER",
        "ChainHead",
        "ClearDeadline",
        "Command",
        "CompensateWorkflow",
        "CompensationCompletedObserved",
        "CompensationFailedObserved",
        "CompleteWorkflow",
        "DeadlineTick",
        "Decision",
        "DomainEventObserved",
        "FailWorkflow",
        "GateContext",
        "IgnoreReason",
        "Link",
        "Observation",
        "OrchestratorService",
        "OrchestratorSettings",
        "Policy",
        "ProposedEvent",
        "RecordIgnored",
        "ReportStepTimeout",
        "RequestCompensation",
        "SagaMachine",
        "SetDeadline",
        "StartWorkflow",
        "Status",
        "StepFailedObserved",
        "Transition",
        "WorkflowRecord",
        "WorkflowState",
        "canonical_event",
        "command_event_id",
        "event_digest",
        "link_hash",
        "step_timer",
    ]
    for name in corps.orchestrator.__all__:
        assert hasattr(corps.orchestrator, name), name


def test_the_saga_modules_import_nothing_that_does_io() -> None:
    allowed = {
        "__future__",
        "dataclasses",
        "datetime",
        "enum",
        "hashlib",
        "typing",
        "uuid",
        "pydantic",
        "corps.topology",
    }
    for path in Path(corps.orchestrator.__file__).parent.glob("saga*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            for name in names:
                assert name in allowed or name.startswith("corps.orchestrator.saga"), (path.name, name)
            if isinstance(node, ast.Attribute):
                assert node.attr not in {"now", "utcnow", "today", "monotonic", "random"}, (
                    path.name,
                    node.attr,
                )
