"""Events in one parsed sentence: an action on an object, and the phrases naming its target and source.

This is the "who did what to whom" half of an event condition, read from the dependency parse
rather than from word distance, in the spirit of event coders such as PETRARCH (CAMEO). An event
is one of these constructions around an object word (``sanction``, ``embargo``, ...):

- ``verb``: an action verb governs the object: "imposed sanctions", "sanctions were imposed",
  "new sanctions hit Iran", "hit Iran with sanctions", "added firms to its sanctions list", and a
  participle or relative clause on the object ("sanctions imposed in 2018", which the news checks
  then reject as background);
- ``noun``: an action noun governs it: "a new round of sanctions", "a sanctions package";
- ``object-verb``: the object word is itself the verb: "the Treasury sanctioned five firms";
- ``cue``: a cue word modifies the object: "fresh sanctions", "further sanctions".

Whether the event is news (not background, negated, past, relief or evasion) is ``news_checks.py``;
whether its target and source are the ones a rule wants is ``event_node.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.alerter.rule_engine.article_words import term_lemmas, term_words
from services.alerter.rule_engine.dates import names_a_time
from services.alerter.rule_engine.sentence_parse import ParsedSentence, ParsedToken
from shared.schemas import WORD

EventKind = Literal["verb", "noun", "object-verb", "cue"]
Phrase = tuple[ParsedToken, ...]

# Newness cues used when an event condition names none.
DEFAULT_CUES = ("new", "fresh", "further", "additional", "more", "latest", "extra", "another", "tougher",
                "wider", "broader", "expanded", "sweeping", "stricter", "harsher")
# How an object relates to the verb that governs it directly.
_GOVERNED_ROLES = frozenset({"dobj", "nsubjpass", "nsubj", "attr", "oprd"})
# Prepositions that link an object to a verb or noun that governs it ("hit Iran with sanctions",
# "a round of sanctions", "added firms to its sanctions list"), by the kind of governor.
_VERB_LINKS = frozenset({"with", "by", "to", "under"})
_NOUN_LINKS = frozenset({"of"})
# Prepositions that name whom an event is aimed at, and those that give its reason.
TARGET_PREPOSITIONS = frozenset({"on", "against", "at", "upon"})
REASON_PREPOSITIONS = frozenset({"over", "for", "after", "because", "amid", "following"})
_MODIFIER_ROLES = frozenset({"compound", "amod", "poss", "nmod", "npadvmod"})
_PREMODIFIER_ROLES = _MODIFIER_ROLES | {"advmod", "det", "nummod", "quantmod"}
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_CLAUSES_ON_NOUNS = frozenset({"acl", "relcl"})
_MISATTACHED_CLAUSES = frozenset({"ccomp", "parataxis"})
_POSSESSIVE_PRONOUNS = frozenset({"its", "their"})


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
    explicit target."""

    kind: EventKind
    action: Phrase
    object: Phrase
    anchor: ParsedToken
    targets: tuple[Phrase, ...]
    fallback_targets: tuple[Phrase, ...]
    sources: tuple[Phrase, ...]

    @property
    def object_head(self) -> ParsedToken:
        return _head_of(self.object)

    @property
    def action_head(self) -> ParsedToken:
        return _head_of(self.action)


def find_events(sentence: ParsedSentence, words: EventWords) -> list[Event]:
    """Every event of ``words`` in the sentence, in order of the objects; verbs before nouns before cues."""
    actions = _heads(sentence, words.actions)
    cues = _heads(sentence, words.cues)
    events: list[Event] = []
    for pattern in words.objects:
        for found in pattern.occurrences(sentence):
            events.extend(_events_on(sentence, found, actions, cues))
    return events


