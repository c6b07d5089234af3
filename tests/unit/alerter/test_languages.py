"""Rules on news in other languages: names in every script, event conditions on French parses, and
what an event condition does in a language without a parser.

Sentences are written for these tests; articles go through the real ner core (French pipeline,
blank pipelines) with the language their source declares.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from itertools import count

import pytest

from newsmon.offline import OfflineNer
from services.alerter.rule_engine.article_words import ArticleWords
from services.alerter.rule_engine.events.languages import configured_event_languages
from services.alerter.rule_engine.matching import CompiledRule, compile_rules, evaluate
from services.alerter.rule_engine.rules import RuleFileError, load_rules, parse_rules
from shared.schemas import EnrichedArticle, RawArticle
from shared.settings import get_settings

Enrich = Callable[[str, str], EnrichedArticle]
PUBLISHED = datetime(2024, 6, 4, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def enrich() -> Enrich:
    numbers = count()
    ner = OfflineNer(get_settings())

    def enriched(text: str, language: str) -> EnrichedArticle:
        [result] = ner.enrich([RawArticle(article_id=f"l{next(numbers)}", text=text, source="test",
                                          published_at=PUBLISHED, language=language)])
        return result

    return enriched


def shipped(rule_id: str) -> CompiledRule:
    return next(rule for rule in compile_rules(load_rules(None)) if rule.rule.id == rule_id)


def fired(rule: CompiledRule, article: EnrichedArticle) -> bool:
    return bool(evaluate([rule], article))


def rejected(rule: CompiledRule, article: EnrichedArticle) -> list[str]:
    return [finding.rejected or "" for finding in rule.rejected_events(ArticleWords(article))]


@pytest.mark.parametrize(("text", "action", "target"), [
    ("L'Union européenne a adopté lundi de nouvelles sanctions contre l'Iran.", "adopté", "l'Iran"),
    ("Les Vingt-Sept ont décidé de nouvelles sanctions visant les Gardiens de la révolution.", "décidé",
     "les Gardiens de la révolution"),
    ("Le Canada va imposer des sanctions supplémentaires à l'Iran, a annoncé la ministre.", "imposer", "l'Iran"),
    ("Des sanctions ont été imposées mercredi à l'encontre de Téhéran par l'Australie.", "imposées", "Téhéran"),
    ("Bruxelles prend de nouvelles sanctions contre des responsables iraniens.", "prend",
     "des responsables iraniens"),
])
def test_french_news_of_new_sanctions_on_iran_fires_with_its_event(
        enrich: Enrich, text: str, action: str, target: str) -> None:
    article = enrich(text, "fr")
    assert article.language == "fr"
    [match] = evaluate([shipped("iran-sanctions")], article)
    [event] = (match.events or [])[:1]
    assert event.target is not None and event.target.text == target
    assert event.action.text in (action, "nouvelles")
    assert text[event.action.start:event.action.end] == event.action.text


@pytest.mark.parametrize(("text", "reason"), [
    ("Les sanctions imposées à l'Iran en 2018 ont fait chuter ses exportations.", "background"),
    ("Depuis que Washington a imposé des sanctions à l'Iran, le rial s'est effondré.", "background"),
    ("En 2019, l'Union européenne a adopté des sanctions contre les services iraniens.", "past"),
    ("Les discussions sur la levée des nouvelles sanctions contre l'Iran reprendront à Oman.", "relief"),
    ("Le président a menacé l'Iran de nouvelles sanctions si les inspections ne reprenaient pas.", ""),
    ("Les Européens brandissent la menace de nouvelles sanctions contre l'Iran.", "intended"),
    ("Des pétroliers livrent du brut iranien malgré les nouvelles sanctions américaines.", "evasion"),
    ("Un réseau de sociétés aidait l'Iran à contourner les nouvelles sanctions.", "evasion"),
    ("L'Union européenne n'a pas adopté de nouvelles sanctions contre l'Iran.", "negated"),
    ("L'Union européenne a adopté de nouvelles sanctions contre la Russie en raison des drones iraniens.", "target"),
])
def test_french_background_past_relief_threats_and_evasion_do_not_fire(
        enrich: Enrich, text: str, reason: str) -> None:
    rule = shipped("iran-sanctions")
    article = enrich(text, "fr")
    assert not fired(rule, article)
    assert any(found.startswith(reason) for found in rejected(rule, article)), rejected(rule, article)


def test_a_rule_gives_its_own_words_for_a_language(enrich: Enrich) -> None:
    rule_yaml = """rules:
  - id: embargo
    name: Arms embargo
    sentence:
      event:
        action: [impose]
        object: [arms embargo]
        target: {aliases: iran}
        languages:
          fr: {action: [décréter], object: [embargo sur les armes]}
