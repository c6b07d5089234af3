"""Dedupe in the running stack: articles.raw in, articles.unique / articles.duplicates out."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

from newsmon.stack import Stack
from services.fetcher.files import read_articles
from shared.article_ids import article_id_for_content
from shared.schemas import RawArticle
from tests.integration.conftest import metric, produce, read_json_topic, read_topic
from tests.unit.dedupe.conftest import COPY_HEADLINES, LABELLED
from tests.unit.dedupe.syndication import syndicated_copy
from tests.waiting import wait_until

CAPTION = ("German Foreign Minister Annalena Baerbock talks to reporters during the G7 Foreign Ministers meeting on "
           "Capri Island, Italy, Thursday, April 18, 2024. (AP Photo/Gregorio Borgia)")


def message(article: RawArticle) -> tuple[bytes, bytes]:
    return article.article_id.encode(), article.model_dump_json().encode()


def on_topic(stack: Stack, topic: str, ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    """Messages of the given article ids on a topic, by id."""
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in read_json_topic(stack.settings, topic):
        if item.get("article_id") in ids:
            found[item["article_id"]].append(item)
    return found


def test_copies_of_the_seeds_join_their_story_and_the_seeds_stay_three_stories(
    stack: Stack, sample_dir: Path
) -> None:
    seeds = {path.name[:3]: read_articles(path)[0] for path in sorted(sample_dir.glob("*.txt"))}
    seed_ids = {seed.article_id for seed in seeds.values()}
    produce(stack.settings, "articles.raw", [message(seed) for seed in seeds.values()])
    unique = wait_until(lambda: f if len(f := on_topic(stack, "articles.unique", seed_ids)) == 3 else None, 120,
                        "the three seeds on articles.unique")
    assert {messages[-1]["story_id"] for messages in unique.values()} == seed_ids, "three seeds, three stories"
    assert unique[seeds["000"].article_id][-1]["text"].count(CAPTION) == 1, "repeated captions are cleaned away"

    copies = {number: syndicated_copy(seed, COPY_HEADLINES[number]) for number, seed in seeds.items()}
    copy_ids = {copy.article_id for copy in copies.values()}
    # The first copy twice: a redelivery must get the same answer.
    produce(stack.settings, "articles.raw", [message(copies["000"]), *map(message, copies.values())])
    duplicates = wait_until(
        lambda: f if sum(map(len, (f := on_topic(stack, "articles.duplicates", copy_ids)).values())) >= 4 else None,
        120, "four messages of the copies on articles.duplicates",
    )
    for number, copy in copies.items():
        verdicts = {(item["story_id"], item["duplicate_of"], item["similarity"], item["matched_on"])
                    for item in duplicates[copy.article_id]}
        assert len(verdicts) == 1, f"every delivery of the copy of {number} gets one answer"
        story_id, duplicate_of, similarity, matched_on = verdicts.pop()
        assert story_id == duplicate_of == seeds[number].article_id
        assert matched_on == "minhash" and 0.5 <= similarity < 1
        assert all(item["story_outlets"] >= 2 for item in duplicates[copy.article_id])
        assert "Skip to content" not in duplicates[copy.article_id][0]["text"]
    assert not on_topic(stack, "articles.unique", copy_ids), "copies never reach articles.unique"
    assert metric(stack, "dedupe", "newsmon_dedupe_story_outlets_count") >= 4


def test_article_with_no_text_after_cleanup_is_dead_lettered_with_the_reason(stack: Stack) -> None:
    tag = uuid.uuid4().hex
    chrome_only = RawArticle(article_id=f"chrome-{tag}", text="Skip to Content\n\nAdvertisement\n  • Oops!\n",
                             source="https://example.org/feed")
    blank = RawArticle(article_id=f"blank-{tag}", text=" \n\t ", source="https://example.org/feed")
    before = metric(stack, "dedupe", "newsmon_dead_letters_total", reason="empty_after_cleanup")
    produce(stack.settings, "articles.raw", [message(chrome_only), message(blank)])

    def letters() -> dict[str, dict[str, Any]] | None:
        found = {key.decode(): json.loads(value) for key, value in read_topic(stack.settings, "dead-letter.dedupe")
                 if key and tag in key.decode()}
        return found if len(found) == 2 else None

    found = wait_until(letters, 60, "both articles on dead-letter.dedupe")
    for article_id, letter in found.items():
        assert letter["reason"] == (f"empty_after_cleanup: article {article_id}: no text left after removing "
                                    "blank, repeated and boilerplate lines")
        assert json.loads(letter["payload"])["article_id"] == article_id
    assert metric(stack, "dedupe", "newsmon_dead_letters_total",
                  reason="empty_after_cleanup") >= before + 2


def test_a_dedupe_restart_mid_batch_loses_nothing_and_changes_no_answer(stack: Stack) -> None:
    batch = []
    for variant in range(3):
        for path in sorted(LABELLED.glob("*.txt")):
            text = f"Dispatch {uuid.uuid4().hex[:8]}-{variant}\n\n{path.read_text()}"
            batch.append(RawArticle(article_id=article_id_for_content(text), text=text, source=f"file:{path.name}",
                                    title=path.stem))
    ids = {article.article_id for article in batch}
    produce(stack.settings, "articles.raw", [message(article) for article in batch])
    stack.restart("dedupe")

    def judged() -> dict[str, list[dict[str, Any]]] | None:
        found = on_topic(stack, "articles.unique", ids)
        for article_id, items in on_topic(stack, "articles.duplicates", ids).items():
            found[article_id] += items
        return found if set(found) == ids else None

    found = wait_until(judged, 180, "every article of the batch on articles.unique or articles.duplicates")
    firsts = {article_id for article_id, items in found.items() if "duplicate_of" not in items[0]}
    story_of_label: dict[str, set[str]] = defaultdict(set)
    for article in batch:
        items = found[article.article_id]
        assert len({(item["story_id"], item.get("duplicate_of")) for item in items}) == 1, "one answer per article"
        story_id, duplicate_of = items[0]["story_id"], items[0].get("duplicate_of")
        assert duplicate_of != article.article_id and (duplicate_of is None) == (story_id == article.article_id)
        assert story_id in firsts, "every story starts with an article on articles.unique"
        story_of_label[article.title.split("__")[0]].add(story_id)
    stories = [story for label_stories in story_of_label.values() for story in label_stories]
    assert len(stories) == len(set(stories)), "different stories never share a story id"