def _events_on(sentence: ParsedSentence, found: Phrase, actions: dict[int, Phrase],
               cues: dict[int, Phrase]) -> list[Event]:
    obj = _head_of(found)
    if _is_verb(obj) and obj.dep not in ("amod", "compound"):  # "sanctioned firms" describes, it does not report
        return [_event(sentence, "object-verb", found, found, obj)]
    role = _role_token(sentence, obj)
    governor = sentence.head(role)
    events = []
    if governor is not None and governor.index in actions:
        if role.dep in _GOVERNED_ROLES and _is_verb(governor):
            events.append(_event(sentence, "verb", actions[governor.index], found, governor))
        elif role.dep == "compound" and not _is_verb(governor):
            events.append(_event(sentence, "noun", actions[governor.index], found, _anchor(sentence, governor)))
    if governor is not None and role.dep == "pobj" and governor.dep in ("prep", "agent"):
        linked = sentence.head(governor)
        instrument_of = _instrument_verb(sentence, role)
        if instrument_of is not None and instrument_of.index in actions:
            events.append(_event(sentence, "verb", actions[instrument_of.index], found, instrument_of))
        elif (linked is not None and linked.index in actions and governor.lower in _VERB_LINKS
              and _is_verb(linked)):
            events.append(_event(sentence, "verb", actions[linked.index], found, linked))
        elif (linked is not None and linked.index in actions and governor.lower in _NOUN_LINKS
              and not _is_verb(linked)):
            events.append(_event(sentence, "noun", actions[linked.index], found, _anchor(sentence, linked)))
    for clause in sentence.children[obj.index]:
        if clause.dep in _CLAUSES_ON_NOUNS and clause.index in actions:
            events.append(_event(sentence, "verb", actions[clause.index], found, clause))
    cue = next((token for token in _premodifiers(sentence, obj) if token.index in cues), None)
    if cue is not None:
        events.append(_event(sentence, "cue", cues[cue.index], found, _anchor(sentence, obj)))
    return events


def _premodifiers(sentence: ParsedSentence, obj: ParsedToken) -> list[ParsedToken]:
    """The words before the object that modify it, however the parser chained them ("New EU
    sanctions" may hang "New" on "EU"); clauses and prepositional phrases are not modifiers."""
    return [token for token in sentence.subtree(obj, keep=lambda kid: kid.dep in _PREMODIFIER_ROLES)
            if token.index < obj.index]


def _event(sentence: ParsedSentence, kind: EventKind, action: Phrase, found: Phrase, anchor: ParsedToken) -> Event:
    obj = _head_of(found)
    role = _role_token(sentence, obj)
    action_head = _head_of(action)
    holders = _unique([obj, role, action_head, anchor])
    targets = [phrase for holder in holders for phrase in _prepositional(sentence, holder, TARGET_PREPOSITIONS)]
    for clause in sentence.children[obj.index]:  # "sanctions targeting Iran's oil", "sanctions aimed at Iran"
        if clause.dep in _CLAUSES_ON_NOUNS and clause is not action_head:
            targets += _objects_of(sentence, clause) + _prepositional(sentence, clause, TARGET_PREPOSITIONS)
    if kind == "object-verb" or (kind == "verb" and role.dep not in ("dobj", "nsubjpass")):
        # The object is the verb itself, its subject, or linked by a preposition: the verb's own
        # object is then the target ("sanctioned five firms", "added firms to its sanctions list").
        targets += _aimed_at(sentence, action_head)
    for linked in (role, action_head):  # "hit Iran with a new wave of sanctions", "Iran was hit by sanctions"
        if (instrument_of := _instrument_verb(sentence, linked)) is not None:
            targets += _aimed_at(sentence, instrument_of)
    targets = [_with_trailing_clause(sentence, phrase, holders) for phrase in targets]
    if any(token.dep == "poss" and token.lower in _POSSESSIVE_PRONOUNS for phrase in targets for token in phrase):
        # "Tehran faces new sanctions on its oil exports": "its" most often refers to a clause's subject.
        targets += _clause_subjects(sentence, anchor, obj)
    fallback = [phrase for holder in holders for phrase in _prepositional(sentence, holder, REASON_PREPOSITIONS)]
    fallback += _modifiers(sentence, obj, action)
    if kind in ("cue", "noun") and anchor.index not in {token.index for token in action} and not _is_action_like(
            anchor, kind):
        fallback += _clause_subjects(sentence, anchor, obj)  # "Iran faces new sanctions"
    return Event(kind=kind, action=action, object=found, anchor=anchor, targets=tuple(targets),
                 fallback_targets=tuple(fallback), sources=tuple(_sources(sentence, kind, action_head, obj, anchor)))


