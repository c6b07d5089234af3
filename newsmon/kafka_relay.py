"""A TCP relay in front of the embedded tansu broker: fetches answered as soon as data is stored, and
Debian's kcat able to read the topics.

Fetch waits. tansu does not answer a waiting Fetch when a message arrives: it looks at its
partitions at the start, then after half the wait that is left, and so on, the last 250 ms in
one sleep (``tansu-broker/src/broker/fetch.rs``). A consumer therefore either waits up to its
whole ``fetch_max_wait`` for each new message, or polls the broker, and every poll costs CPU in
the consumer, the broker and here while the news is quiet. The relay sees every Produce of the
stack, so it holds a Fetch itself instead: a Fetch that asks for the same partitions at the same
offsets as the connection's previous Fetches, with nothing stored in them since, waits here
(costing nothing) until a Produce to one of them is acknowledged, another request follows on its
connection, or its ``max_wait_ms`` passes; then it goes to tansu with a short wait
(``RELEASED_WAIT_MS``), which tansu answers as soon as it has read what is stored. A store
elsewhere does not let it go: in a burst, every store of every stage
would otherwise send every consumer's Fetch to tansu and back empty, about two round trips per
article for each consumer. A Produce whose partitions do not parse counts for every partition, and
a Fetch that names its topics by id (v13 and later, which no Produce does) waits for any store.
tansu acknowledges a Produce a moment before a Fetch can read it, so a Fetch answered empty just
after a store is asked once more when that store is ``STORE_SETTLE_S`` old: before, a message could
wait in the broker for a consumer's whole ``fetch_max_wait`` (5 s then) now and then. Under load tansu
can take longer than that, and a Fetch held then waited its whole ``fetch_max_wait`` for records
already stored (one in 20 bursts of the throughput benchmark with two ner instances, logged by a
probe of the relay). So the relay also reads each Produce's record counts and its reply's base
offsets, and never holds a Fetch below the end a store gave its partition in the last
``STORED_END_FRESH_S``. A consumer may then wait long on an empty fetch, as it would with Apache
Kafka, and still see a new message within a few milliseconds of its storage. Nor is a Fetch held that
leaves out a partition its connection asked for in the last ``RECENTLY_ASKED_S``: aiokafka leaves out a
partition whose fetched records wait to be consumed, and asks for it again only when its Fetch in flight
returns, so holding that Fetch would keep the consumer from the partition it has just drained.

kcat. librdkafka before 2.1 (Debian bookworm's kcat ships 2.0.2) skips tagged fields wrongly
when a field is longer than one byte, and tansu's ApiVersions v3 reply ends with four such
optional fields. The relay drops those trailing tagged fields from that one reply.

Every other frame passes through unchanged. Production runs Apache Kafka, which needs no relay.
Run as ``python -m newsmon.kafka_relay LISTEN_PORT UPSTREAM_PORT``.
"""

from __future__ import annotations

import asyncio
import struct
import sys
from dataclasses import dataclass
from typing import Any

from newsmon.kafka_frames import (
    API_VERSIONS,
    FETCH,
    FIRST_FLEXIBLE,
    PRODUCE,
    FetchRequest,
    fetch_request,
    produce_offsets,
    produce_request,
    read_uvarint,
    request_header,
    skip_tagged_fields,
    with_fetch_wait,
    without_trailing_tags,
)

__all__ = ["RELEASED_WAIT_MS", "StoredSignal", "read_uvarint", "serve", "skip_tagged_fields", "without_trailing_tags"]

_HOST = "127.0.0.1"
# The wait a Fetch asks of tansu once the relay lets it go. tansu reads a partition only within the
# Fetch's wait: at 1 ms it answered about 40 of 1,100 stored records, and on a stack that had taken a few
# thousand records none, on every Fetch, so a consumer's partition stopped for good (3 of 3 stacks, at the
# fourth burst of 1,000 wire items). At 20 ms and more it answers all, as soon as it has read them (16-30 ms
# for 1,100); with nothing stored it waits this long, which happens only when the relay lets a Fetch go
# without a store to its partitions.
RELEASED_WAIT_MS = 100
_REWRITE = 1  # a noted request whose reply is rewritten
# tansu acknowledges a Produce a moment before a Fetch can read it: a Fetch it answered empty just after
# a store may have missed that store. So a repeated Fetch is held past this age of the last store only
# once it has been asked again after it (held until then at most), never on a store it may not have seen.
STORE_SETTLE_S = 0.25
# How long the end offset a Produce reply gave a partition is trusted. A Fetch below it is never held (the
# records are there, whatever tansu last answered); older ends may belong to a broker that restarted since
# (its memory storage starts again at offset 0), and an old store is no longer one tansu may not have shown.
STORED_END_FRESH_S = 30.0
# A Fetch that leaves out a partition its connection asked for this recently is never held. aiokafka leaves a
# partition out while records it fetched for it wait to be consumed, and asks for it again only once its
# Fetch in flight returns: held, that Fetch kept a consumer from the rest of a drained partition until a store
# to another partition or the end of its wait (at a 25 s wait, 7 of 24 bursts of the throughput benchmark with
# two ner instances took 10-20 s longer, each with one held Fetch of one partition running its whole wait;
# with this rule, none of 24). A partition left out for longer (revoked) lets the connection's Fetches be
# held again after this.
RECENTLY_ASKED_S = 10.0


