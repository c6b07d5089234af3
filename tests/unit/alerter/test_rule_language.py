"""The watch-rule language on small articles: terms and case, entities, groups, proximity, filters, counts."""

from __future__ import annotations

import re

import pytest

from services.alerter.rule_engine.matching import compile_rules, evaluate
from services.alerter.rule_engine.rules import RuleFileError, parse_rules
from shared.schemas import EnrichedArticle, Mention, ModelInfo, Sentence


def article(*sentences: str, entities: dict[str, tuple[str, str]] | None = None, source: str = "test",
            url: str | None = None, tags: list[str] | None = None) -> EnrichedArticle:
    """Sentences joined by spaces; ``entities`` maps a written form to (canonical name, label)."""
    text = " ".join(sentences)
    spans, start = [], 0
    for sentence in sentences:
        spans.append(Sentence(start=start, end=start + len(sentence)))
        start += len(sentence) + 1
    mentions: list[Mention] = []
    for written, (canonical, label) in sorted((entities or {}).items(), key=lambda item: -len(item[0])):
        for found in re.finditer(re.escape(written), text):
            if any(found.start() < other.end and other.start < found.end() for other in mentions):
                continue  # part of a longer mention
            index = next(i for i, span in enumerate(spans) if span.start <= found.start() < span.end)
            mentions.append(Mention(text=written, label=label, start=found.start(), end=found.end(), sentence=index,
                                    canonical=canonical))
    mentions.sort(key=lambda mention: mention.start)
    return EnrichedArticle(article_id="a1", story_id="a1", content_hash="h", text=text, source=source, url=url,
                           tags=tags or [], sentences=spans, mentions=mentions, entities=[],
                           model=ModelInfo(name="t", version="0"))


def rule(body: str, extra: str = "") -> str:
    return f"rules:\n  - id: r\n    name: R\n{extra}    sentence: {body}\n"


def fires(rule_yaml: str, item: EnrichedArticle) -> list[str] | None:
    """The matched words of each matched sentence, or None when the rule does not fire."""
    matches = evaluate(compile_rules(parse_rules(rule_yaml, "watch.yaml")), item)
    if not matches:
        return None
    (match,) = matches
    return [" ".join(item.text[start:end] for start, end in sentence.matches) for sentence in match.sentences]


def test_terms_match_their_inflections_in_any_case_by_default() -> None:
    yaml_text = rule("{all: [{any: [sanction]}, {any: [ban]}]}")
    assert fires(yaml_text, article("SANCTIONED firms face a banning order.")) == ["SANCTIONED banning"]
    assert fires(yaml_text, article("Sanctions and bans.")) == ["Sanctions bans"]
    assert fires(yaml_text, article("Sanctimonious banter.")) is None


def with_lemmas(item: EnrichedArticle, **lemma_of: str) -> EnrichedArticle:
    """``item`` with the lemma the ner stage gives each occurrence of the named words."""
    lemmas = sorted((found.start(), lemma) for word, lemma in lemma_of.items()
                    for found in re.finditer(rf"\b{word}\b", item.text))
    return item.model_copy(update={"lemmas": lemmas})


def test_terms_match_words_whose_lemma_they_are_in_phrases_too() -> None:
    text = "Britain BOUGHT drones and ramped up patrols."
    item = with_lemmas(article(text), BOUGHT="buy", drones="drone", ramped="ramp", patrols="patrol")
    assert fires(rule("{any: [buy]}"), item) == ["BOUGHT"]
    assert fires(rule("{any: [ramp up]}"), item) == ["ramped up"]
    assert fires(rule("{all: [buy, {near: [drone, patrol], within: 3}]}"), item) == ["BOUGHT drones patrols"]
    assert fires(rule("{any: [buy]}"), article(text)) is None, "without lemmas, regular inflections only"
    assert fires(rule("{any: [{term: buy, case: sensitive}]}"), item) is None, "as written, when case matters"


def test_a_lemma_counts_only_where_the_ner_stage_gave_it() -> None:
    text = "The left wing left early."
    item = with_lemmas(article(text), left="leave")  # both occurrences, then the adjective taken back out
    item = item.model_copy(update={"lemmas": [pair for pair in item.lemmas if pair[0] != text.index("left")]})
    assert fires(rule("{any: [leave]}"), item) == ["left"]
    (match,) = evaluate(compile_rules(parse_rules(rule("{any: [leave]}"), "watch.yaml")), item)
    assert match.sentences[0].matches == [(text.rindex("left"), text.rindex("left") + 4)]


