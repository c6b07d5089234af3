"""Constructions sanctions news uses all the time: lists, Iran named in the reason, multiword objects.

Each is a general reading of English, checked here on sentences written for these tests (the
labelled set, ``labelled/rules.jsonl``, has others): a listing ("added five officials to the list
of persons subject to restrictive measures"), a reason or description that names the target as
an actor ("for helping Tehran", "accused of buying Iranian crude", not "accused of smuggling
Iranian weapons"), a multiword object the tagger misreads ("asset freezes" as a verb), and a
participle read as the sentence's verb.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from services.alerter.rule_engine.aliases import load_aliases
from services.alerter.rule_engine.events.object_phrases import ObjectPhrase, parse_with_phrases
from services.alerter.rule_engine.events.parse_repairs import repaired
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, SpacySentenceParser
from services.alerter.rule_engine.matching import compile_rules
from services.alerter.rule_engine.rules import parse_rules
from shared.settings import get_settings
from tests.unit.alerter.conftest import Enrich, events, iran_sanctions, one_rule, rejections

LISTING_RULE = """
      event:
        action: [impose, adopt]
        object: [sanction, restrictive measure, asset freeze]
        target: {aliases: iran}"""


@pytest.mark.parametrize(("text", "action", "target"), [
    ("The Council added five Iranian officials to the list of persons subject to restrictive measures on Tuesday.",
     "added", "five Iranian officials"),
    ("Twelve Iranian entities were added to the EU's list of those subject to an asset freeze.",
     "added", "Twelve Iranian entities"),
    ("Britain listed six commanders of the Quds Force under its sanctions regime.",
     "listed", "six commanders of the Quds Force"),
    ("Canada extended its list of people subject to sanctions to cover 14 more members of Iran's security forces.",
     "extended", "14 more members of Iran's security forces"),
    ("EU governments today included seven more Iranian officials in the list of those facing an asset freeze.",
     "included", "seven more Iranian officials"),
])
def test_a_listing_is_news_of_sanctions_on_whom_it_adds(enrich: Enrich, text: str, action: str, target: str) -> None:
    [event] = events(iran_sanctions(), enrich, text)
    assert (event.kind, event.action.text, event.target.text if event.target else None) == ("verb", action, target)


@pytest.mark.parametrize("text", [
    "Iran's state shipping line has been on the EU list of entities subject to an asset freeze since 2012.",
    "The list of people subject to the British travel ban now includes 300 Iranian officials.",
    "Washington removed an Iranian airline from its sanctions list after the company changed owners.",
    "The EU renewed its restrictive measures against Iran's human rights violators for another twelve months.",
])
def test_being_on_a_list_or_leaving_it_is_not_news(enrich: Enrich, text: str) -> None:
    assert events(iran_sanctions(), enrich, text) == []


def test_listing_verbs_are_the_rules_to_change(enrich: Enrich) -> None:
    text = "The Council added five Iranian officials to the list of persons subject to restrictive measures."
    [event] = events(one_rule(LISTING_RULE), enrich, text)
    assert event.action.text == "added", "listing verbs by default, though the rule's actions do not name add"
    assert not events(one_rule(LISTING_RULE + "\n        listing: []"), enrich, text)
    assert events(one_rule(LISTING_RULE + "\n        listing: [add]"), enrich, text)


@pytest.mark.parametrize(("text", "target"), [
    ("Canada imposed sanctions on three Chinese firms for selling drone engines to Tehran.",
     "for selling drone engines to Tehran"),
    ("The U.S. sanctioned a Lebanese money exchanger for moving funds on behalf of the IRGC.",
     "for moving funds on behalf of the IRGC"),
    ("The EU imposed sanctions on three Russian entities in view of Iran's transfer of ballistic missiles to Moscow.",
     "in view of Iran's transfer of ballistic missiles to Moscow"),
    ("Sanctions unveiled by Britain on Monday hit six companies accused of helping Tehran buy drone parts.",
     "accused of helping Tehran buy drone parts"),
    ("The Treasury designated two Emirati firms under its Iran-related sanctions authorities.", "Iran-related"),
])
def test_another_party_is_sanctioned_on_irans_account_when_iran_is_named_as_an_actor(
        enrich: Enrich, text: str, target: str) -> None:
    [event] = events(iran_sanctions(), enrich, text)[:1]
    assert event.target is not None and event.target.text == target


@pytest.mark.parametrize(("text", "target"), [
    ("The Treasury sanctioned a Greek shipowner accused of transporting Iranian crude to Syria.",
     "accused of transporting Iranian crude to Syria"),
    ("Britain sanctioned two Emirati firms that ship Iranian petrochemicals to China.",
     "that ship Iranian petrochemicals to China"),
    ("The U.S. imposed sanctions on a Panamanian tanker operator for carrying Iranian crude oil to China.",
     "for carrying Iranian crude oil to China"),
])
def test_buying_or_shipping_irans_oil_and_petrochemicals_is_sanctioned_on_irans_account(
        enrich: Enrich, text: str, target: str) -> None:
    """The shipped ``iran`` set names Iran's export sectors as phrases; a phrase names the target even
    where the tagger reads its words as adjectives ("Iranian crude oil")."""
    [event] = events(iran_sanctions(), enrich, text)[:1]
    assert event.target is not None and event.target.text == target


@pytest.mark.parametrize("text", [
    "The U.S. sanctioned two Iraqi militia leaders for attacks on American troops using Iranian-made rockets.",
    "Washington sanctioned a Belarusian logistics firm for smuggling Iranian drones to Russia.",
    "Britain sanctioned an Indian shipping company after Iranian attacks on commercial vessels.",
])
def test_other_iranian_goods_in_the_reason_leave_the_sanctions_on_whoever_was_sanctioned(
        enrich: Enrich, text: str) -> None:
    assert events(iran_sanctions(), enrich, text) == []
    assert any(rejected.startswith("target: not among") for rejected in rejections(iran_sanctions(), enrich, text))


def test_a_watch_names_more_goods_as_phrases_of_any_alias_set(enrich: Enrich, tmp_path: Path) -> None:
    extra = tmp_path / "aliases.yaml"
    extra.write_text("aliases:\n  russia: [Russian oil]\n")
    rule = parse_rules("""rules:
  - id: r
    name: R
    sentence:
      event:
        action: [impose]
        object: [sanction]
        target: {aliases: russia}
