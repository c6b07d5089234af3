"""The few fields of Kafka protocol frames the broker relay reads or rewrites, as pure functions on bytes.

A frame here is one request or response without its 4-byte size prefix. Only what the relay needs
is parsed: a request's header, a Fetch request's ``max_wait_ms`` and the partitions and offsets it
asks for, a Produce request's ``acks``, the partitions it writes to and how many records to each, the
offsets a Produce reply gives them, and the trailing tagged fields of an ApiVersions reply. Every function
returns None (or its input unchanged) for bytes it cannot parse, so the relay then passes the
frame on as the client sent it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

PRODUCE, FETCH, API_VERSIONS = 0, 1, 18
# The first version of each API whose request header carries tagged fields (KIP-482).
FIRST_FLEXIBLE = {PRODUCE: 9, FETCH: 12, API_VERSIONS: 3}
# Fetch v15 dropped replica_id, the field before max_wait_ms.
FETCH_WITHOUT_REPLICA_ID = 15


def read_uvarint(data: bytes, position: int) -> tuple[int, int]:
    """An unsigned varint at ``position``: (value, position after it)."""
    value = shift = 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def skip_tagged_fields(data: bytes, position: int) -> int:
    """Position after a tagged-field section (count, then tag, size and bytes of each)."""
    count, position = read_uvarint(data, position)
    for _ in range(count):
        _tag, position = read_uvarint(data, position)
        size, position = read_uvarint(data, position)
        position += size
    return position


def request_header(frame: bytes) -> tuple[int, int, int]:
    """(api_key, api_version, correlation_id) of a request."""
    api_key, api_version, correlation_id = struct.unpack_from(">hhi", frame)
    return api_key, api_version, correlation_id


def _body_start(frame: bytes, api_key: int, api_version: int) -> int:
    """Where a request's body starts: after the client id, and the tagged fields of a flexible header."""
    client_id_size: int = struct.unpack_from(">h", frame, 8)[0]
    position = 10 + max(client_id_size, 0)
    if api_version >= FIRST_FLEXIBLE.get(api_key, 1 << 15):
        position = skip_tagged_fields(frame, position)
    return position


@dataclass(frozen=True)
class FetchRequest:
    """What the relay reads of a Fetch request: where its ``max_wait_ms`` is, and what it asks for."""

    wait_position: int
    wait_ms: int
    # (topic name or id, partition, fetch offset) of every partition asked for
    positions: tuple[tuple[bytes, int, int], ...]
    topic_ids: bool = False  # v13 and later name topics by id, never by the name a Produce uses


class _Reader:
    """Reads the fields of a request body in order; a short or malformed body raises IndexError/struct.error."""

    def __init__(self, frame: bytes, position: int, flexible: bool) -> None:
        self.frame, self.position, self.flexible = frame, position, flexible

    def fixed(self, fmt: str) -> int:
        value: int = struct.unpack_from(fmt, self.frame, self.position)[0]
        self.position += struct.calcsize(fmt)
        return value

    def skip(self, size: int) -> None:
        self.position += size
        if self.position > len(self.frame):
            raise IndexError("field past the end of the frame")

    def count(self) -> int:
        """An array's length: int32, or for a flexible version a varint of length + 1."""
        if self.flexible:
            size, self.position = read_uvarint(self.frame, self.position)
            return size - 1
        return self.fixed(">i")

    def string(self) -> bytes:
        return self._sized(">h")

    def data(self) -> bytes:
        """A bytes field (a Produce's records): int32 length, or for a flexible version a varint of length + 1."""
        return self._sized(">i")

    def _sized(self, length_format: str) -> bytes:
        if self.flexible:
            size, self.position = read_uvarint(self.frame, self.position)
            size -= 1
        else:
            size = self.fixed(length_format)
        start = self.position
        self.position += max(size, 0)
        if self.position > len(self.frame):
            raise IndexError("string past the end of the frame")
        return self.frame[start:self.position]

    def tags(self) -> None:
        if self.flexible:
            self.position = skip_tagged_fields(self.frame, self.position)


def fetch_request(frame: bytes, api_version: int) -> FetchRequest | None:
    """The wait and the partitions of a Fetch request (v0 to v16), or None if it does not parse."""
    try:
        body = _Reader(frame, _body_start(frame, FETCH, api_version), api_version >= FIRST_FLEXIBLE[FETCH])
        if api_version < FETCH_WITHOUT_REPLICA_ID:
            body.skip(4)  # replica_id
        wait_position = body.position
        wait_ms = body.fixed(">i")
        body.skip(4 + (4 if api_version >= 3 else 0) + (1 if api_version >= 4 else 0)
                  + (8 if api_version >= 7 else 0))  # min_bytes, max_bytes, isolation_level, session
        positions = []
        for _ in range(body.count()):
            topic = body.string() if api_version < 13 else body.frame[body.position:body.position + 16]
            if api_version >= 13:
                body.skip(16)
            for _ in range(body.count()):
                partition = body.fixed(">i")
                if api_version >= 9:
                    body.skip(4)  # current_leader_epoch
                offset = body.fixed(">q")
                body.skip((4 if api_version >= 12 else 0) + (8 if api_version >= 5 else 0) + 4)
                body.tags()
                positions.append((topic, partition, offset))
            body.tags()
    except (IndexError, struct.error):
        return None
    return FetchRequest(wait_position, wait_ms, tuple(positions), topic_ids=api_version >= 13)