def test_case_sensitive_terms_tell_acronyms_from_words() -> None:
    sensitive = rule("{any: [{term: US, case: sensitive}]}")
    assert fires(sensitive, article("Talks with the US resumed.")) == ["US"]
    assert fires(sensitive, article("Let us talk.")) is None
    assert fires(rule("{any: [US]}", "    case: sensitive\n"), article("Let us talk.")) is None
    assert fires(rule("{any: [US]}"), article("Let us talk.")) == ["us"]


def test_a_group_case_applies_to_its_terms_and_a_term_can_override_it() -> None:
    yaml_text = rule("{all: [{any: [Apple], case: sensitive}, {any: [{term: iphone, case: insensitive}]}]}")
    assert fires(yaml_text, article("Apple shipped the iPhone.")) == ["Apple iPhone"]
    assert fires(yaml_text, article("An apple and an iPhone.")) is None


def test_phrases_inflect_their_last_word() -> None:
    yaml_text = rule("{any: [ramp up, arms embargo]}")
    assert fires(yaml_text, article("They ramped up pressure.")) is None
    assert fires(yaml_text, article("They ramp ups pressure, with arms embargoes.")) == ["ramp ups arms embargoes"]


def test_entities_by_canonical_name_and_label() -> None:
    item = article("Blinken met Netanyahu in Jerusalem.", "Antony Blinken left.",
                   entities={"Antony Blinken": ("Antony Blinken", "PERSON"), "Blinken": ("Antony Blinken", "PERSON"),
                             "Netanyahu": ("Benjamin Netanyahu", "PERSON"), "Jerusalem": ("Jerusalem", "GPE")})
    assert fires(rule("{entity: Antony Blinken}"), item) == ["Blinken", "Antony Blinken"]
    assert fires(rule("{entity: blinken}"), item) == ["Blinken", "Antony Blinken"], "a written form finds the entity"
    assert fires(rule("{label: GPE}"), item) == ["Jerusalem"]
    assert fires(rule("{entity: Jerusalem, label: PERSON}"), item) is None
    assert fires(rule("{all: [{entity: [Benjamin Netanyahu, Isaac Herzog], label: PERSON}, {label: GPE}]}"), item) == [
        "Netanyahu Jerusalem"]


def test_all_any_none_groups_nest() -> None:
    yaml_text = rule("{all: [{any: [Rafah, Khan Younis]}, {none: [{any: [football, match]}]}]}")
    assert fires(yaml_text, article("Strikes hit Rafah.")) == ["Rafah"]
    assert fires(yaml_text, article("Rafah football club won the match.")) is None
    assert fires(yaml_text, article("Rafah football club won.", "Shelling near Khan Younis.")) == ["Khan Younis"]


def test_same_sentence_versus_whole_article() -> None:
    item = article("Iran held talks.", "New sanctions were imposed.")
    assert fires(rule("{all: [Iran, sanction]}"), item) is None
    whole = "rules:\n  - id: r\n    name: R\n    article: {all: [Iran, sanction]}\n"
    assert fires(whole, item) == ["Iran", "sanctions"]


def test_an_article_condition_can_exclude_while_the_sentence_condition_fires() -> None:
    yaml_text = rule("{any: [Rafah]}") + "    article: {none: [football]}\n"
    assert fires(yaml_text, article("Strikes hit Rafah.", "Aid is blocked.")) == ["Rafah"]
    assert fires(yaml_text, article("Strikes hit Rafah.", "The football season stopped.")) is None


def test_near_counts_the_words_between() -> None:
    yaml_text = rule("{near: [sanction, Iran], within: 2}")
    assert fires(yaml_text, article("Sanctions against Iran.")) == ["Sanctions Iran"]
    assert fires(yaml_text, article("Iran faces sanctions.")) == ["Iran sanctions"], "in either order"
    assert fires(yaml_text, article("Sanctions were extended against Iran.")) is None
    assert fires(rule('"sanction NEAR/3 Iran"'), article("Sanctions were extended against Iran.")) == [
        "Sanctions Iran"]


def test_near_works_on_groups_and_entities() -> None:
    item = article("Blinken said Israel must not enter Rafah without a plan.",
                   entities={"Blinken": ("Antony Blinken", "PERSON"), "Israel": ("Israel", "GPE")})
    assert fires(rule("{near: [{label: PERSON}, {any: [said, warned]}], within: 0}"), item) == ["Blinken said"]
    assert fires(rule("{near: [{entity: Israel}, {any: [Rafah, Gaza]}], within: 2}"), item) is None
    assert fires(rule("{near: [{entity: Israel}, {any: [Rafah, Gaza]}], within: 3}"), item) == ["Israel Rafah"]


