"""What an alert tells its reader: why it fired, about which story, and how late."""

from __future__ import annotations

import json
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


def test_an_event_rule_says_who_did_what_to_whom() -> None:
    text = "Markets were calm. Britain imposed new sanctions on Iran's drone makers on Monday."
    article = enriched().model_copy(update={
        "text": text, "sentences": [Sentence(start=0, end=18), Sentence(start=19, end=len(text))], "mentions": []})
    [match] = evaluate(compile_rules(load_rules(None)), article)
    alert = build_alert(match, article)
    assert alert.rule_id == "iran-sanctions"
    [event] = alert.events or []
    assert (event.sentence, event.kind) == (text[19:], "verb")
    assert (event.action.text, event.object.text, event.target and event.target.text) == (
        "imposed", "sanctions", "Iran's drone makers")
    assert event.target is not None and text[event.target.start:event.target.end] == "Iran's drone makers"
    assert Alert.model_validate_json(alert.model_dump_json()) == alert


def test_events_are_absent_for_rules_without_them_and_optional_for_readers() -> None:
    alert = rafah_alert(enriched())
    assert alert.events is None
    older = json.loads(alert.model_dump_json(exclude={"events"}))
    assert Alert.model_validate(older).events is None, "an alert from before the field still validates"
    assert "events" not in Alert.model_json_schema(mode="validation").get("required", [])
