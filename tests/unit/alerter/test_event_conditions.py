"""Event conditions: who did what to whom, read from the sentence's parse, and whether it is news.

Sentences here are written for these tests (the labelled set is ``labelled/rules.jsonl``); articles
go through the real ner core, so lemmas and mentions are the pipeline's.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.alerter.rule_engine.events.node import MAX_PARSED_CHARS
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, SpacySentenceParser
from services.alerter.rule_engine.matching import compile_rules, evaluate
from services.alerter.rule_engine.rules import RuleFileError, load_rules, parse_rules
from shared.settings import get_settings
from tests.unit.alerter.conftest import Enrich, events, iran_sanctions, one_rule, rejections

SANCTIONS_EVENT = """
      event:
        action: [impose, announce, agree, hit, round]
        object: [sanction, embargo, asset freeze]
        target: {aliases: iran}"""


@pytest.mark.parametrize(("text", "kind", "action", "target"), [
    ("The European Union imposed fresh sanctions on Iran on Monday.", "verb", "imposed", "Iran"),
    ("Britain announced a new round of sanctions against Tehran's oil ministry.", "noun", "round",
     "Tehran's oil ministry"),
    ("The Treasury sanctioned two Iranian shipping firms on Thursday.", "object-verb", "sanctioned",
     "two Iranian shipping firms"),
    ("Washington hit the IRGC with sanctions on Wednesday.", "verb", "hit", "the IRGC"),
    ("Further sanctions on the Islamic Republic took effect this week, diplomats said.", "cue", "Further",
     "the Islamic Republic"),
    ("New sanctions were imposed on Iranian drone makers on Friday.", "verb", "imposed", "Iranian drone makers"),
])
def test_new_sanctions_fire_with_the_event_that_explains_them(
        enrich: Enrich, text: str, kind: str, action: str, target: str) -> None:
    [event] = events(iran_sanctions(), enrich, text)[:1]
    assert (event.kind, event.action.text, event.target.text if event.target else None) == (kind, action, target)
    assert event.object.text.lower().startswith("sanction")
    assert text[event.action.start:event.action.end] == event.action.text, "offsets point into the article"


@pytest.mark.parametrize(("text", "reason"), [
    ("Sanctions imposed by Washington have crippled Iran's economy, the central bank said.", "background"),
    ("Iran's currency has collapsed since the United States reimposed sanctions.", "background"),
    ("The refinery was built before the United States imposed sanctions on Iranian crude.", "background"),
    ("The European Union did not impose new sanctions on Iran.", "negated"),
    ("Hungary vetoed fresh sanctions on Iran.", "negated"),
    ("In 2012 the European Union imposed an oil embargo on Iran.", "past"),
    ("Two years ago Canada imposed sanctions on Iranian officials.", "past"),
    ("Talks on lifting the new sanctions on Iran resumed in Vienna.", "relief"),
    ("Iran shipped oil to China despite the new U.S. sanctions.", "evasion"),
    ("The EU imposed new sanctions on Russia over Iranian drones.", "target"),
    ("Iran imposed sanctions on British officials on Monday.", "target"),
])
def test_what_is_not_news_does_not_fire_and_says_why(enrich: Enrich, text: str, reason: str) -> None:
    rule = iran_sanctions()
    assert events(rule, enrich, text) == []
    found = rejections(rule, enrich, text)
    assert found, "the event was found, then rejected"
    assert any(rejected.startswith(reason + ":") for rejected in found), found


def test_a_past_date_is_read_against_the_articles_date(enrich: Enrich) -> None:
    text = "In March the European Union imposed sanctions on Iran's drone makers."
    assert events(iran_sanctions(), enrich, text, datetime(2024, 3, 28, tzinfo=timezone.utc))
    assert not events(iran_sanctions(), enrich, text, datetime(2024, 9, 2, tzinfo=timezone.utc))


def test_allow_past_fires_on_dated_events(enrich: Enrich) -> None:
    text = "In 2012 the European Union imposed an oil embargo on Iran."
    assert not events(one_rule(SANCTIONS_EVENT), enrich, text)
    assert events(one_rule(SANCTIONS_EVENT + "\n        allow: [past]"), enrich, text)


def test_the_rules_own_actions_are_never_read_as_relief(enrich: Enrich) -> None:
    lifted = one_rule("""
      event:
        action: [lift, ease]
        object: [sanction]
        target: {aliases: iran}""")
    [event] = events(lifted, enrich, "The European Union lifted sanctions on three Iranian banks on Monday.")
    assert event.action.text == "lifted"
    assert not events(iran_sanctions(), enrich, "The European Union lifted sanctions on three Iranian banks.")


def test_a_source_must_be_named_by_who_acts(enrich: Enrich) -> None:
    by_the_eu = one_rule(SANCTIONS_EVENT + "\n        source: {aliases: european-union}")
    [event] = events(by_the_eu, enrich, "The European Union imposed sanctions on Iran's shipping line.")
    assert event.source is not None and event.source.text == "The European Union"
    assert not events(by_the_eu, enrich, "Britain imposed sanctions on Iran's shipping line.")


def test_a_target_list_is_short_for_any(enrich: Enrich) -> None:
    rule = one_rule("""
      event:
        action: [impose]
        object: [sanction]
        target: [Venezuela, Caracas]""")
    assert events(rule, enrich, "Washington imposed sanctions on Caracas on Friday.")
    assert not events(rule, enrich, "Washington imposed sanctions on Tehran on Friday.")


def test_cues_make_the_object_news_unless_switched_off(enrich: Enrich) -> None:
    text = "Iran is bracing for further sanctions, analysts said."
    assert [event.action.text for event in events(one_rule(SANCTIONS_EVENT), enrich, text)] == ["further"]
    assert not events(one_rule(SANCTIONS_EVENT + "\n        cue: []"), enrich, text)


def test_a_compound_object_also_matches_its_verb_form(enrich: Enrich) -> None:
    [event] = events(one_rule(SANCTIONS_EVENT), enrich, "Japan froze the assets of four Iranian bankers on Friday.")
    assert (event.kind, event.action.text, event.object.text) == ("object-verb", "froze", "assets")


def test_aliases_name_iran_in_other_ways(enrich: Enrich) -> None:
    for target in ("the Islamic Republic's central bank", "the IRGC navy", "Tehran's morality police"):
        text = f"Britain imposed sanctions on {target} on Tuesday."
        [event] = events(iran_sanctions(), enrich, text)[:1]
        assert event.target is not None and event.target.text == target


def test_a_rule_without_events_explains_nothing(enrich: Enrich) -> None:
    [match] = evaluate([one_rule(" {any: [Rafah]}")], enrich("Aid reached Rafah."))
    assert match.events is None


class CountingParser:
    """The real parser, counting the sentences it is asked to parse."""

    def __init__(self) -> None:
        self.parser = SpacySentenceParser(get_settings().spacy_model)
        self.sentences: list[str] = []

    def __call__(self, sentence: str) -> ParsedSentence:
        self.sentences.append(sentence)
        return self.parser(sentence)


def test_only_sentences_with_the_object_and_the_target_are_parsed(enrich: Enrich) -> None:
    parser = CountingParser()
    [rule] = compile_rules(load_rules(None), parser=parser)[:1]
    article = enrich("Iran held elections on Friday. Turnout was low. The EU imposed sanctions on Russia. "
                     "Officials in Tehran said new sanctions on Iran were unjustified.")
    [match] = evaluate([rule], article)
    assert parser.sentences == ["Officials in Tehran said new sanctions on Iran were unjustified."]
    assert match.events and match.events[0].action.text == "new"
    assert not evaluate([rule], enrich("The EU agreed a new round of sanctions on Russia."))
    assert len(parser.sentences) == 1, "an article without the target's words is skipped before any parse"


@pytest.mark.parametrize(("text", "parsed"), [
    ("SEOUL (Outlet36) — The G7 agreed on Monday to expand sanctions against Iranian banks.",
     "The G7 agreed on Monday to expand sanctions against Iranian banks."),
    ("KYIV, Ukraine (AP) — The EU imposed new sanctions on Iran over drone deliveries.",
     "The EU imposed new sanctions on Iran over drone deliveries."),
    ("LONDON, Nov 28 (Reuters) - Britain announced fresh sanctions against Iran on Monday.",
     "Britain announced fresh sanctions against Iran on Monday."),
    ("NATO said the EU imposed new sanctions on Iran on Monday.",
     "NATO said the EU imposed new sanctions on Iran on Monday."),
])
def test_a_wire_dateline_is_left_out_of_the_parse(enrich: Enrich, text: str, parsed: str) -> None:
    """An unfamiliar agency in a dateline once made the place the root of the lede and hid its verb."""
    parser = CountingParser()
    [rule] = compile_rules(load_rules(None), parser=parser)[:1]
    [match] = evaluate([rule], enrich(text))
    assert parser.sentences == [parsed]
    [event] = match.events or []
    assert text[event.action.start:event.action.end] == event.action.text, "offsets still point into the article"


def test_a_very_long_sentence_is_parsed_up_to_a_cap(enrich: Enrich) -> None:
    parser = CountingParser()
    [rule] = compile_rules(load_rules(None), parser=parser)[:1]
    names = ", ".join(f"Trading Company Number {number}" for number in range(200))
    article = enrich(f"Britain imposed sanctions on Iran's oil ministry and on {names}")
    [match] = evaluate([rule], article)
    assert [len(sentence) for sentence in parser.sentences] == [MAX_PARSED_CHARS]
    assert match.events and match.events[0].target and match.events[0].target.text.startswith("Iran's oil ministry")


def test_a_sentence_is_parsed_once_per_process() -> None:
    parser = SpacySentenceParser(get_settings().spacy_model)
    first = parser("The EU imposed sanctions on Iran.")
    assert parser("The EU imposed sanctions on Iran.") is first
    assert parser.parses == 1


@pytest.mark.parametrize(("condition", "message"), [
    ("{event: {action: [impose], object: [sanction], target: {aliases: irn}}}",
     "watch.yaml: rule 'r': field sentence.event.target.aliases: unknown alias set 'irn'; known: "),
    ("{event: {action: [impose], object: [sanction], allow: [tense]}}",
     "watch.yaml: rule 'r': field sentence.event.allow.0: Input should be 'past', 'relief', 'evasion' or "
     "'intended'"),
    ("{event: {action: [impose], object: [sanction], scope: body}}",
     "watch.yaml: rule 'r': field sentence.event.scope: Input should be 'headline', 'lede' or 'anywhere'"),
    ("{event: {action: [impose]}}", "watch.yaml: rule 'r': field sentence.event.object: Field required"),
    ("{event: {action: [impose], object: [sanction], target: {none: [Iran]}}}",
     "watch.yaml: rule 'r': field sentence.event.target: must match some term, entity or alias"),
])
def test_mistakes_name_the_file_rule_and_field(condition: str, message: str) -> None:
    with pytest.raises(RuleFileError) as raised:
        parse_rules(f"rules:\n  - id: r\n    name: R\n    sentence: {condition}\n", "watch.yaml")
    assert str(raised.value).startswith(message), str(raised.value)
