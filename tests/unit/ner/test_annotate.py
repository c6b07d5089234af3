"""spaCy annotation: sentences never cross lines, entities point at their text and sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

from newsmon.services.dedupe.fingerprint import first_of_story
from newsmon.services.fetcher.files import read_articles
from newsmon.services.ner.annotate import ModelNotInstalled, enrich, load_pipeline
from newsmon.shared.settings import Settings


@pytest.fixture(scope="module")
def nlp() -> Language:
    return load_pipeline(Settings(_env_file=None).spacy_model)


def test_entities_and_sentences_have_consistent_offsets(nlp: Language, sample_dir: Path) -> None:
    article = first_of_story(read_articles(sample_dir / "002_d327a6ada714b97a.txt")[0])
    (enriched,) = enrich(nlp, [article])
    assert enriched.model.version == "3.8.0"
    for sentence in enriched.sentences:
        assert "\n" not in enriched.text[sentence.start:sentence.end]
    for entity in enriched.mentions:
        assert enriched.text[entity.start:entity.end] == entity.text
        sentence = enriched.sentences[entity.sentence]
        assert sentence.start <= entity.start and entity.end <= sentence.end
    people = {entity.text for entity in enriched.mentions if entity.label == "PERSON"}
    assert {"Antony Blinken", "Benjamin Netanyahu"} <= people


def test_batches_keep_article_order(nlp: Language, sample_dir: Path) -> None:
    articles = [first_of_story(read_articles(path)[0]) for path in sorted(sample_dir.glob("*.txt"))]
    assert [e.article_id for e in enrich(nlp, articles, batch_size=2)] == [a.article_id for a in articles]


def test_unknown_model_name_is_a_clear_error() -> None:
    with pytest.raises(ModelNotInstalled, match="NEWSMON_SPACY_MODEL"):
        load_pipeline("en_no_such_model")