Partition = tuple[bytes, int]  # (topic name, partition)


class StoredSignal:
    """Counts acknowledged Produce requests, in all and per partition; a held Fetch waits for a store to one
    of its partitions."""

    def __init__(self) -> None:
        self.count = 0
        self._anywhere = (0, float("-inf"))  # (count, time) of the last store whose partitions are not known
        self._partitions: dict[Partition, tuple[int, float]] = {}  # (count, time) of each one's last store
        self._ends: dict[Partition, tuple[int, float]] = {}  # (offset after its last record, time) when known
        self._next: asyncio.Future[None] | None = None

    def stored(self, partitions: tuple[Partition, ...] | None, ends: dict[Partition, int] | None = None) -> None:
        """Something was stored (in ``partitions``, or anywhere when they are not known), up to ``ends`` where
        the reply told: the Fetches held for those partitions may go."""
        self.count += 1
        now = asyncio.get_running_loop().time()
        stamp = (self.count, now)
        if partitions is None:
            self._anywhere = stamp
        for partition in partitions or ():
            self._partitions[partition] = stamp
        for partition, end in (ends or {}).items():
            self._ends[partition] = (end, now)  # the latest, not the largest: a restarted broker starts at 0
        if self._next is not None:
            self._next.set_result(None)
            self._next = None

    def last(self, partition: Partition | None) -> tuple[int, float]:
        """(count, time) of the last store that may have reached ``partition``; None: of the last store at all
        (a Fetch that names its topics by id, which Produce requests never do)."""
        if partition is None:
            return self.count, max([self._anywhere[1], *(at for _, at in self._partitions.values())])
        return max(self._anywhere, self._partitions.get(partition, (0, float("-inf"))))

    def stored_past(self, partition: Partition, offset: int) -> bool:
        """Whether a store in the last ``STORED_END_FRESH_S`` put records in ``partition`` at ``offset`` or after."""
        end, at = self._ends.get(partition, (0, float("-inf")))
        return offset < end and asyncio.get_running_loop().time() - at < STORED_END_FRESH_S

    def next_store(self) -> asyncio.Future[None]:
        """A future done at the next ``stored``; shared by every waiter, so never cancel it."""
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
        return self._next


@dataclass(frozen=True)
class _Stored:
    """A Produce whose reply means its partitions were stored, and how many records went to each."""

    partitions: tuple[Partition, ...] | None
    counts: dict[Partition, int]
    api_version: int

    def ends(self, reply: bytes) -> dict[Partition, int]:
        """The offset after the last record stored in each partition, from the reply's base offsets."""
        offsets = produce_offsets(reply, self.api_version) or {}
        return {partition: offsets[partition] + count for partition, count in self.counts.items()
                if partition in offsets}


