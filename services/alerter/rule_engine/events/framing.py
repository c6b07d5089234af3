"""How a sentence frames an event: only intended, background to something else, or anchored in today's news.

The English words are data (``news_framing_en.yaml``); this module reads them against the parse:

- ``intended``: the action (or a clause or noun above it, up to the sentence's root) is only
  considered, planned, expected, threatened, vowed, urged or attempted ("is considering new
  sanctions", "officials say the US plans to impose", "calls for sanctions", "appeared poised to
  reimpose"), hypothetical ("would impose", "could face", "if Iran refuses"), set ahead ("within
  weeks"), or the object itself is only that ("proposed sanctions"). A government's "will" ("Japan
  will freeze the assets of ...") and a headline's "to" ("EU to sanction nine Iranians") announce a
  decision and stay news. The walk does not pass above a subject: what a verb says of the sanctions
  ("the new sanctions would fail") is not said of imposing them; a passive subject is what the verb
  acts on ("Stricter sanctions urged"), so the walk passes it;
- ``framed_as_background``: the action is the time or cause another event is told from ("after the
  US reimposed sanctions", "following the decision to reimpose sanctions"), what sanctions already
  known to the reader have been doing ("hit hard by the sanctions", "the sanctions have hit"), a
  former office holder's ("Former President X reimposed ..."), or dated in the past on the verb it
  is coordinated with ("left the deal in 2018 and reimposed sanctions");
- ``refers_back``: "the sanctions" named again ("the additional sanctions are ...", "the sanctions
  will target ..."), news only when the earlier mention was (``node.py`` resolves it);
- ``recently_anchored``: a weekday, "today", "yesterday", "this week", or a date at most
  ``RECENT_DAYS`` before the article, on the action or a clause above it ("said on Tuesday it imposed").
"""

from __future__ import annotations

import re
from datetime import date

from services.alerter.rule_engine.events.constructions import Event
from services.alerter.rule_engine.events.dates import MONTHS, pins_to_past
from services.alerter.rule_engine.events.framing_words import framing_words
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, unique

RECENT_DAYS = 14
_SUBJECTS_NOT_ACTED_ON = frozenset({"nsubj", "csubj"})
_TIME_ATTACHMENTS = frozenset({"npadvmod", "tmod", "prep", "advmod", "nmod", "obl", "pobj", "appos"})
_PERIODS = frozenset({"day", "week", "month", "year"})
_DAY = re.compile(r"^(?:[1-9]|[12]\d|3[01])(?:st|nd|rd|th)?$")


def intended(event: Event, sentence: ParsedSentence, action_lemmas: frozenset[str]) -> str | None:
    """Why the event is only intended or hypothetical ("'considering'", "'would'"), or None."""
    words = framing_words()
    for modifier in sentence.children[event.object_head.index]:  # "proposed sanctions", "possible sanctions"
        if modifier.dep in ("amod", "compound") and modifier.lemma in words.intending:
            return f"'{modifier.text}'"
    action = event.action_head
    for token in _clauses_above(event, sentence):
        word = _word_of(sentence, token)
        if token.index != action.index and (word in words.intending or token.lemma in words.intending) \
                and token.lemma not in action_lemmas:
            return f"'{token.text}'"
        for kid in sentence.children[token.index]:
            if kid.dep in ("aux", "auxpass") and kid.lower in words.modal_auxiliaries \
                    and not _reported_future(sentence, token, kid):
                return f"'{kid.text} {token.text}'"
            if kid.dep == "advmod" and kid.lower in words.hedging_adverbs:
                return f"'{kid.text}'"
            if kid.dep == "mark" and kid.lower in words.conditions:
                return f"'{kid.text} ...'"
            if kid.dep in _TIME_ATTACHMENTS and (ahead := _ahead(sentence.subtree(kid))) is not None:
                return f"'{ahead}'"
    return None


