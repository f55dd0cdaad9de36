"""The seam between the runtime and the Kafka client library that moves records.

Everything above this package (SDK, processor, registry, telemetry) is engine-independent: an engine
consumes raw records, hands them to a :class:`~corps.runtime.processor.Processor`, produces what it
returns and commits the input offsets. :class:`KafkaEngine` does this on confluent-kafka (librdkafka),
chosen over faust-streaming by measurement (``docs/runtime.md``): a faust raw relay reached 4 % of
a bare librdkafka relay on the same broker, far below the 60 % goal for a whole agent hop.
"""

from corps.runtime.engine.base import Engine
from corps.runtime.engine.kafka import KafkaEngine

__all__ = ["Engine", "KafkaEngine"]