def test_cue_words_are_a_group_tied_to_the_topic() -> None:
    yaml_text = rule("{all: [{any: [Iran, Tehran]}, "
                     "{near: [sanction, {any: [new, impose, fresh, expand]}], within: 3}]}")
    assert fires(yaml_text, article("The EU imposed fresh sanctions on Iran.")) == ["imposed fresh sanctions Iran"]
    assert fires(yaml_text, article("New talks on Iran began while old sanctions remain.")) is None


def test_minimum_mentions_count_the_whole_article() -> None:
    item = article("Rafah was shelled.", "Aid to Rafah stopped.", "Gaza is cut off.")
    assert fires(rule("{any: [{term: Rafah, min_mentions: 2}]}"), item) == ["Rafah", "Rafah"]
    assert fires(rule("{any: [{term: Rafah, min_mentions: 3}]}"), item) is None
    assert fires(rule("{any: [Rafah, Gaza], min_mentions: 3}"), item) == ["Rafah", "Rafah", "Gaza"]
    named = article("Israel and Egypt met.", "Israel agreed.",
                    entities={"Israel": ("Israel", "GPE"), "Egypt": ("Egypt", "GPE")})
    assert fires(rule("{entity: Israel, min_mentions: 2}"), named) == ["Israel", "Israel"]
    assert fires(rule("{entity: Egypt, min_mentions: 2}"), named) is None


def test_source_and_tag_filters() -> None:
    item = article("Rafah crossing closed.", source="https://feeds.reuters.com/world", url="https://reuters.com/a",
                   tags=["world", "mideast"])
    assert fires(rule("{any: [Rafah]}", "    sources: [reuters.com]\n"), item) == ["Rafah"]
    assert fires(rule("{any: [Rafah]}", "    sources: ['https://feeds.*/world']\n"), item) == ["Rafah"]
    assert fires(rule("{any: [Rafah]}", "    sources: [apnews.com]\n"), item) is None
    assert fires(rule("{any: [Rafah]}", "    tags: [MidEast, sport]\n"), item) == ["Rafah"]
    assert fires(rule("{any: [Rafah]}", "    tags: [sport]\n"), item) is None


def test_disabled_rules_are_not_loaded() -> None:
    assert parse_rules(rule("{any: [x]}", "    enabled: false\n"), "watch.yaml") == []


def test_cooldown_durations() -> None:
    for written, seconds in (("90", 90), ("30s", 30), ("10m", 600), ("2h", 7200), ("1d", 86400)):
        (parsed,) = parse_rules(rule("{any: [x]}", f"    cooldown: {written}\n"), "watch.yaml")
        assert parsed.cooldown == seconds


@pytest.mark.parametrize(
    ("body", "extra", "expected"),
    [
        ("{any: [x]}", "    cooldown: soon\n", "rule 'r': field cooldown: 'soon' is not a duration"),
        ("{any: [x]}", "    case: upper\n", "rule 'r': field case: Input should be 'sensitive' or 'insensitive'"),
        ("{none: [x]}", "", "rule 'r': field sentence: must match some term or entity"),
        ("{near: [x], within: 2}", "", "rule 'r': field sentence.near: List should have at least 2 items"),
        ("{near: [x, y]}", "", "rule 'r': field sentence.within: Field required"),
        ("{near: [x, y], within: -1}", "", "rule 'r': field sentence.within: Input should be greater than or equal"),
        ("{label: PEOPLE}", "", "rule 'r': field sentence.label: unknown entity label 'PEOPLE'"),
        ("{entity: []}", "", "rule 'r': field sentence: an entity condition needs a name (entity) or a label"),
        ("{all: [x, '!!']}", "", "rule 'r': field sentence.all.1: term '!!' has no word characters"),
        ("{all: [x, {any: [y, {term: z, min_mentions: 0}]}]}", "",
         "rule 'r': field sentence.all.1.any.1.min_mentions: Input should be greater than or equal to 1"),
        ("{all: [x, 7]}", "", "rule 'r': field sentence.all.1: expected a term or a mapping with any, all, none"),
    ],
)
def test_mistakes_are_named_by_file_rule_and_field(body: str, extra: str, expected: str) -> None:
    with pytest.raises(RuleFileError) as error:
        parse_rules(rule(body, extra), "watch.yaml")
    assert str(error.value).startswith("watch.yaml: ")
    assert expected in str(error.value)


def test_a_rule_needs_a_sentence_or_an_article_condition() -> None:
    with pytest.raises(RuleFileError, match="rule 'r': field sentence: Field required"):
        parse_rules("rules:\n  - id: r\n    name: R\n", "watch.yaml")
    with pytest.raises(RuleFileError, match="rule 'r': field <rule>: `article` must match some term"):
        parse_rules("rules:\n  - id: r\n    name: R\n    article: {none: [x]}\n", "watch.yaml")
