"""What users rely on when input is bad or repeated: nothing lost, nothing sent twice."""

from __future__ import annotations

import json
import uuid

from newsmon.stack import Stack
from shared.article_ids import article_id_for_url
from shared.schemas import RawArticle
from tests.integration.conftest import metric, produce, read_topic
from tests.integration.receiver import Receiver
from tests.waiting import wait_until

RAFAH_TEXT = (
    "Israeli forces pressed on towards Rafah on {day}, officials said.\n"
    "Aid groups warned that more than a million people shelter in the city. Story {tag}."
)


def raw(url: str, text: str) -> tuple[bytes, bytes]:
    article = RawArticle(article_id=article_id_for_url(url), url=url, canonical_url=url, title="Rafah",
                         text=text, source="https://example.org/feed")
    return article.article_id.encode(), article.model_dump_json().encode()


def test_unparseable_messages_go_to_dead_letter_and_the_stream_goes_on(stack: Stack, receiver: Receiver) -> None:
    tag = uuid.uuid4().hex
    good_key, good_value = raw(f"https://example.org/{tag}", RAFAH_TEXT.format(day="Monday", tag=tag))
    missing_text = json.dumps({"schema_version": 1, "article_id": f"bad-{tag}", "source": "x"}).encode()
    produce(stack.settings, "articles.raw", [
        (f"junk-{tag}".encode(), b"\x00not json"),
        (f"bad-{tag}".encode(), missing_text),
        (f"v2-{tag}".encode(),
         json.dumps({"schema_version": 2, "article_id": "x", "text": "t", "source": "s"}).encode()),
        (good_key, good_value),
    ])

    def letters() -> dict[str, dict]:  # type: ignore[type-arg]
        found = {}
        for key, value in read_topic(stack.settings, "dead-letter.dedupe"):
            if key and tag in key.decode():
                found[key.decode().split("-")[0]] = json.loads(value)
        return found

    found = wait_until(lambda: f if len(f := letters()) == 3 else None, 60, "three dead letters")
    assert found["junk"]["reason"].startswith("invalid_json")
    assert "text" in found["bad"]["reason"] and found["bad"]["reason"].startswith("schema")
    assert "schema_version" in found["v2"]["reason"]
    assert found["bad"]["payload"] == missing_text.decode()
    # The valid message after the bad ones still made it through the whole pipeline.
    wait_until(lambda: any(r.json["article_id"] == good_key.decode() for r in receiver.snapshot()), 120,
               "the alert of the valid message sent after the bad ones")
    assert stack.dead_services() == []


def test_syndicated_copy_and_tracking_url_do_not_alert_again(stack: Stack, receiver: Receiver) -> None:
    tag = uuid.uuid4().hex
    text = RAFAH_TEXT.format(day="Tuesday", tag=tag)
    original = raw(f"https://wire.example.com/story/{tag}", text)
    # The same wire text on another outlet, with different case and spacing.
    copy = raw(f"https://outlet.example.net/world/{tag}", "  " + text.upper().replace(". ", ".  ") + "  ")
    tracked = raw(f"https://wire.example.com/story/{tag}?utm_source=newsletter#top", text)
    duplicates_before = metric(stack, "dedupe", "newsmon_dedupe_outcomes_total", outcome="duplicate")

    def alerts_for_tag() -> list[str]:
        return [r.json["article_id"] for r in receiver.snapshot()
                if r.json["article_id"] in (original[0].decode(), copy[0].decode())]

    # Keys spread over partitions, so only publishing after the original was handled makes it first.
    produce(stack.settings, "articles.raw", [original])
    wait_until(lambda: original[0].decode() in alerts_for_tag(), 120, "the original's alert")
    alerter_seen = metric(stack, "alerter", "newsmon_messages_in_total", topic="articles.enriched")
    produce(stack.settings, "articles.raw", [copy, tracked])
    wait_until(
        lambda: metric(stack, "alerter", "newsmon_messages_in_total", topic="articles.enriched") >= alerter_seen + 1,
        120, "the alerter to see the re-sent original (tracking URL)",
    )
    wait_until(
        lambda: metric(stack, "dedupe", "newsmon_dedupe_outcomes_total", outcome="duplicate") >= duplicates_before + 1,
        60, "dedupe to judge the copy",
    )
    assert tracked[0] == original[0], "tracking parameters and fragments do not change the article id"
    unique_keys = {key for key, _ in read_topic(stack.settings, "articles.unique")}
    assert original[0] in unique_keys
    assert copy[0] not in unique_keys, "the syndicated copy must not pass dedupe"
    assert alerts_for_tag() == [original[0].decode()]
