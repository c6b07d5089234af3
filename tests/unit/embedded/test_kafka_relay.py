"""The relay in front of tansu drops only the trailing tagged fields of ApiVersions v3+ replies, and holds a
Fetch that would find nothing new until something is stored."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator, Callable

import pytest
from aiokafka.protocol.fetch import FetchRequest_v4
from aiokafka.protocol.produce import ProduceRequest_v7, ProduceResponse_v7
from aiokafka.protocol.struct import Struct

from newsmon import kafka_relay
from newsmon.embedded import free_port
from newsmon.kafka_frames import read_uvarint, skip_tagged_fields, without_trailing_tags
from newsmon.kafka_relay import RELEASED_WAIT_MS, STORE_SETTLE_S, serve
from tests.unit.embedded.test_kafka_frames import record_batch

# tansu's ApiVersions v3 reply body, as captured from the broker (after the correlation id).
TANSU_REPLY = bytes.fromhex(
    "00002500020000000900001c000000040000030000000c00003200000000000009000000090000180000000500000e0000000500000b0000000900000c0000000400004b0000000000000a00000006000011000000010000150000000200002e00000000000033000000000000450000000000000d000000050000200000000400003c000000010000000000000b00002a0000000200000f0000000500001a0000000400002400000002000012000000040000100000000500001d0000000300001900000004000013000000070000010000001100001e00000003000047000000000000160000000500002c0000000100000800000009000014000000060000000000040001010108ffffffffffffffff020101030100"
)
TRAILING_TAGS = bytes.fromhex("040001010108ffffffffffffffff020101030100")


def api_entries(body: bytes) -> list[tuple[int, int, int]]:
    count, position = read_uvarint(body, 2)
    entries = []
    for _ in range(count - 1):
        entries.append(struct.unpack_from(">hhh", body, position))
        position = skip_tagged_fields(body, position + 6)
    return entries


def test_the_tansu_reply_loses_its_feature_tags_and_keeps_every_api() -> None:
    rewritten = without_trailing_tags(TANSU_REPLY)

    assert TANSU_REPLY.endswith(TRAILING_TAGS)
    assert rewritten == TANSU_REPLY.removesuffix(TRAILING_TAGS) + b"\x00"
    assert api_entries(rewritten) == api_entries(TANSU_REPLY)
    assert len(api_entries(rewritten)) == 36


def test_a_reply_without_tags_and_an_unparsable_reply_pass_unchanged() -> None:
    plain = TANSU_REPLY.removesuffix(TRAILING_TAGS) + b"\x00"
    assert without_trailing_tags(plain) == plain
    assert without_trailing_tags(b"\x00\x23\x05") == b"\x00\x23\x05"
    assert without_trailing_tags(TANSU_REPLY + b"extra") == TANSU_REPLY + b"extra"


def frame(payload: bytes) -> bytes:
    return struct.pack(">i", len(payload)) + payload


def request(api_key: int, api_version: int, correlation_id: int) -> bytes:
    return frame(struct.pack(">hhih", api_key, api_version, correlation_id, 4) + b"kcat\x00")


async def read_frame(reader: asyncio.StreamReader) -> bytes:
    size = struct.unpack(">i", await reader.readexactly(4))[0]
    return await reader.readexactly(size)


async def test_the_relay_rewrites_api_versions_and_passes_other_frames_untouched() -> None:
    """A stand-in broker answers every request with the tansu reply; only ApiVersions v3 answers change."""

    async def broker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                payload = await read_frame(reader)
                writer.write(frame(payload[4:8] + TANSU_REPLY))
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()
            await writer.wait_closed()
            broker_done.set()

    broker_done = asyncio.Event()
    broker_port, relay_port = free_port(), free_port()
    broker_server = await asyncio.start_server(broker, "127.0.0.1", broker_port)
    relay = asyncio.create_task(serve(relay_port, broker_port))
    try:
        for _ in range(50):
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", relay_port)
                break
            except OSError:
                await asyncio.sleep(0.05)
        writer.write(request(18, 3, 1) + request(18, 0, 2) + request(3, 12, 3))
        await writer.drain()
        replies = [await read_frame(reader) for _ in range(3)]
        writer.close()
        await writer.wait_closed()
        await asyncio.wait_for(broker_done.wait(), 5)  # the relay closed its side too
    finally:
        relay.cancel()
        broker_server.close()
        await broker_server.wait_closed()

    assert replies[0] == struct.pack(">i", 1) + without_trailing_tags(TANSU_REPLY)
    assert replies[1] == struct.pack(">i", 2) + TANSU_REPLY
    assert replies[2] == struct.pack(">i", 3) + TANSU_REPLY


def fetch(correlation_id: int, offset: int, wait_ms: int = 5000) -> bytes:
    return frame(encoded_fetch(correlation_id, offset, wait_ms))


def encoded_fetch(correlation_id: int, offset: int, wait_ms: int, partitions: tuple[int, ...] = (0,)) -> bytes:
    request: Struct = FetchRequest_v4(
        -1, wait_ms, 1, 1 << 20, 0, [("articles.raw", [(partition, offset, 1000) for partition in partitions])])
    return bytes(request.build_request_header(correlation_id, "c").encode() + request.encode())  # type: ignore[attr-defined]


def produce(correlation_id: int, topic: str = "articles.raw", partition: int = 0, records: bytes = b"batch") -> bytes:
    request = ProduceRequest_v7(None, -1, 30000, [(topic, [(partition, records)])])
    return frame(bytes(request.build_request_header(correlation_id, "p").encode() + request.encode()))


class StandInBroker:
    """A broker behind a relay: notes each request (api key, correlation id, Fetch wait or -1) and answers it at
    once with ``reply(api_key)`` after its correlation id."""

    def __init__(self, reply: Callable[[int], bytes]) -> None:
        self.reply = reply
        self.arrived: asyncio.Queue[tuple[int, int, int]] = asyncio.Queue()
        self.relay_port = free_port()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                payload = await read_frame(reader)
                api_key, _, correlation_id = struct.unpack_from(">hhi", payload)
                wait = struct.unpack_from(">i", payload, 8 + 2 + 1 + 4)[0] if api_key == 1 else -1
                self.arrived.put_nowait((api_key, correlation_id, wait))
                writer.write(frame(payload[4:8] + self.reply(api_key)))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def next_arrival(self, within: float) -> tuple[int, int, int] | None:
        try:
            return await asyncio.wait_for(self.arrived.get(), within)
        except TimeoutError:
            return None

    async def client(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """A connection to the relay, once it listens."""
        for _ in range(50):
            try:
                return await asyncio.open_connection("127.0.0.1", self.relay_port)
            except OSError:
                await asyncio.sleep(0.05)
        raise AssertionError("the relay never listened")


@contextlib.asynccontextmanager
async def relayed_broker(reply: Callable[[int], bytes] = lambda api_key: b"\x00\x00") -> AsyncIterator[StandInBroker]:
    """A stand-in broker and a relay in front of it, both stopped on the way out."""
    broker = StandInBroker(reply)
    broker_port = free_port()
    broker_server = await asyncio.start_server(broker.serve, "127.0.0.1", broker_port)
    relay = asyncio.create_task(serve(broker.relay_port, broker_port))
    try:
        yield broker
    finally:
        relay.cancel()
        broker_server.close()
        await broker_server.wait_closed()


async def test_a_fetch_with_nothing_new_waits_in_the_relay_until_something_is_stored() -> None:
    """A stand-in broker answers at once and notes each request; the relay holds a repeated Fetch until
    a Produce to its partition is answered (not one to another partition or topic), lets a Fetch at a
    new offset go at once, asks once more when a store has settled, and lets a held Fetch go when the
    client sends another request behind it."""
    async with relayed_broker() as broker:
        consumer_reader, consumer = await broker.client()
        producer_reader, producer = await broker.client()
        consumer.write(fetch(1, offset=5))
        # The first goes at once, asking tansu for a short wait.
        assert await broker.next_arrival(1) == (1, 1, RELEASED_WAIT_MS)
        consumer.write(fetch(2, offset=5))
        assert await broker.next_arrival(0.5) is None  # same partition, same offset, nothing stored: held
        producer.write(produce(31, topic="alerts"))
        producer.write(produce(32, partition=1))
        assert [await broker.next_arrival(1), await broker.next_arrival(1)] == [(0, 31, -1), (0, 32, -1)]
        assert await broker.next_arrival(0.5) is None  # stored elsewhere: still held
        producer.write(produce(3))
        assert await broker.next_arrival(1) == (0, 3, -1)
        # The Produce to its partition was answered: the Fetch goes.
        assert await broker.next_arrival(1) == (1, 2, RELEASED_WAIT_MS)
        loop = asyncio.get_running_loop()
        stored_at = loop.time()
        consumer.write(fetch(4, offset=6))
        assert await broker.next_arrival(1) == (1, 4, RELEASED_WAIT_MS)  # a new offset goes at once
        # Asked again just after the store: tansu may not have shown it yet, so it goes once the store has settled.
        consumer.write(fetch(5, offset=6))
        assert await broker.next_arrival(1) == (1, 5, RELEASED_WAIT_MS)
        assert STORE_SETTLE_S <= loop.time() - stored_at < STORE_SETTLE_S + 0.5
        consumer.write(fetch(6, offset=6))
        assert await broker.next_arrival(0.5) is None  # asked after the store settled, nothing stored since: held
        consumer.write(request(3, 4, 7))  # a Metadata request behind the held Fetch lets it go, in order
        assert [await broker.next_arrival(1), await broker.next_arrival(1)] == [(1, 6, RELEASED_WAIT_MS), (3, 7, -1)]
        consumer.write(fetch(8, offset=6, wait_ms=300))
        assert await broker.next_arrival(0.15) is None
        assert await broker.next_arrival(1) == (1, 8, RELEASED_WAIT_MS)  # a held Fetch goes when its own wait is over
        replies = [struct.unpack(">i", (await read_frame(consumer_reader))[:4])[0] for _ in range(7)]
        assert replies == [1, 2, 4, 5, 6, 7, 8]
        assert [struct.unpack(">i", (await read_frame(producer_reader))[:4])[0] for _ in range(3)] == [31, 32, 3]
        for writer in (consumer, producer):
            writer.close()


async def test_a_fetch_below_what_a_store_put_in_its_partition_is_never_held() -> None:
    """tansu may answer a Fetch empty although a Produce to its partition was acknowledged: under load, for
    longer than ``STORE_SETTLE_S``. A stand-in broker that stores at offset 5 and answers every Fetch empty:
    the relay, knowing from the Produce's 3 records and its reply's base offset that the partition ends at 8,
    lets every Fetch at 5 go at once, however long after the store; one at 8 (the end) it holds."""
    stored = ProduceResponse_v7([("articles.raw", [(0, 0, 5, -1, 0)])], 0).encode()

    async with relayed_broker(lambda api_key: bytes(stored) if api_key == 0 else b"\x00\x00") as broker:
        consumer_reader, consumer = await broker.client()
        producer_reader, producer = await broker.client()
        producer.write(produce(1, records=record_batch(3)))
        assert await broker.next_arrival(1) == (0, 1, -1)
        await read_frame(producer_reader)  # acknowledged: offsets 5, 6 and 7 are stored
        consumer.write(fetch(2, offset=5))
        assert await broker.next_arrival(1) == (1, 2, RELEASED_WAIT_MS)
        await asyncio.sleep(STORE_SETTLE_S + 0.1)  # past the time a store settles
        for correlation_id in (3, 4):  # answered empty, asked again at 5: goes at once, each time
            consumer.write(fetch(correlation_id, offset=5))
            assert await broker.next_arrival(0.2) == (1, correlation_id, RELEASED_WAIT_MS)
        consumer.write(fetch(5, offset=8))
        assert await broker.next_arrival(1) == (1, 5, RELEASED_WAIT_MS)  # a new offset goes once
        consumer.write(fetch(6, offset=8))
        assert await broker.next_arrival(0.5) is None  # at the end, nothing stored since: held
        assert [struct.unpack(">i", (await read_frame(consumer_reader))[:4])[0] for _ in range(4)] == [2, 3, 4, 5]
        for writer in (consumer, producer):
            writer.close()


async def test_a_fetch_that_leaves_out_a_partition_it_asked_for_just_before_is_never_held() -> None:
    """aiokafka leaves a partition out of its Fetches while records fetched for it wait to be consumed, and
    asks for it again only when its Fetch in flight returns. Held, that Fetch would keep the consumer from the
    partition it just drained; so it goes, and a Fetch for every partition again is held as before."""
    async with relayed_broker() as broker:
        consumer_reader, consumer = await broker.client()
        both, second_only = (0, 1), (1,)
        # Partition 1 at the offset asked before, nothing stored: held, were partition 0 not left out.
        for correlation_id, partitions in ((1, both), (2, second_only), (3, second_only)):
            consumer.write(frame(encoded_fetch(correlation_id, 5, 5000, partitions)))
            assert await broker.next_arrival(0.5) == (1, correlation_id, RELEASED_WAIT_MS)
        consumer.write(frame(encoded_fetch(4, 5, 5000, both)))
        assert await broker.next_arrival(0.5) is None  # every partition, each at the offset asked before: held
        assert [struct.unpack(">i", (await read_frame(consumer_reader))[:4])[0] for _ in range(3)] == [1, 2, 3]
        consumer.close()


async def test_a_stored_end_older_than_its_freshness_no_longer_lets_a_fetch_go(monkeypatch: pytest.MonkeyPatch) -> None:
    """The end a store gave a partition is trusted for ``STORED_END_FRESH_S`` (a broker restarted since starts
    its memory storage at offset 0 again); after that, a Fetch below it with nothing stored since is held."""
    monkeypatch.setattr(kafka_relay, "STORED_END_FRESH_S", STORE_SETTLE_S + 0.3)
    stored = ProduceResponse_v7([("articles.raw", [(0, 0, 5, -1, 0)])], 0).encode()

    async with relayed_broker(lambda api_key: bytes(stored) if api_key == 0 else b"\x00\x00") as broker:
        consumer_reader, consumer = await broker.client()
        producer_reader, producer = await broker.client()
        producer.write(produce(1, records=record_batch(3)))
        await read_frame(producer_reader)  # offsets 5, 6 and 7 stored
        consumer.write(fetch(2, offset=5))
        await asyncio.sleep(STORE_SETTLE_S + 0.1)
        consumer.write(fetch(3, offset=5))
        assert [await broker.next_arrival(1) for _ in range(3)] == [
            (0, 1, -1), (1, 2, RELEASED_WAIT_MS), (1, 3, RELEASED_WAIT_MS)]  # below a fresh end: goes
        await asyncio.sleep(0.4)  # the end is now older than STORED_END_FRESH_S
        consumer.write(fetch(4, offset=5))
        assert await broker.next_arrival(0.5) is None
        assert [struct.unpack(">i", (await read_frame(consumer_reader))[:4])[0] for _ in range(2)] == [2, 3]
        for writer in (consumer, producer):
            writer.close()


async def test_a_partition_left_out_for_longer_than_recently_asked_lets_fetches_be_held(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """A partition a connection stopped asking for (revoked, or paused) counts as left out only for
    ``RECENTLY_ASKED_S``; after that, the connection's Fetches of its other partitions are held as before."""
    monkeypatch.setattr(kafka_relay, "RECENTLY_ASKED_S", 0.3)
    async with relayed_broker() as broker:
        consumer_reader, consumer = await broker.client()
        for correlation_id, partitions in ((1, (0, 1)), (2, (1,))):
            consumer.write(frame(encoded_fetch(correlation_id, 5, 5000, partitions)))
            assert await broker.next_arrival(0.5) == (1, correlation_id, RELEASED_WAIT_MS)
        await asyncio.sleep(0.4)  # partition 0 was last asked for longer ago than RECENTLY_ASKED_S
        consumer.write(frame(encoded_fetch(3, 5, 5000, (1,))))
        assert await broker.next_arrival(0.5) is None  # partition 1 at the offset asked before: held
        assert [struct.unpack(">i", (await read_frame(consumer_reader))[:4])[0] for _ in range(2)] == [1, 2]
        consumer.close()
