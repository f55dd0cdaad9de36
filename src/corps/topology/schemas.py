"""The schemas a topology names: found in ``schemas/`` through the events package, and their subjects.

Lookups and reader/writer compatibility go through :mod:`corps.events` (its catalog and its wrapper of
Avro's own compatibility checker), so ``corps schemas check`` and ``corps topology validate`` apply the
same rules. :func:`schema_subjects` is the one place that says which registry subject each schema is
registered under for a topology's topics.
"""

from __future__ import annotations

from pathlib import Path

from corps.events.catalog import CatalogSubject, SchemaCatalog
from corps.events.compatibility import check_pair
from corps.events.errors import SchemaCatalogError
from corps.events.subjects import topic_name_strategy, topic_record_name_strategy
from corps.topology.models import Topology
from corps.topology.naming import Stage, decision_topic, lifecycle_topic, topic_name

__all__ = ["DECISION_EVENT", "LIFECYCLE_NAMESPACE", "TopologySchemas", "schema_subjects"]

LIFECYCLE_NAMESPACE = "corps.lifecycle"
DECISION_EVENT = "corps.lifecycle.PolicyDecision"


class TopologySchemas:
    """The ``schemas/`` catalog as the topology validator needs it; a broken catalog is a finding."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.problem: str | None = None
        self.catalog: SchemaCatalog | None = None
        try:
            self.catalog = SchemaCatalog.load(root)
        except SchemaCatalogError as exc:
            self.problem = str(exc)

    def versions(self, fullname: str) -> list[int]:
        """The versions of ``fullname`` on disk (empty when unknown or the catalog is broken)."""
        if self.catalog is None or fullname not in self.catalog:
            return []
        return [ref.version for ref in self.catalog[fullname].versions]

    def has(self, fullname: str, version: int) -> bool:
        """True when ``schemas/<fullname>/v<version>.avsc`` exists and is valid."""
        return version in self.versions(fullname)

    def incompatibility(self, fullname: str, reader: int, writer: int) -> str | None:
        """Why version ``reader`` cannot decode data written with ``writer`` (``None`` if it can)."""
        if self.catalog is None:
            return None
        subject = self.catalog[fullname]
        problems = check_pair(subject.version(reader).schema, subject.version(writer).schema)
        if not problems:
            return None
        return "; ".join(f"at {path}: {kind.replace('_', ' ')}" for kind, path, _loc, _msg in problems)


def schema_subjects(topology: Topology, catalog: SchemaCatalog) -> list[tuple[str, CatalogSubject]]:
    """Every ``(registry subject, catalog subject)`` pair ``apply`` registers for ``topology``.

    Domain events: ``<topic>-value`` for their admitted and their proposed topic (TopicNameStrategy).
    The lifecycle topics carry several record types: ``<topic>-<fullname>`` (TopicRecordNameStrategy)
    for each ``corps.lifecycle`` schema. The decision log: ``<topic>-value`` of the decision record.

    Raises:
        SchemaCatalogError: the topology names a schema the catalog does not have.
    """
    pairs: list[tuple[str, CatalogSubject]] = []
    name = topology.workflow.name
    for event in topology.events:
        subject = catalog.subject(topology.schema_fullname(event))
        for stage in (Stage.ADMITTED, Stage.PROPOSED):
            topic = topic_name(name, event, stage)
            pairs.append((topology.events[event].subject or topic_name_strategy(topic, event), subject))
    lifecycle = sorted(
        fullname
        for fullname in catalog
        if fullname.startswith(f"{LIFECYCLE_NAMESPACE}.") and fullname != DECISION_EVENT
    )
    for stage in (Stage.ADMITTED, Stage.PROPOSED):
        topic = lifecycle_topic(name, stage)
        pairs.extend(
            (topic_record_name_strategy(topic, fullname), catalog[fullname]) for fullname in lifecycle
        )
    if DECISION_EVENT in catalog:
        pairs.append((topic_name_strategy(decision_topic(name), DECISION_EVENT), catalog[DECISION_EVENT]))
    return pairs