""", "watch.yaml")
    text = "Britain sanctioned four Turkish companies for shipping Russian oil above the price cap."
    [shipped] = compile_rules(rule)
    assert events(shipped, enrich, text) == []
    [with_phrase] = compile_rules(rule, aliases=load_aliases(extra))
    [event] = events(with_phrase, enrich, text)
    assert event.target is not None and event.target.text == "for shipping Russian oil above the price cap"


def test_a_nationality_of_two_words_is_still_a_nationality(enrich: Enrich) -> None:
    rule = one_rule("""
      event:
        action: [impose]
        object: [sanction]
        target: {aliases: north-korea}""")
    assert not events(rule, enrich, "The U.S. sanctioned two Chinese firms accused of smuggling North Korean weapons.")
    assert events(rule, enrich, "The U.S. sanctioned two Chinese firms for helping Pyongyang sell weapons.")


def test_a_reason_names_the_target_of_any_alias_set(enrich: Enrich) -> None:
    rule = one_rule("""
      event:
        action: [impose]
        object: [sanction]
        target: {aliases: russia}""")
    assert events(rule, enrich, "Britain sanctioned four Turkish companies for helping Moscow obtain missile parts.")
    assert not events(rule, enrich, "Britain sanctioned four Turkish companies for smuggling Russian oil.")


@pytest.mark.parametrize(("text", "obj", "target"), [
    ("The UK has imposed asset freezes and travel bans on eight members of Iran's judiciary.", "asset freezes",
     "eight members of Iran's judiciary"),
    ("Australia announces travel bans on Iranian officials behind the crackdown.", "travel bans", "Iranian officials"),
    ("The EU adopted restrictive measures against Iran's Islamic Revolutionary Guard Corps on Monday.",
     "restrictive measures", "Iran's Islamic Revolutionary Guard Corps"),
])
def test_a_multiword_object_is_read_as_one_noun(enrich: Enrich, text: str, obj: str, target: str) -> None:
    [event] = events(iran_sanctions(), enrich, text)[:1]
    assert (event.object.text, event.target.text if event.target else None) == (obj, target)


def test_any_rules_multiword_object_is_read_as_one_noun(enrich: Enrich) -> None:
    rule = one_rule("""
      event:
        action: [impose, announce]
        object: [export control]
        target: {aliases: iran}""")
    [event] = events(rule, enrich, "Washington announced export controls on Iranian drone makers.")
    assert (event.action.text, event.object.text) == ("announced", "export controls")


def test_the_parse_sees_the_phrase_as_one_noun_at_its_place_in_the_sentence() -> None:
    sentence = "Canberra imposed travel bans and asset freezes on nine officials."
    phrases = (ObjectPhrase(17, 28, "travel ban"), ObjectPhrase(33, 46, "asset freeze"))
    parse = parse_with_phrases(SpacySentenceParser(get_settings().spacy_model), sentence, phrases)
    assert parse.text == sentence
    assert all(sentence[token.start:token.end] == token.text for token in parse.tokens)
    merged = {token.text: (token.lemma, token.pos, token.dep) for token in parse.tokens if " " in token.text}
    assert merged == {"travel bans": ("travel ban", "NOUN", "dobj"), "asset freezes": ("asset freeze", "NOUN", "conj")}


class WhitespaceParser:
    """Splits on spaces, every word a noun of its own; records what it was asked to parse."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def __call__(self, sentence: str) -> ParsedSentence:
        self.texts.append(sentence)
        tokens, start = [], 0
        for index, word in enumerate(sentence.split(" ")):
            tokens.append(ParsedToken(index, start, start + len(word), word, word.lower(), "NOUN", "NN", "dep", 0))
            start += len(word) + 1
        return ParsedSentence(sentence, tuple(tokens))


