"""The one error policy: dependency outages are waits, a message too large for the broker is rejected,
anything else is a bug."""

from __future__ import annotations

import logging

import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError, MessageSizeTooLargeError
from faust.exceptions import ProducerSendError
from redis.exceptions import (
    BusyLoadingError,
    OutOfMemoryError,
    ReadOnlyError,
    ResponseError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.failure_policy import TOO_LARGE, Backoff, Rejected, as_rejected, classify, retry_transient


def sent_by_faust(cause: Exception) -> ProducerSendError:
    """What faust's producer raises: its own error, with the Kafka error as the cause."""
    try:
        raise ProducerSendError(f"Error while sending: {cause!r}") from cause
    except ProducerSendError as error:
        return error


@pytest.mark.parametrize("error", [
    RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    RedisTimeoutError("Timeout reading from socket"),
    BusyLoadingError("Redis is loading the dataset in memory"),
    OutOfMemoryError("command not allowed when used memory > 'maxmemory'."),
    ReadOnlyError("You can't write against a read only replica."),
    ResponseError("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk."),
    ResponseError("BUSY Redis is busy running a script."),
    ResponseError("NOREPLICAS Not enough good replicas to write."),
    KafkaConnectionError("no broker"),
    sent_by_faust(KafkaTimeoutError()),
    ConnectionResetError(),
    TimeoutError(),
], ids=lambda error: type(error).__name__ + ":" + str(error)[:12])
def test_dependency_outages_are_transient(error: Exception) -> None:
    assert classify(error) == "transient"
    assert as_rejected(error) is None


def test_a_message_too_large_for_the_broker_is_rejected_not_retried() -> None:
    for error in (MessageSizeTooLargeError("The message is 2000000 bytes"),
                  sent_by_faust(MessageSizeTooLargeError("The message is 2000000 bytes"))):
        assert classify(error) == "rejected"
        rejected = as_rejected(error)
        assert rejected is not None and rejected.kind == TOO_LARGE and "2000000 bytes" in rejected.reason


@pytest.mark.parametrize("error", [
    ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
    ResponseError("ERR value is not an integer or out of range"),
    KeyError("story_id"),
    ValueError("bad"),
])
def test_errors_about_the_input_or_the_code_are_bugs(error: Exception) -> None:
    assert classify(error) == "bug"


def test_a_stage_rejection_keeps_its_kind() -> None:
    rejection = Rejected("empty_after_cleanup", "nothing left")
    assert classify(rejection) == "rejected" and as_rejected(rejection) is rejection


def test_backoff_doubles_with_jitter_up_to_its_cap_and_starts_over_after_a_reset() -> None:
    backoff = Backoff(first_s=1.0, max_s=5.0)
    caps = [1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
    for cap in caps:
        assert cap / 2 <= backoff.next_delay() <= cap
    backoff.reset()
    assert 0.5 <= backoff.next_delay() <= 1.0


async def test_a_transient_failure_is_retried_until_it_passes(caplog: pytest.LogCaptureFixture) -> None:
    failures = [RedisTimeoutError("Timeout reading from socket"), KafkaConnectionError("no broker")]
    seen: list[BaseException] = []

    async def flaky() -> str:
        if failures:
            raise failures.pop(0)
        return "stored"

    with caplog.at_level(logging.WARNING, logger="shared.failure_policy"):
        result = await retry_transient(flaky, "publish", on_retry=seen.append, backoff=Backoff(0.001, 0.001),
                                       article_id="a1")
    assert result == "stored"
    assert [type(error) for error in seen] == [RedisTimeoutError, KafkaConnectionError]
    logged = [record for record in caplog.records if record.getMessage() == "dependency.retrying"]
    assert len(logged) == 2 and logged[0].fields["article_id"] == "a1"


async def test_anything_else_is_raised_at_once() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value")

    with pytest.raises(ResponseError, match="WRONGTYPE"):
        await retry_transient(broken, "dedupe", backoff=Backoff(0.001, 0.001))
    assert calls == 1
