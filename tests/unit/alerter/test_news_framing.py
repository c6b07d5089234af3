"""Fire on the news, not on its background (issue #23): intention, background framing, the article-level
scope, and how far a link from a sanctioned party to Iran may reach.

Sentences are written for these tests; the real check is ``tests/real_reporting`` (``rules eval --texts``).
"""

from __future__ import annotations

import pytest

from services.alerter.rule_engine.matching import evaluate
from tests.unit.alerter.conftest import Enrich, events, iran_sanctions, one_rule, rejections

BODY = ("Officials in several capitals spent the morning talking about shipping routes, oil prices and the "
        "weather over the Gulf, which has been calm for weeks now.\n"
        "Markets in Asia opened lower and traders said they were waiting for more signals from central banks "
        "before making any large moves this quarter.\n"
        "Farmers in the north said the late rains had delayed the harvest by two weeks and raised the price "
        "of feed for their herds.\n")


@pytest.mark.parametrize(("text", "why"), [
    ("The United States is considering additional sanctions against Iran, officials said.", "'considering'"),
    ("Officials say Washington plans to impose new sanctions on Iran in the coming days.", "'plans'"),
    ("Lawmakers called for tougher sanctions on Iran after the attack.", "'called'"),
    ("Senators urged the White House to impose new sanctions on Iran.", "'urged'"),
    ("The White House is expected to impose additional sanctions on Iranian entities.", "'expected'"),
    ("European leaders appeared poised to reimpose sanctions on Tehran.", "'poised'"),
    ("The president vowed to impose fresh sanctions on Iran.", "'vowed'"),
    ("A new law would impose sanctions on Iran's central bank.", "'would impose'"),
    ("Iran could face new sanctions over the missile test.", "'could face'"),
    ("Iran faces fresh sanctions within weeks.", "'within weeks'"),
    ("Proposed new sanctions on Iranian airlines were discussed in Brussels.", "'Proposed'"),
    ("The UK has the power to impose sanctions on Iranians who threaten dissidents.", "'power'"),
    ("EU experts provisionally agreed to impose sanctions on four Iranian officials.", "'provisionally'"),
])
def test_what_is_only_intended_or_hypothetical_does_not_fire(enrich: Enrich, text: str, why: str) -> None:
    assert events(iran_sanctions(), enrich, text) == []
    assert any(reason.startswith("intended: ") and why in reason
               for reason in rejections(iran_sanctions(), enrich, text)), rejections(iran_sanctions(), enrich, text)


@pytest.mark.parametrize("text", [
    "Japan will freeze the assets of twelve Iranian firms, the government spokesman said.",
    "The European Union and Canada announced yesterday they would adopt new sanctions on Iran.",
    "EU to sanction nine Iranian entities over drone deliveries",
    "Iran said the new sanctions imposed on its oil ministry on Monday would fail.",
    "The Treasury warned foreign banks on Tuesday and sanctioned five Iranian firms.",
])
def test_a_decision_announced_for_the_future_is_news(enrich: Enrich, text: str) -> None:
    assert events(iran_sanctions(), enrich, text), rejections(iran_sanctions(), enrich, text)


def test_intended_can_be_allowed_by_a_watch_on_threats(enrich: Enrich) -> None:
    rule = one_rule("""
      event:
        action: [impose]
        object: [sanction]
        target: [Iran]
        allow: [intended]""")
    assert events(rule, enrich, "The United States plans to impose new sanctions on Iran.")


@pytest.mark.parametrize(("text", "why"), [
    ("Oil prices rose after Washington reimposed sanctions on Iran.", "'after ... reimposed'"),
    ("Following the decision to reimpose sanctions on Iran, exporters left the market.", "'Following ...'"),
    ("Iran's car makers have been hit hard by the sanctions on Iran.", "already in place"),
    ("Former President Trump reimposed sanctions on Iran.", "former office holder"),
    ("The US left the deal in 2018 and reimposed sanctions on Iran.", "past: 'in 2018'"),
])
def test_background_framing_does_not_fire(enrich: Enrich, text: str, why: str) -> None:
    assert events(iran_sanctions(), enrich, text) == []
    assert any(why in reason for reason in rejections(iran_sanctions(), enrich, text)), \
        rejections(iran_sanctions(), enrich, text)


