"""Canonical names: one entity, one name, however the article writes it."""

from __future__ import annotations

from services.ner.canonical import FoundMention, canonical_mentions, clean_name, summarize


def found(text: str, *spans: tuple[str, str], sentence_of: dict[str, int] | None = None) -> list[FoundMention]:
    """Mentions of ``(surface, label)`` pairs at their successive occurrences in ``text``."""
    mentions, cursor = [], 0
    for surface, label in spans:
        start = text.index(surface, cursor)
        cursor = start + len(surface)
        mentions.append(FoundMention(surface, label, start, cursor, (sentence_of or {}).get(surface, 5)))
    return mentions


def test_titles_possessives_and_articles_are_not_part_of_the_name() -> None:
    assert clean_name("U.S. Secretary of State Antony Blinken", "PERSON") == "Antony Blinken"
    assert clean_name("Prime Minister of Israel Benjamin Netanyahu", "PERSON") == "Benjamin Netanyahu"
    assert clean_name("Canadian Minister of Foreign Affairs Melanie Joly", "PERSON") == "Melanie Joly"
    assert clean_name("Netanyahu's", "PERSON") == "Netanyahu"
    assert clean_name("Blinken’s", "PERSON") == "Blinken"
    assert clean_name("Hamas'", "ORG") == "Hamas"
    assert clean_name("the Gaza Strip", "GPE") == "Gaza Strip"
    assert clean_name("Ursula von der Leyen", "PERSON") == "Ursula von der Leyen"
    assert clean_name("the end of the week", "DATE") == "the end of the week"
    assert clean_name("Secretary of State", "PERSON") == ""


def test_short_forms_take_the_longest_name_of_the_same_person() -> None:
    text = ("U.S. Secretary of State Antony Blinken met Benjamin Netanyahu. Blinken said Netanyahu's "
            "government agreed. BLINKEN left.")
    mentions = canonical_mentions(found(text, ("U.S. Secretary of State Antony Blinken", "PERSON"),
                                        ("Benjamin Netanyahu", "PERSON"), ("Blinken", "PERSON"),
                                        ("Netanyahu's", "PERSON"), ("BLINKEN", "PERSON")), text)
    assert [(m.text, m.canonical) for m in mentions] == [
        ("U.S. Secretary of State Antony Blinken", "Antony Blinken"),
        ("Benjamin Netanyahu", "Benjamin Netanyahu"),
        ("Blinken", "Antony Blinken"),
        ("Netanyahu's", "Benjamin Netanyahu"),
        ("BLINKEN", "Antony Blinken"),
    ]
    for mention in mentions:
        assert text[mention.start:mention.end] == mention.text


def test_an_ambiguous_short_form_keeps_its_own_name() -> None:
    text = "Joe Biden and Jill Biden arrived. Biden spoke."
    mentions = canonical_mentions(found(text, ("Joe Biden", "PERSON"), ("Jill Biden", "PERSON"),
                                        ("Biden", "PERSON")), text)
    assert [m.canonical for m in mentions] == ["Joe Biden", "Jill Biden", "Biden"]


def test_short_forms_of_places_are_not_folded_into_people() -> None:
    text = "Israel Katz visited Israel."
    mentions = canonical_mentions(found(text, ("Israel Katz", "PERSON"), ("Israel", "GPE")), text)
    assert [(m.canonical, m.label) for m in mentions] == [("Israel Katz", "PERSON"), ("Israel", "GPE")]


def test_words_of_a_title_are_not_entities_but_the_country_is() -> None:
    text = "US Secretary of State Blinken and US Defence Secretary Lloyd Austin met at the Department of Defence."
    mentions = canonical_mentions(found(
        text, ("US", "GPE"), ("State", "ORG"), ("Blinken", "PERSON"), ("US", "GPE"), ("Defence", "ORG"),
        ("Lloyd Austin", "PERSON"), ("the Department of Defence", "ORG"),
    ), text)
    assert [(m.text, m.canonical, m.label) for m in mentions] == [
        ("US", "US", "GPE"), ("Blinken", "Blinken", "PERSON"), ("US", "US", "GPE"),
        ("Lloyd Austin", "Lloyd Austin", "PERSON"), ("the Department of Defence", "Department of Defence", "ORG"),
    ]


def test_one_name_gets_the_label_most_of_its_mentions_have() -> None:
    text = "Rafah was shelled. Rafah is crowded. People fled Rafah."
    mentions = canonical_mentions(found(text, ("Rafah", "GPE"), ("Rafah", "PERSON"), ("Rafah", "GPE")), text)
    assert {m.label for m in mentions} == {"GPE"}


def test_summary_counts_mentions_and_weighs_title_and_lead() -> None:
    text = "Blinken lands in Cairo. " + "Filler sentence. " * 5 + "Cairo talks. Antony Blinken, Cairo, Cairo."
    spans = [("Blinken", "PERSON"), ("Cairo", "GPE"), ("Cairo", "GPE"), ("Antony Blinken", "PERSON"),
             ("Cairo", "GPE"), ("Cairo", "GPE"), ("Friday", "DATE")]
    text += " Friday."
    mentions = canonical_mentions(found(text, *spans, sentence_of={"Blinken": 0}), text)
    entities = summarize(mentions, title="Blinken goes to Egypt")
    assert [(e.name, e.label, e.mentions) for e in entities] == [("Antony Blinken", "PERSON", 2), ("Cairo", "GPE", 4)]
    blinken, cairo = entities
    # Blinken: lead mention 2 + later mention 1 + title 3 = 6; Cairo: 4 later mentions = 4.
    assert (blinken.salience, cairo.salience) == (1.0, round(4 / 6, 3))
    assert blinken.first_start == 0 and blinken.aliases == ["Blinken", "Antony Blinken"]
    assert cairo.first_start == text.index("Cairo")


def test_no_mentions_no_entities() -> None:
    assert canonical_mentions([], "") == []
    assert summarize([], "A title") == []