def _is_action_like(anchor: ParsedToken, kind: EventKind) -> bool:
    """A noun event's anchor verb ("agreed a new round") carries the action: its subject is the source."""
    return kind == "noun" and _is_verb(anchor)


def _sources(sentence: ParsedSentence, kind: EventKind, action: ParsedToken, obj: ParsedToken,
             anchor: ParsedToken) -> list[Phrase]:
    found = _modifiers(sentence, obj, ())
    doer = action if kind in ("verb", "object-verb") else anchor if kind == "noun" and _is_verb(anchor) else None
    if doer is None:
        return found
    if _is_passive(sentence, doer):
        return found + [phrase for agent in sentence.children[doer.index] if agent.dep == "agent"
                        for phrase in _dependents(sentence, agent, frozenset({"pobj"}))]
    current: ParsedToken | None = doer
    for _ in range(3):  # "agreed to impose": the subject of the verb that controls the infinitive
        if current is None:
            break
        subjects = _dependents(sentence, current, frozenset({"nsubj"}))
        if subjects:
            return found + subjects
        current = sentence.head(current) if current.dep in ("xcomp", "conj") else None
    return found


def _prepositional(sentence: ParsedSentence, holder: ParsedToken, prepositions: frozenset[str]) -> list[Phrase]:
    """The phrases of the holder's prepositions among ``prepositions``; a time is never one ("on Tuesday")."""
    return [_phrase(sentence, pobj) for prep in sentence.children[holder.index]
            if prep.dep == "prep" and prep.lower in prepositions
            for pobj in sentence.children[prep.index] if pobj.dep == "pobj" and not names_a_time(pobj)]


def _aimed_at(sentence: ParsedSentence, verb: ParsedToken) -> list[Phrase]:
    """The verb's object, or its passive subject: whom "sanctioned", "hit ... with" is aimed at."""
    found = _objects_of(sentence, verb)
    if _is_passive(sentence, verb):
        found += _dependents(sentence, verb, frozenset({"nsubjpass"}))
    return found


def _instrument_verb(sentence: ParsedSentence, token: ParsedToken) -> ParsedToken | None:
    """The verb ``token`` is the instrument or agent of ("hit Iran with sanctions", "hit by sanctions"),
    also when the parser hung "with ..." on the verb's object ("targeted the fleet with sanctions")."""
    prep = sentence.head(token)
    if token.dep != "pobj" or prep is None or prep.lower not in ("with", "by"):
        return None
    holder = sentence.head(prep)
    if holder is None:
        return None
    if _is_verb(holder):
        return holder
    verb = sentence.head(holder)
    if prep.lower == "with" and holder.dep == "dobj" and verb is not None and _is_verb(verb):
        return verb
    return None


def _objects_of(sentence: ParsedSentence, verb: ParsedToken) -> list[Phrase]:
    return _dependents(sentence, verb, frozenset({"dobj"}))


def _dependents(sentence: ParsedSentence, token: ParsedToken, roles: frozenset[str]) -> list[Phrase]:
    return [_phrase(sentence, kid) for kid in sentence.children[token.index] if kid.dep in roles]


def _modifiers(sentence: ParsedSentence, obj: ParsedToken, skip: Phrase) -> list[Phrase]:
    """Words on the object itself: "Iran sanctions", "Washington's sanctions", "EU sanctions"."""
    skipped = {token.index for token in skip}
    return [_phrase(sentence, kid) for kid in sentence.children[obj.index]
            if kid.dep in _MODIFIER_ROLES and kid.index not in skipped]


