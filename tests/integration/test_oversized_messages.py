"""An output too large for the broker is dead-lettered once, as too_large, and the dead letter fits."""

from __future__ import annotations

import hashlib
import json
import uuid

from newsmon.stack import Stack
from shared.schemas import DeadLetter, RawArticle
from tests.integration.conftest import metric, produce, read_topic
from tests.integration.receiver import Receiver
from tests.waiting import wait_until

SENTENCE = 'Officials said "talks on the crossing would resume on {day}", story {tag}. '


def article(tag: str, chars: int) -> tuple[bytes, bytes]:
    """A raw article of about ``chars`` characters of quoted speech, mentioning Rafah.

    Each quote takes two bytes in the message's JSON and four once that JSON is a dead letter's
    payload, so its dead letter would be larger than the message itself.
    """
    text = f"Shelling was reported near Rafah, story {tag}. " + "".join(
        SENTENCE.format(day=f"day {number}", tag=tag) for number in range(chars // len(SENTENCE)))
    raw = RawArticle(article_id=f"huge-{tag}", title=f"Rafah {tag}", text=text[:chars], source="tests/huge")
    return raw.article_id.encode(), raw.model_dump_json().encode()


def test_an_enriched_article_too_large_for_the_broker_is_dead_lettered_once_and_the_stream_goes_on(
    stack: Stack, receiver: Receiver
) -> None:
    limit = stack.settings.kafka_max_message_bytes
    tag = uuid.uuid4().hex[:8]
    # Fits on articles.raw and articles.unique; with its sentences and lemmas, not on articles.enriched;
    # and its dead letter, whole, would not fit either.
    huge, small = article(tag, limit - 50_000), article(f"{tag}-small", 2_000)
    too_large = metric(stack, "ner", "newsmon_dead_letters_total", reason="too_large")
    produce(stack.settings, "articles.raw", [huge, small])

    def letter() -> tuple[bytes, DeadLetter] | None:
        for key, value in read_topic(stack.settings, "dead-letter.ner"):
            if key == huge[0]:
                return value, DeadLetter.model_validate_json(value)
        return None

    value, dead = wait_until(letter, 120, "the dead letter of the huge article")
    assert dead.reason.startswith("too_large: the articles.enriched message would be")
    assert f"over the {limit}-byte limit" in dead.reason
    assert len(value) <= limit and dead.payload_truncated
    [unique] = [unique for key, unique in read_topic(stack.settings, "articles.unique") if key == huge[0]]
    assert dead.payload_bytes == len(unique) and dead.payload_sha256 == hashlib.sha256(unique).hexdigest()
    assert unique.decode().startswith(dead.payload), "the beginning of the message that could not be handled"

    wait_until(lambda: any(hit.json["article_id"] == small[0].decode() for hit in receiver.snapshot()), 120,
               "the small article's alert: the stream went on")
    assert metric(stack, "ner", "newsmon_dead_letters_total", reason="too_large") == too_large + 1
    assert not any(json.loads(enriched).get("article_id") == huge[0].decode()
                   for key, enriched in read_topic(stack.settings, "articles.enriched") if key == huge[0])
    assert stack.dead_services() == []
