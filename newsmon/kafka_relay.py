"""A TCP relay in front of the embedded tansu broker, so that Debian's kcat can read its topics.

Why: librdkafka before 2.1 (Debian bookworm's kcat ships 2.0.2) skips tagged fields wrongly when a
field is longer than one byte, and tansu's ApiVersions v3 reply ends with four such optional fields
(SupportedFeatures, FinalizedFeaturesEpoch, FinalizedFeatures, ZkMigrationReady). The relay drops
those trailing tagged fields from that one reply; every other frame passes through unchanged.
Production runs Apache Kafka, which needs no relay.

Run as ``python -m newsmon.kafka_relay LISTEN_PORT UPSTREAM_PORT``.
"""

from __future__ import annotations

import asyncio
import struct
import sys

API_VERSIONS = 18
FIRST_FLEXIBLE_API_VERSIONS = 3
_HOST = "127.0.0.1"


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


async def _read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """One size-prefixed Kafka frame without its size, or None when the peer closed."""
    try:
        size = struct.unpack(">i", await reader.readexactly(4))[0]
        return await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


async def _requests(client: asyncio.StreamReader, broker: asyncio.StreamWriter, pending: set[int]) -> None:
    """Client to broker: note the correlation ids of flexible ApiVersions requests."""
    while (frame := await _read_frame(client)) is not None:
        api_key, api_version, correlation_id = struct.unpack_from(">hhi", frame)
        if api_key == API_VERSIONS and api_version >= FIRST_FLEXIBLE_API_VERSIONS:
            pending.add(correlation_id)
        broker.write(struct.pack(">i", len(frame)) + frame)
        await broker.drain()


async def _responses(broker: asyncio.StreamReader, client: asyncio.StreamWriter, pending: set[int]) -> None:
    """Broker to client: rewrite the ApiVersions replies, pass everything else on."""
    while (frame := await _read_frame(broker)) is not None:
        correlation_id = struct.unpack_from(">i", frame)[0]
        if correlation_id in pending:
            pending.discard(correlation_id)
            frame = frame[:4] + without_trailing_tags(frame[4:])
        client.write(struct.pack(">i", len(frame)) + frame)
        await client.drain()


async def _relay(upstream_port: int, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
    try:
        broker_reader, broker_writer = await asyncio.open_connection(_HOST, upstream_port)
    except OSError:
        client_writer.close()
        return
    pending: set[int] = set()
    directions = [asyncio.create_task(_requests(client_reader, broker_writer, pending)),
                  asyncio.create_task(_responses(broker_reader, client_writer, pending))]
    try:
        await asyncio.wait(directions, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in directions:
            task.cancel()
        await asyncio.gather(*directions, return_exceptions=True)
        for writer in (broker_writer, client_writer):
            writer.close()


async def serve(listen_port: int, upstream_port: int) -> None:
    """Accept clients on ``listen_port`` and relay each to the broker on ``upstream_port``, forever."""
    server = await asyncio.start_server(lambda r, w: _relay(upstream_port, r, w), _HOST, listen_port)
    async with server:
        await server.serve_forever()


def main() -> None:
    listen_port, upstream_port = (int(argument) for argument in sys.argv[1:3])
    try:
        asyncio.run(serve(listen_port, upstream_port))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