def test_a_phrase_the_tokenizer_does_not_keep_whole_is_parsed_as_written() -> None:
    parser = WhitespaceParser()
    sentence = "EU-style asset-freezes hit"
    parse = parse_with_phrases(parser, sentence, (ObjectPhrase(9, 22, "asset freeze"),))
    assert parser.texts == ["EU-style penalties hit"]
    assert [token.text for token in parse.tokens] == ["EU-style", "asset-freezes", "hit"]
    parse = parse_with_phrases(parser, "xasset freezes", (ObjectPhrase(1, 14, "asset freeze"),))
    assert parser.texts[-2:] == ["xpenalties", "xasset freezes"], "a stand-in glued to a word: parsed as written"
    assert [token.text for token in parse.tokens] == ["xasset", "freezes"]


def test_a_participle_read_as_the_verb_is_repaired(enrich: Enrich) -> None:
    text = "Sanctions unveiled by Britain on Monday hit six Iranian drone makers."
    [event] = events(iran_sanctions(), enrich, text)
    assert (event.action.text, event.target.text if event.target else None) == ("hit", "six Iranian drone makers")
    described = "background: 'unveiled' is in a clause describing 'Sanctions'"
    assert rejections(iran_sanctions(), enrich, text) == [described]


def parse_of(words: list[tuple[str, str, str, int]]) -> ParsedSentence:
    """A parse from (text, tag, dependency, head) per word, for shapes a model may or may not produce."""
    tokens, start = [], 0
    for index, (text, tag, dep, head) in enumerate(words):
        pos = "VERB" if tag.startswith("VB") else "NOUN"
        tokens.append(ParsedToken(index, start, start + len(text), text, text.lower(), pos, tag, dep, head))
        start += len(text) + 1
    return ParsedSentence(" ".join(text for text, *_ in words), tuple(tokens))


def test_the_repair_gives_the_noun_to_the_verb_without_a_subject() -> None:
    misread = parse_of([("Sanctions", "NNS", "nsubj", 1), ("announced", "VBD", "ROOT", 1), ("by", "IN", "agent", 1),
                        ("Britain", "NNP", "pobj", 2), ("hit", "VBD", "ccomp", 1), ("firms", "NNS", "dobj", 4)])
    arcs = [(token.dep, token.head) for token in repaired(misread).tokens]
    assert arcs == [("nsubj", 4), ("acl", 0), ("agent", 1), ("pobj", 2), ("ROOT", 4), ("dobj", 4)]
    said = parse_of([("Britain", "NNP", "nsubj", 1), ("imposed", "VBD", "ccomp", 3), ("officials", "NNS", "nsubj", 3),
                     ("said", "VBD", "ROOT", 3)])
    assert repaired(said) is said, "a clause whose verb has a subject is left alone"
