"""What an alert tells its reader: why it fired, about which story, and how late."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from services.alerter.alert_content import build_alert
from services.alerter.rule_engine.matching import compile_rules, evaluate
from services.alerter.rule_engine.rules import load_rules
from shared.article_ids import alert_id
from shared.schemas import Alert, EnrichedArticle, Mention, ModelInfo, Sentence

FETCHED = datetime(2026, 1, 5, 12, 0, 0, tzinfo=timezone.utc)
TEXT = "Talks resumed in Cairo. Troops moved on Rafah, Israel said. Aid is blocked."


def enriched(article_id: str = "copy-1", story_id: str = "story-1") -> EnrichedArticle:
    return EnrichedArticle(
        article_id=article_id, story_id=story_id, content_hash="h", text=TEXT, title="Rafah", source="wire",
        url=f"https://example.org/{article_id}", fetched_at=FETCHED,
        sentences=[Sentence(start=0, end=23), Sentence(start=24, end=59), Sentence(start=60, end=75)],
        mentions=[Mention(text="Cairo", label="GPE", start=17, end=22, sentence=0, canonical="Cairo"),
                  Mention(text="Rafah", label="GPE", start=40, end=45, sentence=1, canonical="Rafah"),
                  Mention(text="Israel", label="GPE", start=47, end=53, sentence=1, canonical="Israel")],
        entities=[], model=ModelInfo(name="t", version="0"),
    )


def rafah_alert(article: EnrichedArticle) -> Alert:
    (match,) = evaluate(compile_rules(load_rules(None)), article)
    return build_alert(match, article, fired_at=FETCHED + timedelta(seconds=2.5))


def test_the_alert_explains_which_words_of_which_sentence_fired_the_rule() -> None:
    alert = rafah_alert(enriched())
    assert (alert.rule_id, alert.rule_name) == ("rafah", "Any Rafah mention")
    [sentence] = alert.sentences
    assert sentence.text == "Troops moved on Rafah, Israel said."
    assert [TEXT[start:end] for start, end in sentence.matches] == ["Rafah"]
    assert [mention.canonical for mention in alert.mentions] == ["Rafah", "Israel"], "only the matched sentence's"


def test_the_alert_names_the_article_and_its_latency() -> None:
    alert = rafah_alert(enriched())
    assert (alert.article_id, alert.url, alert.title, alert.source) == (
        "copy-1", "https://example.org/copy-1", "Rafah", "wire")
    assert alert.fetched_at == FETCHED and alert.latency_s == 2.5


def test_every_copy_of_a_story_gets_the_same_alert_id() -> None:
    first, copy = rafah_alert(enriched("a", "story-9")), rafah_alert(enriched("b", "story-9"))
    assert first.alert_id == copy.alert_id == alert_id("rafah", "story-9")
    assert first.alert_id != rafah_alert(enriched("c", "story-10")).alert_id


def test_the_published_schema_documents_the_latency() -> None:
    properties = Alert.model_json_schema(mode="serialization")["properties"]
    assert {"latency_s", "fetched_at", "fired_at", "sentences", "mentions", "story_id"} <= set(properties)