"""
    [rule] = compile_rules(parse_rules(rule_yaml, "watch.yaml"))
    assert fired(rule, enrich("L'ONU a décrété un embargo sur les armes contre l'Iran.", "fr"))
    assert not fired(rule, enrich("L'ONU a imposé un embargo sur les armes contre l'Iran.", "fr")), \
        "the rule's French words replace the inherited ones"


def test_a_language_without_a_lexicon_is_refused_with_what_to_do() -> None:
    rule_yaml = """rules:
  - id: r
    name: R
    sentence: {event: {action: [impose], object: [sanction], languages: {es: {action: [imponer]}}}}
"""
    with pytest.raises(RuleFileError, match="no event lexicon for language 'es' .known: fr.; .* use terms and near"):
        parse_rules(rule_yaml, "watch.yaml")


def test_without_a_parser_an_event_condition_never_holds_but_names_still_match(enrich: Enrich) -> None:
    spanish = enrich("La Unión Europea aprobó el lunes nuevas sanciones contra Irán por los drones.", "es")
    assert spanish.ner_mode == "patterns_only"
    assert not fired(shipped("iran-sanctions"), spanish)
    assert rejected(shipped("iran-sanctions"), spanish) == []
    [rule] = compile_rules(parse_rules(
        "rules:\n  - id: r\n    name: R\n    sentence: {all: [{aliases: iran}, sanciones NEAR/3 nuevas]}\n", "w.yaml"))
    assert fired(rule, spanish), "terms, near and alias sets work in every language"


@pytest.mark.parametrize(("language", "text"), [
    ("fr", "Des camions d'aide attendaient au point de passage de Rafah, dans le sud de la bande de Gaza."),
    ("es", "Miles de familias huyeron de Rafah el martes tras una noche de bombardeos."),
    ("de", "Israelische Truppen sind am Dienstag weiter in Rafah vorgerückt."),
    ("ar", "وفي رفح، قال مسؤولون محليون إن الغارات استمرت طوال الليل."),
    ("ar", "قال شهود إن الدبابات تقدمت برفح من جهة الشرق."),
    ("he", "הצבא הישראלי נכנס לרפיח ביום שלישי בבוקר."),
])
def test_rafah_fires_in_its_own_spelling_and_script(enrich: Enrich, language: str, text: str) -> None:
    article = enrich(text, language)
    assert fired(shipped("rafah"), article)
    assert "Rafah" in {entity.name for entity in article.entities}


@pytest.mark.parametrize(("language", "text"), [
    ("es", "Rafa Nadal se impuso en tres sets y avanzó a los cuartos de final en Madrid."),
    ("es", "El entrenador confirmó que Rafa no jugará la Copa Davis este año."),
    ("ar", "هبطت طائرة الركاب في مطار رفحاء شمال السعودية بعد رحلة قصيرة."),
    ("ar", "قال رفحي إن الطريق مغلق منذ الصباح."),
])
def test_look_alikes_of_rafah_do_not_fire(enrich: Enrich, language: str, text: str) -> None:
    assert not fired(shipped("rafah"), enrich(text, language))


def test_entity_conditions_match_the_canonical_name_in_any_language(enrich: Enrich) -> None:
    [rule] = compile_rules(parse_rules("rules:\n  - id: r\n    name: R\n    sentence: {entity: Iran}\n", "w.yaml"))
    for language, text in (("ar", "وأدانت إيران العملية العسكرية بشدة."), ("de", "Irans Regierung protestierte."),
                           ("he", "ואיראן גינתה את המבצע.")):
        assert fired(rule, enrich(text, language)), text


def test_the_french_parser_loads_only_when_a_french_sentence_needs_it(enrich: Enrich) -> None:
    french = configured_event_languages()["fr"]
    english = enrich("Britain imposed new sanctions on Iran on Monday.", "en")
    parses = french.parser.parses
    assert fired(shipped("iran-sanctions"), english)
    assert french.parser.parses == parses, "an English article is not parsed by the French pipeline"