def test_a_new_sanctions_regime_is_a_framework_not_new_sanctions(enrich: Enrich) -> None:
    assert events(iran_sanctions(), enrich, "Britain to target Iranian officials with a new sanctions regime") == []


def test_sanctions_imposed_by_iran_are_not_sanctions_on_iran(enrich: Enrich) -> None:
    text = "Tehran imposed sanctions on ten US officials over interference in Iran's internal affairs."
    assert events(iran_sanctions(), enrich, text) == []
    assert any("is the one who acts" in reason for reason in rejections(iran_sanctions(), enrich, text))


def test_the_sanctions_named_again_are_news_only_when_first_reported_as_news(enrich: Enrich) -> None:
    planned = ("Washington is expected to impose additional sanctions on Iranian entities.\n"
               "The additional sanctions are a response to Iran's missile test on Sunday.")
    assert events(iran_sanctions(), enrich, planned) == []
    reported = ("The Treasury on Tuesday imposed sanctions on an Iraqi militia group.\n"
                "The sanctions also target an official of the IRGC who trains its fighters.")
    assert events(iran_sanctions(), enrich, reported)


def test_the_sanctions_named_again_after_a_mere_mention_are_the_ledes(enrich: Enrich) -> None:
    text = ("The United States imposed sanctions on Friday on six members of a militia in Iraq.\n" + BODY
            + "Those targeted by the sanctions include an officer who worked with Iran's Revolutionary Guard.\n"
            "The sanctions also target an official of the Quds Force who trains the militia's fighters.")
    [event] = events(iran_sanctions(), enrich, text)
    assert event.scope == "lede"


def test_the_sanctions_after_a_mere_mention_of_sanctions_in_place_are_not_news(enrich: Enrich) -> None:
    text = ("Iran's oil exports rose in March despite US sanctions, tanker trackers said.\n"
            "The sanctions target Iran's oil sales and the ships that carry them.")
    assert events(iran_sanctions(), enrich, text) == []
    first = "The latest US sanctions target twelve firms that run Iran's drone engine production."
    assert events(iran_sanctions(), enrich, first), "a first mention is the story itself"


def test_scope_lede_keeps_the_lede_and_anchored_sentences_and_drops_undated_background(enrich: Enrich) -> None:
    undated = BODY + "Shipping lines changed course.\nBritain imposed sanctions on Iran's oil minister."
    assert events(iran_sanctions(), enrich, undated) == []
    assert any(reason.startswith("scope: ") for reason in rejections(iran_sanctions(), enrich, undated))
    anchored = BODY + "Britain imposed sanctions on Iran's oil minister on Tuesday."
    [event] = events(iran_sanctions(), enrich, anchored)
    assert event.scope == "anchored"
    lede = "Britain imposed sanctions on Iran's oil minister.\n" + BODY
    [event] = events(iran_sanctions(), enrich, lede)
    assert event.scope == "headline"
    two_paragraphs = "".join(BODY.splitlines(keepends=True)[:2])
    third = two_paragraphs + "Britain imposed sanctions on Iran's oil minister, the foreign office said in a statement."
    [event] = events(iran_sanctions(), enrich, third)
    assert event.scope == "lede"


@pytest.mark.parametrize(("scope", "fires"), [("anywhere", True), ("headline", False), ("lede", False)])
def test_the_scope_is_an_option_of_the_event_condition(enrich: Enrich, scope: str, fires: bool) -> None:
    rule = one_rule(f"""
      event:
        action: [impose]
        object: [sanction]
        target: [Iran]
        scope: {scope}""")
    found = events(rule, enrich, BODY + "Britain imposed sanctions on Iran's oil minister.")
    assert bool(found) is fires
    if fires:
        assert found[0].scope == scope


@pytest.mark.parametrize("text", [
    "The Treasury imposed new sanctions yesterday targeting five entities and one individual for supporting "
    "the Iranian drone program.",
    "The US on Thursday took aim at Iran's shadow fleet of tankers, imposing sanctions on 29 vessels.",
    "A new round of sanctions targets a refinery and ships that are part of Iran's shadow fleet.",
    "Britain sanctioned four shipping firms on Monday, saying they carried Iranian crude to Syria.",
    "The US has imposed sanctions on six people and three companies it says have ties to Iran's Revolutionary "
    "Guard Corps.",
    "The UK announced a new round of sanctions aimed at cutting off the networks that fund Iran's militias.",
    "The Council decided to expand the scope of its sanctions framework, given Iran's support for the war.",
    "Ministers today widened the legal framework for restrictive measures in view of Iran's drone deliveries.",
    "Canada expanded its restrictive measures on Tuesday to counter Tehran's supply of missiles.",
    "The Treasury is countering Iran's weapons trade by designating a network of brokers on Friday.",
])
def test_a_party_linked_to_iran_in_the_same_sentence_is_on_iran(enrich: Enrich, text: str) -> None:
    assert events(iran_sanctions(), enrich, text), rejections(iran_sanctions(), enrich, text)


