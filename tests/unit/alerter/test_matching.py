"""Rule matching on enriched articles: words, inflections, phrases, and the same-sentence condition."""

from __future__ import annotations

from services.alerter.rule_engine.matching import compile_rules, evaluate
from services.alerter.rule_engine.rules import load_rules
from shared.schemas import EnrichedArticle, ModelInfo, Sentence


def article(*sentences: str) -> EnrichedArticle:
    text = " ".join(sentences)
    spans, start = [], 0
    for sentence in sentences:
        spans.append(Sentence(start=start, end=start + len(sentence)))
        start += len(sentence) + 1
    return EnrichedArticle(article_id="a1", story_id="a1", content_hash="h", text=text, source="test",
                           sentences=spans, mentions=[], entities=[], model=ModelInfo(name="t", version="0"))


def fired(*sentences: str) -> dict[str, list[str]]:
    rules = compile_rules(load_rules(None))
    return {match.rule.id: [s.text for s in match.sentences] for match in evaluate(rules, article(*sentences))}


def test_new_sanctions_on_iran_fire_in_any_inflection() -> None:
    assert "iran-sanctions" in fired("The EU imposed fresh sanctions on Iran on Monday.")
    assert "iran-sanctions" in fired("Washington is sanctioning Tehran again, with additional measures.")
    assert "iran-sanctions" in fired("Britain announced a new round of sanctions on Iran's drone makers.")


def test_iran_sanctions_needs_all_three_in_one_sentence() -> None:
    assert fired("Sanctions on Iran remain in place.") == {}
    assert fired("Iran held talks.", "New sanctions hit Russia.") == {}


def test_whole_words_only() -> None:
    assert fired("The Iranians met.", "Sanctioned goods were new.") == {}
    assert fired("Rafah's crossing was closed.") == {"rafah": ["Rafah's crossing was closed."]}
    assert fired("Rafahville is fictional.") == {}


def test_match_offsets_point_at_the_matched_words() -> None:
    rules = compile_rules(load_rules(None))
    item = article("Troops moved on Rafah.", "Aid reached RAFAH today.")
    (match,) = evaluate(rules, item)
    assert [item.text[start:end] for s in match.sentences for start, end in s.matches] == ["Rafah", "RAFAH"]


def test_rafah_look_alikes_do_not_fire() -> None:
    for name in ("Rafa", "Rafael", "Raffa", "Rafha", "Raphael", "Rafah-like"):
        fires = "rafah" in fired(f"{name} was in the news.")
        assert fires == (name == "Rafah-like"), name
