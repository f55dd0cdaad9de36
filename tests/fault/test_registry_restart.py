"""Registry storage survives a restart: no schema, version or id is lost."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient

from corps.dev import LocalStack

pytestmark = [pytest.mark.integration, pytest.mark.fault]

V1 = {
    "type": "record",
    "name": "Payment",
    "namespace": "corps.test",
    "fields": [{"name": "id", "type": "string"}],
}
V2 = {**V1, "fields": [*V1["fields"], {"name": "note", "type": ["null", "string"], "default": None}]}


@pytest.mark.parametrize("hard", [False, True], ids=["sigterm", "sigkill"])
def test_schemas_survive_registry_restart(
    local_stack: LocalStack, registry_url: str, unique: Callable[[str], str], hard: bool
) -> None:
    subject = f"{unique('payments')}-value"
    with SchemaRegistryClient({"url": registry_url}) as before:
        id1 = before.register_schema(subject, Schema(json.dumps(V1), "AVRO"))
        id2 = before.register_schema(subject, Schema(json.dumps(V2), "AVRO"))

    info = local_stack.restart_registry(hard=hard)
    assert info.schema_registry_url == registry_url

    with SchemaRegistryClient({"url": registry_url}) as after:  # a fresh client: nothing cached
        assert after.get_versions(subject) == [1, 2]
        assert after.get_version(subject, 1).schema_id == id1
        assert after.get_version(subject, 2).schema_id == id2
        assert json.loads(after.get_schema(id1).schema_str) == V1
        assert json.loads(after.get_schema(id2).schema_str) == V2
        assert after.get_compatibility() == "BACKWARD"