def _ahead(phrase: list[ParsedToken]) -> str | None:
    """A time phrase that lies ahead ("within weeks", "in the coming days", "next month"), as written: a
    phrase of a few words whose nouns are times, not a clause that holds one ("with the texts expected
    within days")."""
    if len(phrase) > 5 or any(token.is_verb for token in phrase):
        return None
    if any(token.lower in framing_words().future_times for token in phrase) and any(
            token.lemma in _PERIODS for token in phrase):
        return " ".join(token.text for token in phrase)
    return None


def framed_as_background(event: Event, sentence: ParsedSentence, published: date) -> str | None:
    """Why the event is background to the sentence's news ("'after ... reimposed'", "'the sanctions' do it",
    "a former president's"), or None."""
    words = framing_words()
    action = event.action_head
    doer = sentence.head(action) if action.dep == "conj" and sentence.head(action) is not None else action
    assert doer is not None
    subjects = [kid for kid in (*sentence.children[action.index], *sentence.children[doer.index])]
    for subject in subjects:  # the subject of the action, or of the verb it is coordinated with
        if subject.dep == "nsubj" and any(kid.lower.rstrip("-") in words.former
                                          for kid in sentence.subtree(subject) if kid.dep in ("amod", "compound")):
            return f"done by a former office holder: '{' '.join(t.text for t in sentence.subtree(subject))}'"
    first = sentence.head(action)
    if action.dep == "conj" and first is not None:  # "pulled out of the deal in 2018 and reimposed sanctions"
        for kid in sentence.children[first.index]:
            phrase = sentence.subtree(kid)
            if kid.dep in _TIME_ATTACHMENTS and kid.index < action.index and pins_to_past(phrase, published):
                return f"past: '{' '.join(token.text for token in phrase)}' on '{first.text}'"
    for token in [event.action_head, *sentence.ancestors(event.action_head)]:
        if token.dep == "prep" and token.lower in words.reference_points:
            return f"'{token.text} ...'"
        for kid in sentence.children[token.index]:
            if kid.dep == "mark" and kid.lower in words.reference_points:
                return f"'{kid.text} ... {token.text}'"
    obj = event.object_head
    if event.kind == "verb" and _in_effect(sentence, obj, event.action_head) and _known(sentence, obj):
        return f"what '{_known_phrase(sentence, obj)}' already in place do"
    return None


def refers_back(event: Event, sentence: ParsedSentence) -> str | None:
    """The object is sanctions already named earlier in the article ("the additional sanctions are in
    response to ...", "the sanctions will target ..."): such a sentence is news only when the earlier
    mention was. None when the event stands on its own."""
    words = framing_words()
    obj = event.object_head
    definite = any(kid.dep in ("det", "poss") and kid.lower in words.known_determiners
                   for kid in sentence.children[obj.index])
    if not definite:
        return None
    if event.kind == "cue" or (event.kind == "verb" and obj.dep == "nsubj" and sentence.head(obj) == event.action_head):
        return f"'{_known_phrase(sentence, obj)}' refers back to sanctions named earlier"
    return None


def recently_anchored(event: Event, sentence: ParsedSentence, published: date) -> bool:
    """True when a present or recent time is said of the action or a clause above it ("on Tuesday",
    "today", "this week", a date at most ``RECENT_DAYS`` before the article)."""
    holders = unique([event.action_head, event.anchor, event.object_head, *sentence.ancestors(event.action_head)])
    for holder in holders:
        for kid in sentence.children[holder.index]:
            if kid.dep in _TIME_ATTACHMENTS and _is_recent(sentence.subtree(kid), published):
                return True
    return any(_is_recent(phrase, published) for phrase in _time_after_subject(event.action_head, sentence))