def _phrase(sentence: ParsedSentence, token: ParsedToken) -> Phrase:
    """A token and what it governs, without what does not say who it is: a reason on the phrase's own
    head ("sanctions on Russia over Iranian drones" is aimed at Russia) or a non-restrictive relative
    clause ("on Hezbollah, which it called an Iranian proxy"). A restrictive one stays: "firms that
    supplied Iran's drone program" are named by it."""

    def keep(kid: ParsedToken) -> bool:
        if kid.dep == "prep" and kid.lower in REASON_PREPOSITIONS and kid.head == token.index:
            return False
        return not (kid.dep == "relcl" and _after_comma(sentence, kid))

    return tuple(sentence.subtree(token, keep=keep))


def _with_trailing_clause(sentence: ParsedSentence, phrase: Phrase, holders: list[ParsedToken]) -> Phrase:
    """The phrase and a clause that starts right after it but which the parser hung on the verb instead:
    in "sanctions on two executives it said supplied parts for Iran's drone program" the clause
    describes the executives (the nearest noun), however the parse attached "said"."""
    following = phrase[-1].index + 1
    for holder in holders:
        for clause in sentence.children[holder.index]:
            if clause.dep in _MISATTACHED_CLAUSES and (words := sentence.subtree(clause))[0].index == following:
                return (*phrase, *words)
    return phrase


def _clause_subjects(sentence: ParsedSentence, anchor: ParsedToken, obj: ParsedToken) -> list[Phrase]:
    """The subject of the anchor's clause, or of the clause above when that subject is the object's own
    phrase ("Iran said the new sanctions would fail": Iran)."""
    for verb in (anchor, *sentence.ancestors(anchor)):
        subjects = [phrase for phrase in _dependents(sentence, verb, _SUBJECTS) if obj not in phrase]
        if subjects:
            return subjects
    return []


def _after_comma(sentence: ParsedSentence, clause: ParsedToken) -> bool:
    first = sentence.subtree(clause)[0].index
    return first > 0 and sentence.tokens[first - 1].text == ","


def _role_token(sentence: ParsedSentence, obj: ParsedToken) -> ParsedToken:
    """The token whose dependency says how the object is used: through coordination ("embargoes and
    sanctions") to the first conjunct, and through a compound ("sanctions list") to the noun it modifies."""
    role = obj
    for _ in range(4):
        head = sentence.head(role)
        if head is None or role.dep != "conj":
            break
        role = head
    head = sentence.head(role)
    if role.dep == "compound" and head is not None and not _is_verb(head):
        return head
    return role


def _anchor(sentence: ParsedSentence, token: ParsedToken) -> ParsedToken:
    """The nearest verb above a noun: the clause that reports it (the root for a headline without one)."""
    for ancestor in sentence.ancestors(token):
        if _is_verb(ancestor):
            return ancestor
    ancestors = sentence.ancestors(token)
    return ancestors[-1] if ancestors else token


def _heads(sentence: ParsedSentence, patterns: tuple[TermPattern, ...]) -> dict[int, Phrase]:
    """Head token index -> the words of each occurrence of any of the patterns."""
    return {_head_of(found).index: found for pattern in patterns for found in pattern.occurrences(sentence)}


def _head_of(tokens: Phrase) -> ParsedToken:
    """The token of a phrase whose head lies outside it ("stepped" in "stepped up")."""
    inside = {token.index for token in tokens}
    return next((token for token in tokens if token.head not in inside or token.head == token.index), tokens[-1])


def _is_verb(token: ParsedToken) -> bool:
    return token.pos in ("VERB", "AUX") or token.tag.startswith("VB")


def _is_passive(sentence: ParsedSentence, verb: ParsedToken) -> bool:
    return any(kid.dep in ("auxpass", "nsubjpass") for kid in sentence.children[verb.index])


def _unique(tokens: list[ParsedToken]) -> list[ParsedToken]:
    seen: dict[int, ParsedToken] = {}
    for token in tokens:
        seen.setdefault(token.index, token)
    return list(seen.values())