def with_fetch_wait(frame: bytes, position: int, wait_ms: int) -> bytes:
    """The Fetch request with ``max_wait_ms`` (at ``position``, from ``fetch_wait_position``) replaced."""
    return frame[:position] + struct.pack(">i", wait_ms) + frame[position + 4:]


@dataclass(frozen=True)
class ProduceRequest:
    """What the relay reads of a Produce request: whether a reply comes, and where it stores."""

    acks: int  # 0: the client expects no reply
    # (topic name, partition) of every partition written to; None when the body past ``acks`` does not parse
    partitions: tuple[tuple[bytes, int], ...] | None
    # how many records go to each partition whose records are v2 batches (what every current client sends)
    counts: dict[tuple[bytes, int], int] = field(default_factory=dict)


def produce_request(frame: bytes, api_version: int) -> ProduceRequest | None:
    """A Produce request's ``acks`` and partitions (v0 to v11), or None if not even ``acks`` parses."""
    flexible = api_version >= FIRST_FLEXIBLE[PRODUCE]
    try:
        body = _Reader(frame, _body_start(frame, PRODUCE, api_version), flexible)
        if api_version >= 3:
            body.string()  # transactional_id
        acks = body.fixed(">h")
    except (IndexError, struct.error):
        return None
    try:
        body.skip(4)  # timeout_ms
        partitions = []
        counts = {}
        for _ in range(body.count()):
            topic = body.string()
            for _ in range(body.count()):
                partition = (topic, body.fixed(">i"))
                partitions.append(partition)
                if (count := record_count(body.data())) is not None:
                    counts[partition] = count
                body.tags()
            body.tags()
    except (IndexError, struct.error):
        return ProduceRequest(acks, None)
    return ProduceRequest(acks, tuple(partitions), counts)


# A v2 record batch: base offset, length (of the rest), leader epoch, magic, crc, attributes, last offset delta.
_BATCH_LENGTH_AT, _MAGIC_AT, _LAST_OFFSET_DELTA_AT, _BATCH_HEADER = 8, 16, 23, 61


def record_count(records: bytes) -> int | None:
    """How many records the v2 batches in ``records`` hold; None for older message sets or cut bytes."""
    total = position = 0
    while position < len(records):
        if len(records) - position < _BATCH_HEADER or records[position + _MAGIC_AT] != 2:
            return None
        total += struct.unpack_from(">i", records, position + _LAST_OFFSET_DELTA_AT)[0] + 1
        position += 12 + struct.unpack_from(">i", records, position + _BATCH_LENGTH_AT)[0]
    return total if position == len(records) else None


def produce_offsets(frame: bytes, api_version: int) -> dict[tuple[bytes, int], int] | None:
    """The base offset a Produce reply (v0 to v11, after its size) gives each partition it stored, or None for a
    reply that does not parse to its last byte.

    Layout per partition: index int32, error int16, base offset int64, then (v2+) log append time int64,
    (v5+) log start offset int64, (v8+) record errors and an error message; partitions with an error are left out.
    """
    flexible = api_version >= FIRST_FLEXIBLE[PRODUCE]
    try:
        body = _Reader(frame, 4, flexible)
        body.tags()  # a flexible reply's header
        offsets = {}
        for _ in range(body.count()):
            topic = body.string()
            for _ in range(body.count()):
                partition, error, base_offset = body.fixed(">i"), body.fixed(">h"), body.fixed(">q")
                body.skip((8 if api_version >= 2 else 0) + (8 if api_version >= 5 else 0))
                if api_version >= 8:
                    for _ in range(body.count()):
                        body.skip(4)  # batch index
                        body.string()  # its error message
                        body.tags()
                    body.string()  # error message
                body.tags()
                if error == 0:
                    offsets[(topic, partition)] = base_offset
            body.tags()
        if api_version >= 1:
            body.skip(4)  # throttle time
        body.tags()
    except (IndexError, struct.error):
        return None
    return offsets if body.position == len(frame) else None


def without_trailing_tags(body: bytes) -> bytes:
    """An ApiVersions v3+ response body (after the correlation id) with no top-level tagged fields.

    Layout: error_code int16, compact array of (api_key, min, max int16 + tags), throttle int32, tags.
    A body that does not parse is returned unchanged: the client then sees what the broker sent.
    """
    try:
        entries, position = read_uvarint(body, 2)
        for _ in range(entries - 1):
            position = skip_tagged_fields(body, position + 6)
        position += 4
        if skip_tagged_fields(body, position) != len(body):
            return body
    except IndexError:
        return body
    return body[:position] + b"\x00"