def _time_after_subject(verb: ParsedToken, sentence: ParsedSentence) -> list[list[ParsedToken]]:
    """Time phrases written between the verb's subject and the verb, which the parser hangs on the subject:
    "EU ministers on Monday added ...", "The United States on Thursday imposed ..."."""
    found = []
    for subject in sentence.children[verb.index]:
        if subject.dep not in ("nsubj", "nsubjpass") or subject.index > verb.index:
            continue
        for kid in sentence.children[subject.index]:
            phrase = sentence.subtree(kid)
            if kid.dep in _TIME_ATTACHMENTS and kid.index > subject.index and phrase[-1].index < verb.index:
                found.append(phrase)
    return found


def _is_recent(phrase: list[ParsedToken], published: date) -> bool:
    words = framing_words()
    lowers = [token.lower.rstrip(".") for token in phrase]
    if any(word in words.weekdays or word in words.recent_anchors for word in lowers):
        return True
    if any(word == "this" and later in words.recent_periods for word, later in zip(lowers, lowers[1:], strict=False)):
        return True
    for position, word in enumerate(lowers):
        if word in MONTHS and phrase[position].pos == "PROPN":
            days = [int(re.sub(r"\D", "", lowers[near])) for near in (position - 1, position + 1)
                    if 0 <= near < len(lowers) and _DAY.match(lowers[near])]
            if days and _within_recent(published, MONTHS[word], days[0]):
                return True
    return False


def _within_recent(published: date, month: int, day: int) -> bool:
    for year in (published.year, published.year - 1):
        try:
            named = date(year, month, day)
        except ValueError:
            return False
        if 0 <= (published - named).days <= RECENT_DAYS:
            return True
    return False


def _clauses_above(event: Event, sentence: ParsedSentence) -> list[ParsedToken]:
    """The action, the object's clause, and the words above them up to the root, not above a subject nor from one
    coordinated verb to another."""
    found: list[ParsedToken] = []
    for start in unique([event.action_head, event.anchor, event.object_head]):
        found.append(start)
        current = start
        for ancestor in sentence.ancestors(start):
            if current.dep in _SUBJECTS_NOT_ACTED_ON or current.dep == "conj":
                break  # what a verb says of its subject, or a coordinated verb ("warned banks and sanctioned ...")
            found.append(ancestor)
            current = ancestor
    return unique(found)


def _reported_future(sentence: ParsedSentence, clause: ParsedToken, auxiliary: ParsedToken) -> bool:
    """ "would" in a clause a verb of saying reports: "announced they would adopt" is their "will adopt"."""
    head = sentence.head(clause)
    return auxiliary.lower == "would" and clause.dep == "ccomp" and head is not None \
        and head.lemma in framing_words().reporting


def _in_effect(sentence: ParsedSentence, obj: ParsedToken, action: ParsedToken) -> bool:
    """The object is what has been doing the action: the agent of its passive ("hit hard by the sanctions"),
    or its subject in a perfect or progressive ("the sanctions have hit"). "The sanctions target five
    firms" says what a measure is aimed at, and stays news."""
    if obj.dep == "nsubj" and sentence.head(obj) == action:
        return any(kid.dep == "aux" and kid.lemma in ("have", "be") for kid in sentence.children[action.index])
    by = sentence.head(obj)
    return obj.dep == "pobj" and by is not None and by.dep == "agent" and sentence.head(by) == action


def _known(sentence: ParsedSentence, obj: ParsedToken) -> bool:
    words = framing_words()
    kids = sentence.children[obj.index]
    return any(kid.dep in ("det", "amod", "poss") and kid.lower in words.known_determiners for kid in kids) \
        and not any(kid.dep == "amod" and kid.lower not in words.known_determiners for kid in kids)


def _known_phrase(sentence: ParsedSentence, obj: ParsedToken) -> str:
    return " ".join(token.text for token in sentence.subtree(obj, keep=lambda kid: kid.dep in ("det", "amod", "poss")))


def _word_of(sentence: ParsedSentence, token: ParsedToken) -> str:
    particles = [kid.lower for kid in sentence.children[token.index] if kid.dep == "prt"]
    return f"{token.lemma} {particles[0]}" if particles else token.lemma