class _Connection:
    """One client's connection: what the replies it waits for mean, and what its Fetches last asked for."""

    def __init__(self, signal: StoredSignal) -> None:
        self.signal = signal
        self.noted: dict[int, int | _Stored] = {}
        # (topic, partition) -> (fetch offset, count of the last store to it) when a Fetch last asked for it
        self.asked: dict[Partition, tuple[int, int]] = {}
        self.asked_at: dict[Partition, float] = {}  # when a Fetch last asked for each partition

    def nothing_new(self, fetch: FetchRequest) -> bool:
        """True when each partition was asked for at the same offset since the last store to it: tansu would
        answer empty. An advanced offset (data came back) or a moved one (a seek) is asked at once, and so is
        one a recent store's reply puts below the partition's end: tansu answered it empty, but too early."""
        return bool(fetch.positions) and all(
            self.asked.get((topic, partition)) == (offset, self._last_count(fetch, (topic, partition)))
            and (fetch.topic_ids or not self.signal.stored_past((topic, partition), offset))
            for topic, partition, offset in fetch.positions) and not self._leaves_out_a_recent_partition(fetch)

    def _leaves_out_a_recent_partition(self, fetch: FetchRequest) -> bool:
        asked = {(topic, partition) for topic, partition, _ in fetch.positions}
        recent_from = asyncio.get_running_loop().time() - RECENTLY_ASKED_S
        return any(at > recent_from and partition not in asked for partition, at in self.asked_at.items())

    def _last_count(self, fetch: FetchRequest, partition: Partition) -> int:
        return self.signal.last(None if fetch.topic_ids else partition)[0]

    def _last_store_at(self, fetch: FetchRequest) -> float:
        if fetch.topic_ids:
            return self.signal.last(None)[1]
        return max(self.signal.last((topic, partition))[1] for topic, partition, _ in fetch.positions)

    async def release_fetch(self, frame: bytes, api_version: int,
                            client: asyncio.StreamReader) -> tuple[bytes, asyncio.Future[bytes | None] | None]:
        """The Fetch to send on, after holding it while nothing new is stored for it; and the client's next
        frame if it came meanwhile (which lets the Fetch go: nothing waits behind a held Fetch)."""
        fetch = fetch_request(frame, api_version)
        if fetch is None:
            return frame, None
        following: asyncio.Future[bytes | None] | None = None
        if fetch.wait_ms > RELEASED_WAIT_MS and self.nothing_new(fetch):
            loop = asyncio.get_running_loop()
            following = asyncio.ensure_future(_read_frame(client))
            settled_in = self._last_store_at(fetch) + STORE_SETTLE_S - loop.time()
            until = loop.time() + (fetch.wait_ms / 1000 if settled_in <= 0 else min(fetch.wait_ms / 1000, settled_in))
            # A store to other partitions wakes the wait; it goes on while nothing new is stored for this Fetch.
            while not following.done() and self.nothing_new(fetch) and (left := until - loop.time()) > 0:
                waits: list[asyncio.Future[Any]] = [following, self.signal.next_store()]
                await asyncio.wait(waits, timeout=left, return_when=asyncio.FIRST_COMPLETED)
        now = asyncio.get_running_loop().time()
        for topic, partition, offset in fetch.positions:
            self.asked[(topic, partition)] = (offset, self._last_count(fetch, (topic, partition)))
            self.asked_at[(topic, partition)] = now
        return with_fetch_wait(frame, fetch.wait_position, RELEASED_WAIT_MS), following

    def note(self, frame: bytes) -> None:
        """Remember what the reply to this request will mean; a Produce without replies counts at once."""
        api_key, api_version, correlation_id = request_header(frame)
        if api_key == API_VERSIONS and api_version >= FIRST_FLEXIBLE[API_VERSIONS]:
            self.noted[correlation_id] = _REWRITE
        elif api_key == PRODUCE:
            produce = produce_request(frame, api_version)
            partitions = None if produce is None else produce.partitions
            if produce is not None and produce.acks == 0:
                self.signal.stored(partitions)
            else:
                self.noted[correlation_id] = _Stored(partitions, produce.counts if produce else {}, api_version)


async def _read_frame(reader: asyncio.StreamReader) -> bytes | None:
    """One size-prefixed Kafka frame without its size, or None when the peer closed."""
    try:
        size = struct.unpack(">i", await reader.readexactly(4))[0]
        return await reader.readexactly(size)
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


async def _requests(client: asyncio.StreamReader, broker: asyncio.StreamWriter, connection: _Connection) -> None:
    """Client to broker: hold Fetches while nothing new is stored, note the replies to look at."""
    following: asyncio.Future[bytes | None] | None = None
    while (frame := await (following if following is not None else _read_frame(client))) is not None:
        following = None
        api_key, api_version, _ = request_header(frame)
        if api_key == FETCH:
            frame, following = await connection.release_fetch(frame, api_version, client)
        else:
            connection.note(frame)
        broker.write(struct.pack(">i", len(frame)) + frame)
        await broker.drain()


async def _responses(broker: asyncio.StreamReader, client: asyncio.StreamWriter, connection: _Connection) -> None:
    """Broker to client: rewrite the ApiVersions replies, signal stored Produces, pass everything on."""
    while (frame := await _read_frame(broker)) is not None:
        noted = connection.noted.pop(struct.unpack_from(">i", frame)[0], None) if connection.noted else None
        if noted == _REWRITE:
            frame = frame[:4] + without_trailing_tags(frame[4:])
        elif isinstance(noted, _Stored):
            connection.signal.stored(noted.partitions, noted.ends(frame))
        client.write(struct.pack(">i", len(frame)) + frame)
        await client.drain()


async def _relay(upstream_port: int, signal: StoredSignal, client_reader: asyncio.StreamReader,
                 client_writer: asyncio.StreamWriter) -> None:
    try:
        broker_reader, broker_writer = await asyncio.open_connection(_HOST, upstream_port)
    except OSError:
        client_writer.close()
        return
    connection = _Connection(signal)
    directions = [asyncio.create_task(_requests(client_reader, broker_writer, connection)),
                  asyncio.create_task(_responses(broker_reader, client_writer, connection))]
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
    signal = StoredSignal()
    server = await asyncio.start_server(lambda r, w: _relay(upstream_port, signal, r, w), _HOST, listen_port)
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
