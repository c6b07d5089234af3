"""Events in one parsed sentence: an action on an object, found from the dependency parse.

This is the "who did what to whom" half of an event condition, read from the dependency parse
rather than from word distance, in the spirit of event coders such as PETRARCH (CAMEO). An event
is one of these constructions around an object word (``sanction``, ``embargo``, ...):

- ``verb``: an action verb governs the object: "imposed sanctions", "sanctions were imposed",
  "new sanctions hit Iran", "hit Iran with sanctions", "added firms to its sanctions list", and a
  participle or relative clause on the object ("sanctions imposed in 2018", which the news checks
  then reject as background);
- ``noun``: an action noun governs it: "a new round of sanctions", "a sanctions package";
- ``object-verb``: the object word is itself the verb: "the Treasury sanctioned five firms", or a
  two-word object is written as a verb and its object: "froze the assets of" for "asset freeze";
- ``cue``: a cue word modifies the object: "fresh sanctions", "further sanctions".

The phrases naming its target and source are ``event_arguments.py``; whether the event is news
(not background, negated, past, relief or evasion) is ``news_checks.py``; whether its target and
source are the ones a rule wants is ``event_node.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.alerter.rule_engine.article_words import term_lemmas, term_words
from services.alerter.rule_engine.event_arguments import (
    CLAUSES_ON_NOUNS,
    MODIFIER_ROLES,
    EventKind,
    anchor_of,
    event_arguments,
    instrument_verb,
    role_token,
)
from services.alerter.rule_engine.sentence_parse import ParsedSentence, ParsedToken, Phrase
from shared.schemas import WORD

# Newness cues used when an event condition names none.
DEFAULT_CUES = ("new", "fresh", "further", "additional", "more", "latest", "extra", "another", "tougher",
                "wider", "broader", "expanded", "sweeping", "stricter", "harsher")
# How an object relates to the verb that governs it directly.
_GOVERNED_ROLES = frozenset({"dobj", "nsubjpass", "nsubj", "attr", "oprd"})
# Prepositions that link an object to a verb or noun that governs it ("a round of sanctions",
# "added firms to its sanctions list"), by the kind of governor.
_VERB_LINKS = frozenset({"with", "by", "to", "under"})
_NOUN_LINKS = frozenset({"of"})
_PREMODIFIER_ROLES = MODIFIER_ROLES | {"advmod", "det", "nummod", "quantmod"}


@dataclass(frozen=True)
class TermPattern:
    """A term as the accepted forms and the lemma of each of its words, ignoring case."""

    text: str
    forms: tuple[frozenset[str], ...]
    lemmas: tuple[str, ...]

    @classmethod
    def of(cls, term: str) -> TermPattern:
        return cls(term, term_words(term, case_sensitive=False), term_lemmas(term))

    def occurrences(self, sentence: ParsedSentence) -> list[Phrase]:
        """Every run of word tokens (punctuation between them skipped) that spells the term."""
        words = [token for token in sentence.tokens if WORD.search(token.text)]
        length = len(self.forms)
        return [tuple(words[first:first + length]) for first in range(len(words) - length + 1)
                if all(self._fits(words[first + offset], offset) for offset in range(length))]

    def paraphrases(self, sentence: ParsedSentence) -> list[tuple[ParsedToken, ParsedToken]]:
        """(verb, noun) where a two-word compound is written as a verb and its object: "asset freeze" as
        "froze the assets of ...", "travel ban" as "banned travel" (or, passive, "the assets were frozen")."""
        if len(self.forms) != 2:
            return []
        found = []
        for verb in sentence.tokens:
            if verb.is_verb and self._fits(verb, 1):
                found += [(verb, noun) for noun in sentence.children[verb.index]
                          if noun.dep in ("dobj", "nsubjpass") and self._fits(noun, 0)]
        return found

    def _fits(self, token: ParsedToken, offset: int) -> bool:
        return token.lower in self.forms[offset] or token.lemma == self.lemmas[offset]


@dataclass(frozen=True)
class EventWords:
    """The words of one event condition, compiled."""

    actions: tuple[TermPattern, ...]
    objects: tuple[TermPattern, ...]
    cues: tuple[TermPattern, ...]

    @classmethod
    def of(cls, actions: list[str], objects: list[str], cues: list[str] | None) -> EventWords:
        return cls(tuple(map(TermPattern.of, actions)), tuple(map(TermPattern.of, objects)),
                   tuple(map(TermPattern.of, DEFAULT_CUES if cues is None else cues)))

    @property
    def action_lemmas(self) -> frozenset[str]:
        """Every word of the actions: never read as relief or evasion, which the rule asked for."""
        return frozenset(lemma for pattern in self.actions for lemma in pattern.lemmas)


@dataclass(frozen=True)
class Event:
    """One candidate event. ``targets`` are the phrases it is explicitly aimed at ("on Iran", the
    object of "sanctioned"); ``fallback_targets`` (modifiers such as "Iran sanctions", reasons such
    as "over Iran's drones", the subject of "Iran faces new sanctions") count only when there is no
    explicit target (``event_arguments.py``)."""

    kind: EventKind
    action: Phrase
    object: Phrase
    action_head: ParsedToken
    object_head: ParsedToken
    anchor: ParsedToken
    targets: tuple[Phrase, ...]
    fallback_targets: tuple[Phrase, ...]
    sources: tuple[Phrase, ...]


def find_events(sentence: ParsedSentence, words: EventWords) -> list[Event]:
    """Every event of ``words`` in the sentence, in order of the objects; verbs before nouns before cues."""
    actions = _heads(sentence, words.actions)
    cues = _heads(sentence, words.cues)
    events: list[Event] = []
    for pattern in words.objects:
        for found in pattern.occurrences(sentence):
            events.extend(_events_on(sentence, found, actions, cues))
        for verb, noun in pattern.paraphrases(sentence):
            events.append(_event(sentence, "object-verb", (verb,), (noun,), verb))
    return events


def _events_on(sentence: ParsedSentence, found: Phrase, actions: dict[int, Phrase],
               cues: dict[int, Phrase]) -> list[Event]:
    obj = sentence.head_of(found)
    if obj.is_verb and obj.dep not in ("amod", "compound"):  # "sanctioned firms" describes, it does not report
        return [_event(sentence, "object-verb", found, found, obj)]
    role = role_token(sentence, obj)
    governor = sentence.head(role)
    events = []
    if governor is not None and governor.index in actions:
        if role.dep in _GOVERNED_ROLES and governor.is_verb:
            events.append(_event(sentence, "verb", actions[governor.index], found, governor))
        elif role.dep == "compound" and not governor.is_verb:
            events.append(_event(sentence, "noun", actions[governor.index], found, anchor_of(sentence, governor)))
    if governor is not None and role.dep == "pobj" and governor.dep in ("prep", "agent"):
        linked = sentence.head(governor)
        instrument_of = instrument_verb(sentence, role)
        if instrument_of is not None and instrument_of.index in actions:
            events.append(_event(sentence, "verb", actions[instrument_of.index], found, instrument_of))
        elif (linked is not None and linked.index in actions and governor.lower in _VERB_LINKS
              and linked.is_verb):
            events.append(_event(sentence, "verb", actions[linked.index], found, linked))
        elif (linked is not None and linked.index in actions and governor.lower in _NOUN_LINKS
              and not linked.is_verb):
            events.append(_event(sentence, "noun", actions[linked.index], found, anchor_of(sentence, linked)))
    for clause in sentence.children[obj.index]:
        if clause.dep in CLAUSES_ON_NOUNS and clause.index in actions:
            events.append(_event(sentence, "verb", actions[clause.index], found, clause))
    cue = next((token for token in _premodifiers(sentence, obj) if token.index in cues), None)
    if cue is not None:
        events.append(_event(sentence, "cue", cues[cue.index], found, anchor_of(sentence, obj)))
    return events


def _premodifiers(sentence: ParsedSentence, obj: ParsedToken) -> list[ParsedToken]:
    """The words before the object that modify it, however the parser chained them ("New EU
    sanctions" may hang "New" on "EU"); clauses and prepositional phrases are not modifiers."""
    return [token for token in sentence.subtree(obj, keep=lambda kid: kid.dep in _PREMODIFIER_ROLES)
            if token.index < obj.index]


def _heads(sentence: ParsedSentence, patterns: tuple[TermPattern, ...]) -> dict[int, Phrase]:
    """Head token index -> the words of each occurrence of any of the patterns."""
    return {sentence.head_of(found).index: found for pattern in patterns for found in pattern.occurrences(sentence)}


def _event(sentence: ParsedSentence, kind: EventKind, action: Phrase, found: Phrase, anchor: ParsedToken) -> Event:
    arguments = event_arguments(sentence, kind, action, found, anchor)
    return Event(kind=kind, action=action, object=found, action_head=sentence.head_of(action),
                 object_head=sentence.head_of(found), anchor=anchor, targets=arguments.targets,
                 fallback_targets=arguments.fallback_targets, sources=arguments.sources)
