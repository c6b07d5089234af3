"""Events in one parsed sentence: an action on an object, found from the dependency parse.

This is the "who did what to whom" half of an event condition, read from the dependency parse
rather than from word distance, in the spirit of event coders such as PETRARCH (CAMEO). An event
is one of these constructions around an object word (``sanction``, ``embargo``, ...):

- ``verb``: an action verb governs the object: "imposed sanctions", "sanctions were imposed",
  "new sanctions hit Iran", "hit Iran with sanctions", and a participle or relative clause on the
  object ("sanctions imposed in 2018", which the news checks then reject as background); or an
  action or listing verb governs the list or regime the object is reached through ("added eight
  people to the list of those subject to restrictive measures", "listed four firms under its
  sanctions regime", "extended the list of persons subject to an asset freeze", ``lists.py``);
- ``noun``: an action noun governs it: "a new round of sanctions", "a sanctions package";
- ``object-verb``: the object word is itself the verb: "the Treasury sanctioned five firms", or a
  two-word object is written as a verb and its object: "froze the assets of" for "asset freeze";
- ``cue``: a cue word modifies the object: "fresh sanctions", "further sanctions".

The phrases naming its target and source are ``arguments.py``; whether the event is news
(not background, negated, past, relief or evasion) is ``news_checks.py``; whether its target and
source are the ones a rule wants is ``node.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.alerter.rule_engine.article_words import term_lemmas, term_words
from services.alerter.rule_engine.events.arguments import (
    CLAUSES_ON_NOUNS,
    EventKind,
    anchor_of,
    event_arguments,
    instrument_verb,
    role_token,
)
from services.alerter.rule_engine.events.framing_words import framing_words
from services.alerter.rule_engine.events.lists import CONTAINER_LINKS, DEFAULT_LISTING, is_container, listing_verb_above
from services.alerter.rule_engine.events.parties import MODIFIER_ROLES
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, Phrase
from shared.schemas import WORD

# Newness cues used when an event condition names none.
DEFAULT_CUES = ("new", "fresh", "further", "additional", "more", "latest", "extra", "another", "tougher",
                "wider", "broader", "expanded", "sweeping", "stricter", "harsher")
# How an object relates to the verb that governs it directly; a list or regime only as what is acted on.
_GOVERNED_ROLES = frozenset({"dobj", "nsubjpass", "nsubj", "attr", "oprd"})
_GOVERNED_CONTAINER_ROLES = frozenset({"dobj", "nsubjpass"})
# Prepositions that link an object to a verb or noun that governs it ("a round of sanctions",
# "added firms to its sanctions list"), by the kind of governor.
_VERB_LINKS = frozenset({"with", "by", "to", "under", "on"})
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
        """Every run of word tokens (punctuation between them skipped) that spells the term, and every
        token that spells a multiword term alone (``object_phrases.py`` makes *asset freezes* one token)."""
        words = [token for token in sentence.tokens if WORD.search(token.text)]
        length = len(self.forms)
        runs = [tuple(words[first:first + length]) for first in range(len(words) - length + 1)
                if all(self._fits(words[first + offset], offset) for offset in range(length))]
        return runs + [(token,) for token in words if length > 1 and self._spelled_by(token)]

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

    def _spelled_by(self, token: ParsedToken) -> bool:
        written, lemmas = WORD.findall(token.lower), token.lemma.split()
        return len(written) == len(lemmas) == len(self.forms) and all(
            written[offset] in self.forms[offset] or lemmas[offset] == self.lemmas[offset]
            for offset in range(len(self.forms)))


@dataclass(frozen=True)
class EventWords:
    """The words of one event condition, compiled."""

    actions: tuple[TermPattern, ...]
    objects: tuple[TermPattern, ...]
    cues: tuple[TermPattern, ...]
    listing: tuple[TermPattern, ...]

    @classmethod
    def of(cls, actions: list[str], objects: list[str], cues: list[str] | None,
           listing: list[str] | None = None) -> EventWords:
        return cls(tuple(map(TermPattern.of, actions)), tuple(map(TermPattern.of, objects)),
                   tuple(map(TermPattern.of, DEFAULT_CUES if cues is None else cues)),
                   tuple(map(TermPattern.of, DEFAULT_LISTING if listing is None else listing)))

    @property
    def action_lemmas(self) -> frozenset[str]:
        """Every word of the actions: never read as relief or evasion, which the rule asked for."""
        return frozenset(lemma for pattern in self.actions for lemma in pattern.lemmas)


@dataclass(frozen=True)
class Event:
    """One candidate event. ``targets`` are the parties it is explicitly aimed at, in their own words
    ("on Iran", the object of "sanctioned"); ``reasons`` are where a target counts only as an actor
    ("for helping Tehran", "accused of helping Tehran"); ``fallback_targets`` (modifiers such as
    "Iran sanctions", any reason, the subject of "Iran faces new sanctions") count only when there
    is no explicit target (``arguments.py``)."""

    kind: EventKind
    action: Phrase
    object: Phrase
    action_head: ParsedToken
    object_head: ParsedToken
    anchor: ParsedToken
    targets: tuple[Phrase, ...]
    reasons: tuple[Phrase, ...]
    fallback_targets: tuple[Phrase, ...]
    sources: tuple[Phrase, ...]


def find_events(sentence: ParsedSentence, words: EventWords) -> list[Event]:
    """Every event of ``words`` in the sentence, in order of the objects; verbs before nouns before cues."""
    actions = _heads(sentence, words.actions)
    cues = _heads(sentence, words.cues)
    listing = {index: found for index, found in _heads(sentence, words.listing).items()
               if sentence.tokens[index].is_verb}
    events: list[Event] = []
    for pattern in words.objects:
        for found in pattern.occurrences(sentence):
            events.extend(_events_on(sentence, found, actions, cues, listing))
        for verb, noun in pattern.paraphrases(sentence):
            events.append(_event(sentence, "object-verb", (verb,), (noun,), verb))
    return events


def _events_on(sentence: ParsedSentence, found: Phrase, actions: dict[int, Phrase], cues: dict[int, Phrase],
               listing: dict[int, Phrase]) -> list[Event]:
    obj = sentence.head_of(found)
    if obj.is_verb and obj.dep not in ("amod", "compound"):  # "sanctioned firms" describes, it does not report
        return [_event(sentence, "object-verb", found, found, obj)]
    role = role_token(sentence, obj)
    if is_container(role) and role is not obj:
        # Reached through a list or regime: the verb acts on the list ("added ... to the list of those
        # subject to sanctions"), so listing verbs act too, and only on the list as their object.
        return _events_through(sentence, found, role, {**listing, **actions}) + _cue_event(sentence, found, cues)
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
        elif (linked is not None and governor.lower in _NOUN_LINKS and (verb := _putting_in_place(sentence, linked))
              is not None and verb.index in actions):
            events.append(_event(sentence, "verb", actions[verb.index], found, verb))
    for clause in sentence.children[obj.index]:
        if clause.dep in CLAUSES_ON_NOUNS and clause.index in actions:
            events.append(_event(sentence, "verb", actions[clause.index], found, clause))
    return events + _cue_event(sentence, found, cues)


def _events_through(sentence: ParsedSentence, found: Phrase, container: ParsedToken,
                    acting: dict[int, Phrase]) -> list[Event]:
    """A verb acting on the list or regime the object is reached through: as its object ("extended the
    list"), or through a preposition ("added ... to the list", "listed ... under its sanctions regime")."""
    governor = sentence.head(container)
    if governor is None:
        return []
    if container.dep in _GOVERNED_CONTAINER_ROLES and governor.index in acting and governor.is_verb:
        return [_event(sentence, "verb", acting[governor.index], found, governor)]
    linked = sentence.head(governor)
    if container.dep == "pobj" and governor.lower in CONTAINER_LINKS and linked is not None:
        verb = listing_verb_above(sentence, linked, set(acting))
        if verb is not None:
            return [_event(sentence, "verb", acting[verb.index], found, verb)]
    return []


def _putting_in_place(sentence: ParsedSentence, noun: ParsedToken) -> ParsedToken | None:
    """The verb that acts on a noun of putting a measure in place ("announced the implementation of
    targeted sanctions"; ``putting_in_place`` of ``news_framing_en.yaml``): the verb is the action. The
    noun alone is not ("banks struggle with the implementation of sanctions" is enforcement)."""
    verb = sentence.head(noun)
    if noun.is_verb or noun.lemma not in framing_words().putting_in_place or verb is None or not verb.is_verb:
        return None
    return verb if noun.dep in _GOVERNED_CONTAINER_ROLES else None


def _cue_event(sentence: ParsedSentence, found: Phrase, cues: dict[int, Phrase]) -> list[Event]:
    obj = sentence.head_of(found)
    holder = sentence.head(obj)
    if obj.dep == "compound" and holder is not None and is_container(holder):
        return []  # "a new sanctions regime": what is new is the regime, a framework, not sanctions
    cue = next((token for token in _premodifiers(sentence, obj) if token.index in cues), None)
    return [] if cue is None else [_event(sentence, "cue", cues[cue.index], found, anchor_of(sentence, obj))]


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
                 reasons=arguments.reasons, fallback_targets=arguments.fallback_targets, sources=arguments.sources)
