"""How large a Kafka message is on the wire, measured the way the producer measures it.

The producer refuses a record whose estimated size passes its ``max_request_size`` (which newsmon
sets to ``NEWSMON_KAFKA_MAX_MESSAGE_BYTES``, Kafka's own ``message.max.bytes`` by default), so a
message checked here is one the producer will take.
"""

from __future__ import annotations

from aiokafka.record.default_records import DefaultRecordBatchBuilder


def record_size(key: bytes | None, value: bytes | None) -> int:
    """Upper bound of the bytes one record takes in its own batch, headers none, as aiokafka estimates it."""
    return int(DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, []))


def fits(key: bytes | None, value: bytes | None, max_bytes: int) -> bool:
    """True when the record is within ``max_bytes``."""
    return record_size(key, value) <= max_bytes