@pytest.mark.parametrize("text", [
    # The link does not reach the next sentence: it may be a place, a reaction or another story.
    "The Treasury imposed new sanctions on five companies on Tuesday.\nThe companies operate in Iran and Turkey.",
    "The Treasury imposed sanctions on seven Lebanese nationals it said were tied to the Iran-backed Hezbollah.",
    "Washington imposed sanctions on two Houthi leaders accused of smuggling Iranian weapons.",
])
def test_a_party_not_linked_to_iran_in_its_own_sentence_is_not(enrich: Enrich, text: str) -> None:
    assert events(iran_sanctions(), enrich, text) == []


@pytest.mark.parametrize("text", [
    # An active past verb with its object is the sentence's verb, not a participle describing the subject.
    "The Treasury Department on Thursday sanctioned members of a network that officials say helps fund Iran's "
    "Revolutionary Guard Corps.",
    "The Council is reinstating a wide range of restrictive measures against Iran, it said on Monday.",
    "The State Department said on Friday it had hit ministers, generals and prison officers of Iran with visa "
    "restrictions.",
    "The United States imposed visa bans on Iranian officials on Wednesday.",
    "EU foreign ministers agreed on new sanctions against Iranian drone makers on Monday.",
])
def test_shapes_of_the_object_real_reports_use(enrich: Enrich, text: str) -> None:
    assert events(iran_sanctions(), enrich, text), rejections(iran_sanctions(), enrich, text)


@pytest.mark.parametrize(("text", "fires"), [
    ("The Treasury sanctioned 12 tankers and their managers on Thursday.\nThe move is aimed at Iran's oil exports.",
     True),
    ("Canada imposed sanctions on six shipping firms on Monday.\nThe sanctions respond to Tehran's drone deliveries.",
     True),
    # The parties pointed back at with a demonstrative and the event's own noun for them.
    ("The Treasury sanctioned 12 tankers on Thursday.\nThese tankers carried cargo for Iran's navy.", True),
    ("On Tuesday the Treasury imposed sanctions on nine people and firms for funding the Houthis.\n"
     "These people and firms moved money earned from sales of Iranian commodities.", True),
    # The party named with "the", another noun after a demonstrative, a place, or a sentence further on: no link.
    ("The Treasury sanctioned 12 tankers on Thursday.\nThe tankers carried cargo for Iran's navy.", False),
    ("The Treasury sanctioned 12 tankers on Thursday.\nThese ports served Iran's navy.", False),
    ("The Treasury sanctioned 12 tankers on Thursday.\nThese tankers often call at ports in Iran.", False),
    ("On Tuesday the Treasury imposed sanctions on nine people and firms for funding the Houthis.\n"
     "Those people smuggled Iranian weapons to Yemen.", False),
    ("The Treasury sanctioned 12 tankers on Thursday.\nThe move was discussed at length in Tehran.", False),
    ("The Treasury sanctioned 12 tankers on Thursday.\nPort officials counted the ships.\n"
     "The move is aimed at Iran's oil exports.", False),
])
def test_the_link_reaches_the_next_sentence_only_through_the_measure_or_the_parties_pointed_back_at(
        enrich: Enrich, text: str, fires: bool) -> None:
    assert bool(events(iran_sanctions(), enrich, text)) is fires, rejections(iran_sanctions(), enrich, text)


@pytest.mark.parametrize(("text", "fires"), [
    ("The United States on March 20 sanctioned a refinery that bought Iranian crude.", True),
    ("Last month the United States sanctioned a refinery that bought Iranian crude.", False),
    ("In 2019 the United States sanctioned a refinery that bought Iranian crude, records show from 2024.", False),
])
def test_an_undated_article_is_dated_by_its_text_and_a_month_alone_says_nothing(
        enrich: Enrich, text: str, fires: bool) -> None:
    article = enrich(text, None)
    assert bool(evaluate([iran_sanctions()], article)) is fires


