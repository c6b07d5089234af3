"""Which dead letters `newsmon dead-letters replay` sends back, and that it sends each one once.

The replay sequence runs here on the in-memory ledger and a list standing in for the broker; the
Redis ledger gives the same answers (tests/integration/test_dead_letters.py).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest
from aiokafka.errors import KafkaConnectionError

from newsmon.commands.dead_letter_replay import MemoryReplayLedger, ReplayResult, StoredDeadLetter, replay
from newsmon.embedded import free_port
from shared.schemas import DeadLetter

ORIGINAL = b'{"schema_version": 1, "article_id": "a1", "text": "Troops moved on Rafah."}'


def stored(reason: str = "processing_error: ResponseError: WRONGTYPE", service: str = "alerter",
           topic: str = "articles.enriched", offset: int = 7, payload: bytes = ORIGINAL,
           **fields: object) -> StoredDeadLetter:
    letter = DeadLetter(service=service, topic=topic, reason=reason, key="a1", payload=payload.decode(), **fields)
    return StoredDeadLetter.parse(f"dead-letter.{service}", 2, offset, letter.model_dump_json().encode())


class Broker:
    """The input topics as lists; ``refuse`` makes the next sends fail as an unreachable broker would."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes | None, bytes]] = []
        self.refuse = False

    async def send(self, topic: str, key: bytes | None, value: bytes) -> None:
        if self.refuse:
            raise KafkaConnectionError("broker down")
        self.sent.append((topic, key, value))


async def run(letters: list[StoredDeadLetter], ledger: MemoryReplayLedger, broker: Broker) -> list[ReplayResult]:
    return await replay(letters, ledger, broker.send, on_result=lambda result: None)


async def test_a_processing_error_is_sent_back_to_its_stage_with_its_key_and_payload_once() -> None:
    ledger, broker = MemoryReplayLedger(), Broker()
    letter = stored()

    [first] = await run([letter], ledger, broker)
    [second] = await run([letter], ledger, broker)

    assert (first.outcome, second.outcome) == ("replayed", "already_replayed")
    assert broker.sent == [("articles.enriched", b"a1", ORIGINAL)]
    assert await ledger.replayed([letter.letter_id]) == {letter.letter_id}


async def test_a_truncated_dead_letter_is_not_replayed_and_says_what_was_kept() -> None:
    broker = Broker()
    start = ORIGINAL[:20]
    letter = stored(reason="output_too_large: 5242880 bytes", payload=start, payload_bytes=5_242_880,
                    payload_sha256=hashlib.sha256(b"the whole original").hexdigest(), payload_truncated=True)

    [result] = await run([letter], MemoryReplayLedger(), broker)

    assert result.outcome == "not_replayable"
    assert result.detail == "payload truncated: only the first 20 of 5242880 bytes were kept, the original is lost"
    assert broker.sent == []


async def test_a_size_limit_dead_letter_holding_the_whole_payload_is_replayable() -> None:
    broker = Broker()
    letter = stored(reason="output_too_large: 1100000 bytes", payload_bytes=len(ORIGINAL),
                    payload_sha256=hashlib.sha256(ORIGINAL).hexdigest())

    [result] = await run([letter], MemoryReplayLedger(), broker)

    assert result.outcome == "replayed" and broker.sent == [("articles.enriched", b"a1", ORIGINAL)]


@pytest.mark.parametrize("kind", ["empty", "invalid_json", "schema", "empty_after_cleanup"])
async def test_a_malformed_message_is_not_replayed(kind: str) -> None:
    broker = Broker()

    [result] = await run([stored(reason=f"{kind}: text: Field required", service="dedupe", topic="articles.raw")],
                         MemoryReplayLedger(), broker)

    assert result.outcome == "not_replayable" and f"malformed ({kind})" in result.detail
    assert broker.sent == []


async def test_a_dead_letter_naming_another_topic_than_its_stage_input_is_refused() -> None:
    broker = Broker()

    [result] = await run([stored(topic="alerts")], MemoryReplayLedger(), broker)

    assert result.outcome == "not_replayable"
    assert result.detail == "its topic 'alerts' is not an input of alerter (articles.enriched)"
    assert broker.sent == []


async def test_a_payload_that_differs_from_its_recorded_hash_is_not_replayed() -> None:
    broker = Broker()
    letter = stored(payload_bytes=len(ORIGINAL), payload_sha256=hashlib.sha256(b"other bytes").hexdigest())

    [result] = await run([letter], MemoryReplayLedger(), broker)

    assert result.outcome == "not_replayable" and "sha256" in result.detail and broker.sent == []


async def test_a_failed_send_leaves_the_letter_for_the_next_replay() -> None:
    ledger, broker = MemoryReplayLedger(), Broker()
    letter = stored()
    broker.refuse = True

    with pytest.raises(KafkaConnectionError):
        await run([letter], ledger, broker)
    broker.refuse = False
    [result] = await run([letter], ledger, broker)

    assert result.outcome == "replayed" and len(broker.sent) == 1


async def test_the_same_offset_of_a_recreated_topic_is_a_new_letter() -> None:
    ledger, broker = MemoryReplayLedger(), Broker()
    before = stored(reason="processing_error: first")
    after = stored(reason="processing_error: after the topic was re-created")

    results = await run([before, after], ledger, broker)

    assert before.position == after.position
    assert [result.outcome for result in results] == ["replayed", "replayed"]


def test_letters_are_selected_by_kind_by_text_of_the_reason_and_by_key() -> None:
    letter = stored(reason="processing_error: ResponseError: WRONGTYPE Operation against a key")

    assert letter.matches("processing_error", None) and letter.matches("wrongtype", None)
    assert letter.matches(None, "a1") and not letter.matches(None, "a2")
    assert not letter.matches("schema", None)


def test_a_message_that_is_not_a_dead_letter_is_named_by_its_position() -> None:
    with pytest.raises(ValueError, match=r"^dead-letter.ner\[0\]@3: not a dead letter: "):
        StoredDeadLetter.parse("dead-letter.ner", 0, 3, b"junk")


def newsmon(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "newsmon", "dead-letters", *args], env={**os.environ, **env},
                          capture_output=True, text=True, timeout=120)


def test_an_unreachable_broker_is_one_line_naming_it() -> None:
    bootstrap = f"127.0.0.1:{free_port()}"

    result = newsmon("list", KAFKA_BOOTSTRAP=bootstrap)

    assert result.returncode == 2
    assert result.stderr == f"error: cannot reach a broker of {bootstrap}: KafkaConnectionError\n"


def test_an_unknown_service_is_one_line_naming_the_services_there_are() -> None:
    result = newsmon("replay", "--service", "fetcher")

    assert result.returncode == 2
    assert result.stderr == ("error: no dead letters for service 'fetcher'; "
                             "the stages that dead-letter are dedupe, ner, alerter, notifier\n")
