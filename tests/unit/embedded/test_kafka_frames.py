"""The relay reads Fetch and Produce requests as a Kafka client encodes them (aiokafka's own encoder here)."""

from __future__ import annotations

import struct

from aiokafka.protocol.fetch import FetchRequest_v4, FetchRequest_v11
from aiokafka.protocol.produce import ProduceRequest_v3, ProduceRequest_v7, ProduceResponse_v7, ProduceResponse_v8
from aiokafka.protocol.struct import Struct
from aiokafka.record.default_records import DefaultRecordBatchBuilder

from newsmon.kafka_frames import (
    ProduceRequest,
    fetch_request,
    produce_offsets,
    produce_request,
    record_count,
    request_header,
    with_fetch_wait,
)


def encoded(request: Struct, correlation_id: int = 7) -> bytes:
    return request.build_request_header(correlation_id, "newsmon-dedupe").encode() + request.encode()  # type: ignore[attr-defined]


def test_a_fetch_gives_its_wait_and_each_partition_with_its_offset() -> None:
    v11 = encoded(FetchRequest_v11(-1, 500, 1, 1 << 20, 0, 0, -1, [
        ("articles.raw", [(2, -1, 42, -1, 1000), (0, -1, 7, -1, 1000)]), ("alerts", [(1, -1, 0, -1, 1000)])], [], ""))
    v4 = encoded(FetchRequest_v4(-1, 1500, 1, 1 << 20, 0, [("articles.raw", [(3, 99, 1000)])]))

    parsed = fetch_request(v11, 11)
    assert parsed is not None and parsed.wait_ms == 500
    assert parsed.positions == ((b"articles.raw", 2, 42), (b"articles.raw", 0, 7), (b"alerts", 1, 0))
    assert fetch_request(v4, 4) == fetch_request(v4, 4) and fetch_request(v4, 4).wait_ms == 1500  # type: ignore[union-attr]
    assert fetch_request(v4, 4).positions == ((b"articles.raw", 3, 99),)  # type: ignore[union-attr]
    assert request_header(v11) == (1, 11, 7)


def test_the_wait_is_rewritten_in_place_and_nothing_else_changes() -> None:
    request = FetchRequest_v11(-1, 5000, 1, 1 << 20, 0, 0, -1, [("articles.raw", [(2, -1, 42, -1, 1000)])], [], "")
    frame = encoded(request)
    parsed = fetch_request(frame, 11)
    assert parsed is not None

    rewritten = with_fetch_wait(frame, parsed.wait_position, 1)

    assert len(rewritten) == len(frame)
    assert rewritten == encoded(FetchRequest_v11(-1, 1, 1, 1 << 20, 0, 0, -1,
                                                 [("articles.raw", [(2, -1, 42, -1, 1000)])], [], ""))


def test_a_cut_fetch_does_not_parse() -> None:
    frame = encoded(FetchRequest_v4(-1, 1500, 1, 1 << 20, 0, [("articles.raw", [(3, 99, 1000)])]))
    assert fetch_request(frame[:-6], 4) is None
    assert fetch_request(frame[:12], 4) is None


def test_a_produce_gives_its_acks_and_every_partition_it_writes_to() -> None:
    request = ProduceRequest_v7(None, -1, 30000, [("articles.raw", [(0, b"batch"), (2, b"more")]),
                                                  ("alerts", [(1, b"x" * 300)])])
    assert produce_request(encoded(request), 7) == ProduceRequest(
        -1, ((b"articles.raw", 0), (b"articles.raw", 2), (b"alerts", 1)))
    assert produce_request(encoded(ProduceRequest_v3("tx-1", 0, 30000, [("alerts", [(0, b"batch")])])), 3) == \
        ProduceRequest(0, ((b"alerts", 0),))


def test_a_flexible_produce_gives_its_partitions() -> None:
    """v9, as a newer client sends it: compact strings and arrays, tagged fields in the header and after each
    partition and topic."""
    header = struct.pack(">hhih", 0, 9, 7, 1) + b"c" + b"\x00"
    body = (b"\x00" + struct.pack(">hi", 1, 30000)  # no transactional id, acks, timeout
            + b"\x02" + b"\x07" + b"alerts"  # one topic
            + b"\x03" + struct.pack(">i", 4) + b"\x06batch" + b"\x00" + struct.pack(">i", 5) + b"\x01" + b"\x00"
            + b"\x00" + b"\x00")
    assert produce_request(header + body, 9) == ProduceRequest(1, ((b"alerts", 4), (b"alerts", 5)),
                                                                {(b"alerts", 5): 0})  # "batch" is no batch


def test_a_produce_cut_short_keeps_its_acks_but_not_its_partitions() -> None:
    frame = encoded(ProduceRequest_v7(None, -1, 30000, [("articles.raw", [(0, b"batch")])]))
    assert produce_request(frame[:-3], 7) == ProduceRequest(-1, None)
    assert produce_request(b"\x00\x00\x00\x07\x00\x00\x00\x01\x00", 7) is None


def record_batch(records: int) -> bytes:
    """A v2 record batch as aiokafka's producer builds it."""
    builder = DefaultRecordBatchBuilder(magic=2, compression_type=0, is_transactional=False, producer_id=-1,
                                        producer_epoch=-1, base_sequence=-1, batch_size=1 << 20)
    for number in range(records):
        builder.append(number, timestamp=None, key=b"article-%d" % number, value=b"{}", headers=[])
    return bytes(builder.build())


def test_a_produce_tells_how_many_records_go_to_each_partition() -> None:
    three, two = record_batch(3), record_batch(2)
    request = ProduceRequest_v7(None, -1, 30000, [("articles.raw", [(0, three), (2, three + two), (4, b"old")])])

    parsed = produce_request(encoded(request), 7)

    assert parsed is not None and parsed.counts == {(b"articles.raw", 0): 3, (b"articles.raw", 2): 5}
    assert record_count(three[:-1]) is None and record_count(three + b"x") is None


def test_a_produce_reply_gives_the_base_offset_of_each_partition_stored() -> None:
    v7 = ProduceResponse_v7([("articles.raw", [(0, 0, 41, -1, 0), (2, 6, -1, -1, 0)]),
                             ("alerts", [(1, 0, 7, -1, 0)])], 0)
    v8 = ProduceResponse_v8([("alerts", [(1, 0, 9, -1, 0, [(0, "one bad record")], "some failed"),
                                         (3, 0, 11, -1, 0, [], None)])], 0)
    reply_v7 = struct.pack(">i", 5) + bytes(v7.encode())

    # Partition 2 failed (error 6): it stored nothing, so it has no offset.
    assert produce_offsets(reply_v7, 7) == {(b"articles.raw", 0): 41, (b"alerts", 1): 7}
    assert produce_offsets(struct.pack(">i", 5) + bytes(v8.encode()), 8) == {(b"alerts", 1): 9, (b"alerts", 3): 11}
    assert produce_offsets(reply_v7[:-12], 7) is None
