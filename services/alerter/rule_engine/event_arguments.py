"""The arguments of an event in a parsed sentence: the phrases naming whom it is aimed at and who acts.

``events.py`` finds an event's action and object; this module reads, around them, the target
phrases (explicit ones first: "on Iran", the object of "sanctioned", "hit Iran with ..."; fallbacks
used only without them: "Iran sanctions", "over Iran's drones", "Iran faces new sanctions") and the
source phrases (the subject of the action, the "by" of a passive, "EU sanctions"). It also repairs
two attachments the parser often gets wrong: a "with ..." hung on the verb's object, and a clause
hung on the verb that describes the noun just before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.alerter.rule_engine.dates import names_a_time
from services.alerter.rule_engine.sentence_parse import ParsedSentence, ParsedToken, Phrase, unique

EventKind = Literal["verb", "noun", "object-verb", "cue"]

# Prepositions that name whom an event is aimed at, and those that give its reason.
TARGET_PREPOSITIONS = frozenset({"on", "against", "at", "upon"})
REASON_PREPOSITIONS = frozenset({"over", "for", "after", "because", "amid", "following"})
MODIFIER_ROLES = frozenset({"compound", "amod", "poss", "nmod", "npadvmod"})
CLAUSES_ON_NOUNS = frozenset({"acl", "relcl"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_MISATTACHED_CLAUSES = frozenset({"ccomp", "parataxis"})
_POSSESSIVE_PRONOUNS = frozenset({"its", "their"})


@dataclass(frozen=True)
class Arguments:
    """An event's target phrases (``fallback_targets`` count only when there is no explicit one) and
    source phrases."""

    targets: tuple[Phrase, ...]
    fallback_targets: tuple[Phrase, ...]
    sources: tuple[Phrase, ...]


def event_arguments(sentence: ParsedSentence, kind: EventKind, action: Phrase, found: Phrase,
                    anchor: ParsedToken) -> Arguments:
    """The target and source phrases of the event of ``kind`` whose action words are ``action``, whose
    object words are ``found``, reported by the clause of ``anchor``."""
    obj = sentence.head_of(found)
    role = role_token(sentence, obj)
    action_head = sentence.head_of(action)
    holders = unique([obj, role, action_head, anchor])
    targets = [phrase for holder in holders for phrase in _prepositional(sentence, holder, TARGET_PREPOSITIONS)]
    for clause in sentence.children[obj.index]:  # "sanctions targeting Iran's oil", "sanctions aimed at Iran"
        if clause.dep in CLAUSES_ON_NOUNS and clause is not action_head:
            targets += _objects_of(sentence, clause) + _prepositional(sentence, clause, TARGET_PREPOSITIONS)
    if kind == "object-verb" or (kind == "verb" and role.dep not in ("dobj", "nsubjpass")):
        # The object is the verb itself, its subject, or linked by a preposition: the verb's own
        # object is then the target ("sanctioned five firms", "added firms to its sanctions list").
        targets += _aimed_at(sentence, action_head)
    for linked in (role, action_head):  # "hit Iran with a new wave of sanctions", "Iran was hit by sanctions"
        if (verb := instrument_verb(sentence, linked)) is not None:
            targets += _aimed_at(sentence, verb)
    targets = [_with_trailing_clause(sentence, phrase, holders) for phrase in targets]
    if any(token.dep == "poss" and token.lower in _POSSESSIVE_PRONOUNS for phrase in targets for token in phrase):
        # "Tehran faces new sanctions on its oil exports": "its" most often refers to a clause's subject.
        targets += _clause_subjects(sentence, anchor, obj)
    fallback = [phrase for holder in holders for phrase in _prepositional(sentence, holder, REASON_PREPOSITIONS)]
    fallback += _modifiers(sentence, obj, action)
    acting_verb = action_head if kind in ("verb", "object-verb") else anchor if kind == "noun" and anchor.is_verb \
        else None
    if acting_verb is None and anchor.index not in {token.index for token in action}:
        fallback += _clause_subjects(sentence, anchor, obj)  # "Iran faces new sanctions": no one acts in it
    return Arguments(tuple(targets), tuple(fallback), tuple(_sources(sentence, acting_verb, obj)))


def role_token(sentence: ParsedSentence, obj: ParsedToken) -> ParsedToken:
    """The token whose dependency says how the object is used: through coordination ("embargoes and
    sanctions") to the first conjunct, and through a compound ("sanctions list") to the noun it modifies."""
    role = obj
    for _ in range(4):
        head = sentence.head(role)
        if head is None or role.dep != "conj":
            break
        role = head
    head = sentence.head(role)
    if role.dep == "compound" and head is not None and not head.is_verb:
        return head
    return role


def anchor_of(sentence: ParsedSentence, token: ParsedToken) -> ParsedToken:
    """The nearest verb above a noun: the clause that reports it (the root for a headline without one)."""
    ancestors = sentence.ancestors(token)
    return next((ancestor for ancestor in ancestors if ancestor.is_verb), ancestors[-1] if ancestors else token)


def instrument_verb(sentence: ParsedSentence, token: ParsedToken) -> ParsedToken | None:
    """The verb ``token`` is the instrument or agent of ("hit Iran with sanctions", "hit by sanctions"),
    also when the parser hung "with ..." on the verb's object ("targeted the fleet with sanctions")."""
    prep = sentence.head(token)
    if token.dep != "pobj" or prep is None or prep.lower not in ("with", "by"):
        return None
    holder = sentence.head(prep)
    if holder is None or holder.is_verb:
        return holder
    verb = sentence.head(holder)
    if prep.lower == "with" and holder.dep == "dobj" and verb is not None and verb.is_verb:
        return verb
    return None


def _sources(sentence: ParsedSentence, doer: ParsedToken | None, obj: ParsedToken) -> list[Phrase]:
    """Words on the object ("EU sanctions"), and the subject of the verb that acts, or the "by" of a passive."""
    found = _modifiers(sentence, obj, ())
    if doer is None:
        return found
    if sentence.is_passive(doer):
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
    if sentence.is_passive(verb):
        found += _dependents(sentence, verb, frozenset({"nsubjpass"}))
    return found


def _objects_of(sentence: ParsedSentence, verb: ParsedToken) -> list[Phrase]:
    return _dependents(sentence, verb, frozenset({"dobj"}))


def _dependents(sentence: ParsedSentence, token: ParsedToken, roles: frozenset[str]) -> list[Phrase]:
    return [_phrase(sentence, kid) for kid in sentence.children[token.index] if kid.dep in roles]


def _modifiers(sentence: ParsedSentence, obj: ParsedToken, skip: Phrase) -> list[Phrase]:
    """Words on the object itself: "Iran sanctions", "Washington's sanctions", "EU sanctions"."""
    skipped = {token.index for token in skip}
    return [_phrase(sentence, kid) for kid in sentence.children[obj.index]
            if kid.dep in MODIFIER_ROLES and kid.index not in skipped]


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


def _after_comma(sentence: ParsedSentence, clause: ParsedToken) -> bool:
    first = sentence.subtree(clause)[0].index
    return first > 0 and sentence.tokens[first - 1].text == ","


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
