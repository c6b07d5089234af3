"""When webhook attempts may go: the retry schedule's floor under Retry-After, the slots that keep one
receiver from holding up another, and the one deadline of an attempt."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from redis.asyncio import Redis

from services.notifier.webhooks.attempt_results import retry_after_s
from services.notifier.webhooks.delivery import WebhookDelivery
from services.notifier.webhooks.queue import Item
from services.notifier.webhooks.scheduling import DestinationSlots, RetrySchedule


def test_retry_after_zero_cannot_burn_the_attempts_in_a_second() -> None:
    schedule = RetrySchedule(backoff_s=1.0)
    waits = [schedule.delay(attempt, retry_after_s=0.0) for attempt in range(1, 11)]
    assert waits == [schedule.minimum(attempt) for attempt in range(1, 11)]
    assert waits[:4] == [0.5, 1.0, 2.0, 4.0]
    assert sum(waits) > 500, "ten attempts told to come back at once still take minutes"


def test_a_longer_retry_after_is_honoured_up_to_the_longest_delay() -> None:
    schedule = RetrySchedule(backoff_s=1.0, max_delay_s=3600)
    assert schedule.delay(1, retry_after_s=30.0) == 30.0
    assert schedule.delay(1, retry_after_s=86_400.0) == 3600


def test_without_a_hint_the_wait_is_between_the_minimum_and_twice_it() -> None:
    schedule = RetrySchedule(backoff_s=1.0)
    assert schedule.delay(3, draw=lambda low, high: low) == 2.0
    assert schedule.delay(3, draw=lambda low, high: high) == 4.0
    assert schedule.delay(40, draw=lambda low, high: high) == 3600, "capped"


def response(retry_after: str) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": retry_after})


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    now = datetime(2025, 5, 1, 12, 0, tzinfo=timezone.utc)
    assert retry_after_s(response("120")) == 120.0
    assert retry_after_s(response(format_datetime(now + timedelta(seconds=90), usegmt=True)),
                         now=now.timestamp()) == 90.0
    assert retry_after_s(response("-5")) == 0.0
    assert retry_after_s(response("soon")) is None
    assert retry_after_s(response("nan")) is None


def test_a_destination_gets_at_most_its_slots_and_all_of_them_at_most_the_total() -> None:
    slots = DestinationSlots(per_destination=2, total=3)
    assert slots.room() == 3 and slots.free() == {}
    slots.take("http://slow:80")
    slots.take("http://slow:80")
    assert slots.free() == {"http://slow:80": 0}, "the slow receiver is full; any other has 2"
    slots.take("https://fast")
    assert slots.room() == 0
    slots.release("http://slow:80")
    assert slots.room() == 1 and slots.free() == {"http://slow:80": 1, "https://fast": 1}
    slots.release("http://slow:80")
    slots.release("https://fast")
    assert slots.free() == {} and slots.room() == 3


class TricklingReceiver:
    """Accepts, reads the request, then sends its status line one byte every ``pause_s`` (30 s in all)."""

    def __init__(self, pause_s: float = 0.5) -> None:
        self.pause_s = pause_s
        self.requests = 0
        self.closed_by_client = asyncio.Event()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.requests += 1
        await reader.readuntil(b"\r\n\r\n")
        try:
            for byte in b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n":
                writer.write(bytes([byte]))
                await writer.drain()
                await asyncio.sleep(self.pause_s)
        except ConnectionError:
            self.closed_by_client.set()
        finally:
            writer.close()


@pytest.fixture
async def trickling() -> AsyncIterator[tuple[TricklingReceiver, str]]:
    receiver = TricklingReceiver()
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    async with server:
        yield receiver, f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/hook"


@pytest.fixture
def unused_redis() -> Iterator[Redis]:
    """A client that is never used: an attempt's POST touches no Redis (connections open lazily)."""
    yield Redis(host="127.0.0.1", port=1)


async def test_an_attempt_ends_at_its_deadline_even_while_headers_trickle_in(
    trickling: tuple[TricklingReceiver, str], unused_redis: Redis
) -> None:
    receiver, url = trickling
    async with httpx.AsyncClient() as client:
        delivery = WebhookDelivery(unused_redis, client, secret=None, allow_private=True, max_attempts=3,
                                   backoff_s=1.0, attempt_deadline_s=0.3)
        result = await delivery.sender.post(Item("alert-1", url), b"{}", None)

    assert result.outcome == "retry" and result.status is None
    assert result.error == "no response within the 0.3s attempt deadline"
    assert receiver.requests == 1
    await asyncio.wait_for(receiver.closed_by_client.wait(), 10)
