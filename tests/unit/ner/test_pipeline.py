"""The pipeline: only what NER needs, and watched names that always get their label."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from spacy.language import Language

from services.ner.pipeline import RULER_NAME, SHIPPED_PATTERNS, PatternFileError, load_pipeline, read_patterns
from services.ner.workers import PipelineConfig
from shared.settings import Settings

RAFAH_SENTENCE = "Netanyahu had said his army will also now go into Rafah near the border with Egypt."


def labels(nlp: Language, text: str) -> dict[str, str]:
    return {ent.text: ent.label_ for ent in nlp(text).ents}


def test_only_the_components_ner_and_lemmas_need_run(nlp: Language) -> None:
    assert nlp.pipe_names == ["tok2vec", "tagger", "senter", "attribute_ruler", "lemmatizer", RULER_NAME, "ner"]


def test_watched_names_win_over_the_small_models_guess(nlp: Language) -> None:
    with nlp.select_pipes(disable=[RULER_NAME]):
        assert labels(nlp, RAFAH_SENTENCE)["Rafah"] == "PERSON", "the small model's known mistake"
    assert labels(nlp, RAFAH_SENTENCE) == {"Netanyahu": "PERSON", "Rafah": "GPE", "Egypt": "GPE"}
    assert labels(nlp, "The Houthis fired at ships off RAFAH and Khan Younis.") == {
        "Houthis": "ORG", "RAFAH": "GPE", "Khan Younis": "GPE"}


def test_shipped_patterns_cover_the_default_rules() -> None:
    watched = {(pattern["pattern"], pattern["label"]) for pattern in read_patterns(SHIPPED_PATTERNS)}
    assert {("Rafah", "GPE"), ("Iran", "GPE")} <= watched


def test_extra_patterns_from_the_setting_are_added(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    extra = tmp_path / "watch.jsonl"
    extra.write_text(json.dumps({"label": "ORG", "pattern": "Zorblax Foundation"}) + "\n\n"
                     + json.dumps({"label": "GPE", "pattern": [{"LOWER": "quxville"}]}) + "\n")
    monkeypatch.setenv("NEWSMON_NER_PATTERNS_PATH", str(extra))
    pipelines = PipelineConfig.from_settings(Settings(_env_file=None)).load()
    assert labels(pipelines.primary, "The Zorblax Foundation sent aid to Quxville and Rafah.") == {
        "Zorblax Foundation": "ORG", "Quxville": "GPE", "Rafah": "GPE"}
    spanish = pipelines.for_language("es").nlp
    assert labels(spanish, "La Fundación Zorblax llegó a Quxville.") == {"Quxville": "GPE"}, \
        "every language's pipeline has the extra watched names"


@pytest.mark.parametrize(("content", "problem"), [
    ('{"label": "GPE", "pattern": "Rafah"}\nRafah\n', ":2: not JSON"),
    ('{"pattern": "Rafah"}\n', ":1: field label: Field required"),
    ('{"label": "GPE", "pattern": "Rafah", "colour": "red"}\n', ":1: field colour: Extra inputs"),
    ('{"label": "GPE", "pattern": ""}\n', ":1: field pattern"),
])
def test_a_bad_patterns_file_names_the_file_line_and_field(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(content)
    with pytest.raises(PatternFileError) as error:
        read_patterns(path)
    assert str(error.value).startswith(f"{path}") and problem in str(error.value)


def test_a_bad_token_pattern_or_a_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "tokens.jsonl"
    path.write_text(json.dumps({"label": "GPE", "pattern": [{"SHOUTING": "rafah"}]}) + "\n")
    with pytest.raises(PatternFileError, match=str(path)):
        load_pipeline(Settings(_env_file=None).spacy_model, path)
    with pytest.raises(PatternFileError, match="no-such.jsonl: cannot read"):
        read_patterns(tmp_path / "no-such.jsonl")
