"""A small, valid topology and a schemas/ tree for the topology tests (files only, no broker)."""

from __future__ import annotations

import json
from pathlib import Path

VALID = """\
workflow: {name: shop, version: 1}
namespace: t.shop
topics:
  partitions: 4
  replication: 1
  retention: 7d
agents:
  payments: {reads: {Ordered: 1}}
  shipping: {}
  courier: {}
events:
  Ordered: {}
  Paid: {}
  Refunded: {}
  Shipped: {}
  Delivered: {}
start: [Ordered]
complete: [Delivered]
steps:
  pay:
    agent: payments
    on: Ordered
    emits: [Paid]
    compensation: Refunded
  ship:
    agent: shipping
    on: Paid
    emits: [Shipped]
    irreversible: true
  deliver:
    agent: courier
    on: Shipped
    emits: [Delivered]
    side_effects: false
"""


def _record(name: str, fields: list[dict[str, object]]) -> dict[str, object]:
    return {"type": "record", "name": name, "namespace": "t.shop", "fields": fields}


def write_schemas(root: Path) -> Path:
    """schemas/ for VALID: every event at v1; Ordered also at v2, which its v1 readers cannot decode."""
    plain = [{"name": "order_id", "type": "string"}]
    for event in ("Ordered", "Paid", "Refunded", "Shipped", "Delivered"):
        folder = root / f"t.shop.{event}"
        folder.mkdir(parents=True)
        fields = [*plain, {"name": "amount", "type": "long"}] if event == "Ordered" else plain
        (folder / "v1.avsc").write_text(json.dumps(_record(event, fields)))
    # v2 drops `amount`: new readers read old data (BACKWARD holds), old readers cannot read new data.
    (root / "t.shop.Ordered" / "v2.avsc").write_text(json.dumps(_record("Ordered", plain)))
    return root
