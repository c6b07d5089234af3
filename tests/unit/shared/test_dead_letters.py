"""A dead letter is stored before the stream moves on, like any output of a stage, always fits in one
Kafka message, and is written even when the broker is away for a while."""

from __future__ import annotations

import asyncio
import hashlib
import json

import faust
import pytest
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from faust.exceptions import ProducerSendError

from shared.dead_letters import MAX_KEY_BYTES, build_dead_letter
from shared.message_size import fits, record_size
from shared.schemas import DeadLetter, RawArticle
from shared.stream_app import Stage, publish


class HeldTopic:
    """A dead-letter topic whose broker acknowledges only when the test says so."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes | None, bytes]] = []
        self.called = asyncio.Event()
        self.ack: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def send(self, key: bytes | None, value: bytes) -> asyncio.Future[None]:
        self.sent.append((key, value))
        self.called.set()
        return self.ack

    def get_topic_name(self) -> str:
        return "dead-letter.dedupe"


async def test_an_unreadable_message_is_done_only_once_its_dead_letter_is_acknowledged() -> None:
    app = faust.App("newsmon-test-dead-letters", broker="kafka://127.0.0.1:9", autodiscover=False)
    stage = Stage(app, "dedupe", "articles.raw", RawArticle)
    stage.dead_letters = topic = HeldTopic()  # type: ignore[assignment]

    parsing = asyncio.create_task(stage.parse(b"article-1", b"not json"))
    await asyncio.wait_for(topic.called.wait(), 5)
    await asyncio.sleep(0.05)
    assert not parsing.done(), "the offset would move on before the broker stored the dead letter"

    topic.ack.set_result(None)
    assert await asyncio.wait_for(parsing, 5) is None
    [(key, value)] = topic.sent
    assert key == b"article-1" and json.loads(value)["reason"].startswith("invalid_json")


# Dead letters always fit: a letter too large for one Kafka message keeps its reason, key, size and
# hash, and the beginning of its payload.

LIMIT = 100_000


def test_a_small_message_is_kept_whole_with_its_size_and_hash() -> None:
    payload = b'{"article_id": "a1", "text": "caf\xc3\xa9"}'
    record = build_dead_letter("ner", "articles.unique", "schema: text: Field required", b"a1", payload, LIMIT)

    letter = DeadLetter.model_validate_json(record.value)
    assert record.key == b"a1" and letter.key == "a1"
    assert letter.payload == payload.decode() and not letter.payload_truncated
    assert letter.payload_bytes == len(payload) and letter.payload_sha256 == hashlib.sha256(payload).hexdigest()


@pytest.mark.parametrize("payload", [
    b"x" * 3 * LIMIT,
    "é".encode() * LIMIT,  # two bytes each in UTF-8
    b"\x00\x01\x1f" * LIMIT,  # control characters: six bytes each once escaped in JSON
    bytes(range(256)) * (LIMIT // 100),  # not UTF-8 at all
], ids=["ascii", "two-byte", "escaped", "binary"])
def test_a_letter_too_large_for_the_broker_is_cut_to_fit_and_says_so(payload: bytes) -> None:
    record = build_dead_letter("ner", "articles.unique", "too_large: over the limit", b"a1", payload, LIMIT)

    assert fits(record.key, record.value, LIMIT)
    letter = DeadLetter.model_validate_json(record.value)
    assert letter.payload_truncated and letter.reason == "too_large: over the limit" and letter.key == "a1"
    assert letter.payload_bytes == len(payload) and letter.payload_sha256 == hashlib.sha256(payload).hexdigest()
    assert letter.payload and payload.decode("utf-8", "replace").startswith(letter.payload)
    assert record_size(record.key, record.value) > LIMIT * 0.9, "as much of the payload as fits"


def test_a_huge_key_is_replaced_by_its_hash_on_the_record_and_cut_in_the_letter() -> None:
    key = b"k" * 50_000
    record = build_dead_letter("dedupe", "articles.raw", "schema: bad", key, b"{}", LIMIT)
    assert record.key == b"sha256:" + hashlib.sha256(key).hexdigest().encode()
    assert DeadLetter.model_validate_json(record.value).key == "k" * MAX_KEY_BYTES
    assert fits(record.key, record.value, LIMIT)


class BrokerTopic:
    """An output topic of a small broker: ``failures`` first, then every send is acknowledged."""

    def __init__(self, app: faust.App, name: str, failures: list[Exception] | None = None) -> None:
        self.app = app
        self.name = name
        self.failures = failures or []
        self.sent: list[tuple[bytes | None, bytes]] = []

    async def send(self, key: bytes | None, value: bytes) -> asyncio.Future[None]:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((key, value))
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        acknowledged.set_result(None)
        return acknowledged

    def get_topic_name(self) -> str:
        return self.name


def small_broker_app() -> faust.App:
    return faust.App("newsmon-test-dead-letters", broker="kafka://127.0.0.1:9", autodiscover=False,
                     producer_max_request_size=LIMIT)


def article(text: str) -> RawArticle:
    return RawArticle(article_id="a1", text=text, source="tests")


async def test_an_output_too_large_for_the_broker_is_dead_lettered_once_not_retried() -> None:
    app = small_broker_app()
    stage = Stage(app, "dedupe", "articles.raw", RawArticle)
    stage.dead_letters = dead_letters = BrokerTopic(app, "dead-letter.dedupe")
    output = BrokerTopic(app, "articles.unique")
    big = article("word " * LIMIT)
    value = big.model_dump_json().encode()

    await stage.run(b"a1", value, lambda parsed: publish(output, "dedupe", parsed.article_id, parsed))

    assert output.sent == []
    [(key, letter_json)] = dead_letters.sent
    letter = DeadLetter.model_validate_json(letter_json)
    assert key == b"a1" and letter.reason.startswith("too_large: the articles.unique message would be")
    assert letter.payload_truncated and letter.payload_bytes == len(value)


async def test_a_send_that_fails_while_the_broker_is_away_is_sent_again() -> None:
    app = small_broker_app()
    output = BrokerTopic(app, "articles.unique", failures=[sent_by_faust(KafkaTimeoutError()),
                                                           KafkaConnectionError("no broker")])
    await publish(output, "dedupe", "a1", article("Shelling near Rafah."))
    [(key, value)] = output.sent
    assert key == b"a1" and RawArticle.model_validate_json(value).text == "Shelling near Rafah."


async def test_a_dead_letter_that_cannot_be_written_yet_is_retried_until_stored() -> None:
    app = small_broker_app()
    stage = Stage(app, "ner", "articles.unique", RawArticle)
    stage.dead_letters = dead_letters = BrokerTopic(
        app, "dead-letter.ner", failures=[KafkaConnectionError("no broker"), sent_by_faust(KafkaTimeoutError())])

    assert await stage.parse(b"a2", b"{not json") is None
    [(key, value)] = dead_letters.sent
    assert key == b"a2" and DeadLetter.model_validate_json(value).reason.startswith("invalid_json")


def sent_by_faust(cause: Exception) -> ProducerSendError:
    try:
        raise ProducerSendError(f"Error while sending: {cause!r}") from cause
    except ProducerSendError as error:
        return error
