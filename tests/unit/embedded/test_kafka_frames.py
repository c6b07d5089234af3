"""The relay reads Fetch and Produce requests as a Kafka client encodes them (aiokafka's own encoder here)."""

from __future__ import annotations

from aiokafka.protocol.fetch import FetchRequest_v4, FetchRequest_v11
from aiokafka.protocol.produce import ProduceRequest_v3, ProduceRequest_v7
from aiokafka.protocol.struct import Struct

from newsmon.kafka_frames import fetch_request, produce_acks, request_header, with_fetch_wait


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


def test_produce_acks_with_and_without_a_transactional_id() -> None:
    assert produce_acks(encoded(ProduceRequest_v7(None, -1, 30000, [("articles.raw", [(0, b"batch")])])), 7) == -1
    assert produce_acks(encoded(ProduceRequest_v3("tx-1", 0, 30000, [("alerts", [(0, b"batch")])])), 3) == 0
    assert produce_acks(b"\x00\x00\x00\x07\x00\x00\x00\x01\x00", 7) is None