def test_a_caption_ending_with_its_credit_is_not_a_paragraph_of_the_lede(enrich: Enrich) -> None:
    text = ("Britain targets Iranian officials\n"
            "The foreign secretary spoke to reporters in London about the crackdown on protests across Iran on "
            "Monday (Photo: Staff/Agency)\n"
            "The foreign secretary spoke again at length about the crackdown on protests in the country, saying "
            "more had to be done.\n"
            "Britain has announced a fresh round of sanctions on Iranian officials over the crackdown.")
    [event] = events(iran_sanctions(), enrich, text)
    assert event.scope == "lede"


@pytest.mark.parametrize(("text", "fires"), [
    ("The decision will see asset freezes and travel bans imposed on twelve Iranian judges.", True),
    ("Today's step sees new sanctions imposed on Iran's shipping line.", True),
    ("The report examines the sanctions imposed on Iran's shipping line in 2012.", False),
    ("Analysts saw little effect from the sanctions imposed on Iran's shipping line years ago.", False),
])
def test_a_noun_and_participle_under_see_are_the_news_not_a_description(
        enrich: Enrich, text: str, fires: bool) -> None:
    assert bool(events(iran_sanctions(), enrich, text)) == fires, rejections(iran_sanctions(), enrich, text)


@pytest.mark.parametrize(("text", "fires"), [
    ("The Treasury announced on Friday the implementation of new sanctions on Iran's oil ministry.", True),
    ("EU ministers on Monday approved the introduction of sanctions on five Iranian prison officials.", True),
    ("Exporters are struggling with the implementation of sanctions on Iran, a survey found.", False),
    ("The implementation of the sanctions on Iran has been uneven since 2019.", False),
])
def test_a_verb_acts_on_sanctions_through_a_noun_of_putting_them_in_place(
        enrich: Enrich, text: str, fires: bool) -> None:
    assert bool(events(iran_sanctions(), enrich, text)) == fires, rejections(iran_sanctions(), enrich, text)


@pytest.mark.parametrize(("text", "fires"), [
    ("The Council on Tuesday added six Iranian judges to its travel ban and asset freeze list.", True),
    ("Ottawa put four Iranian firms on its asset freeze and travel ban list on Friday.", True),
    ("The Council on Tuesday removed six Iranian judges from its travel ban and asset freeze list.", False),
    ("Lawyers for Iranian judges added to a travel ban and asset freeze list in 2019 filed an appeal.", False),
])
def test_a_list_named_by_two_coordinated_measures_is_a_list(enrich: Enrich, text: str, fires: bool) -> None:
    assert bool(events(iran_sanctions(), enrich, text)) == fires, rejections(iran_sanctions(), enrich, text)


@pytest.mark.parametrize(("sentence", "fires"), [
    ("Diplomats in Brussels on Wednesday added nine Iranian officials to the sanctions list.", True),
    ("The United States on Thursday imposed sanctions on three Iranian oil brokers.", True),
    ("Diplomats in Brussels added nine Iranian officials to the sanctions list.", False),
    ("Ministers who met on Wednesday recalled that the bloc added nine Iranian officials to the sanctions list.",
     False),
])
def test_a_time_phrase_between_the_subject_and_the_verb_anchors_the_verb(
        enrich: Enrich, sentence: str, fires: bool) -> None:
    text = BODY + "Shipping lines changed course.\n" + sentence
    assert bool(events(iran_sanctions(), enrich, text)) == fires, rejections(iran_sanctions(), enrich, text)


@pytest.mark.parametrize(("text", "fires"), [
    ("Iran's oil minister met oil traders on Sunday.\n"
     "Canada on Monday imposed new sanctions on the country's oil ministry.", True),
    ("Iran tested a new missile last week.\nThe European Union on Monday imposed new sanctions on the country.", True),
    ("Russia bought drones from Iran last year.\nThe European Union on Monday imposed new sanctions on the country.",
     False),
    ("Canada on Monday imposed new sanctions on the country's oil ministry.", False),
])
def test_the_country_stands_for_the_target_only_when_no_other_place_was_named_before(
        enrich: Enrich, text: str, fires: bool) -> None:
    assert bool(events(iran_sanctions(), enrich, text)) == fires, rejections(iran_sanctions(), enrich, text)
