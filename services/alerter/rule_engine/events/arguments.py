"""The arguments of an event in a parsed sentence: the phrases naming whom it is aimed at and who acts.

``constructions.py`` finds an event's action and object; this module reads, around them, who the event
is aimed at and who carries it out:

- ``targets``: the parties named explicitly ("on Iran", the object of "sanctioned", "hit Iran
  with ...", whom "added to the list" adds, whom a clause joined to the action aims it at:
  "..., targeting five entities"), each only in its own words ("four Iranian companies",
  "a network of Iranian firms"): what describes a party (a clause, a phrase other than "of") is
  one of the ``reasons``;
- ``reasons``: where a target counts only when named as an actor, a name, a possessive or a
  phrase of the target's terms ("Iranian crude"), not an adjective on something else: the
  reason given ("for helping Tehran", "over Iran's drone transfers", "in view of Iran's military
  support"), what describes a party ("accused of helping Tehran" but not "accused of smuggling
  Iranian weapons"), and a name on the object ("Iran-related sanctions", "its Iran sanctions
  regime");
- ``fallback_targets``, used only when no party is named: words on the object ("Iran
  sanctions"), any reason, and the subject of a clause no one acts in ("Iran faces new
  sanctions");
- ``sources``: the subject of the action, the "by" of a passive, or words on the object ("EU
  sanctions").

A party's own words and what describes it, and the reasons an event gives, are ``parties.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.alerter.rule_engine.events.dates import names_a_time
from services.alerter.rule_engine.events.framing_words import framing_words
from services.alerter.rule_engine.events.lists import container_of, is_container, new_members
from services.alerter.rule_engine.events.parties import (
    MODIFIER_ROLES,
    after_comma,
    causes,
    names_on,
    own_words,
    trailing_clause,
)
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, Phrase, unique

EventKind = Literal["verb", "noun", "object-verb", "cue"]

# Prepositions that name whom an event is aimed at, and those that give its reason or its time.
TARGET_PREPOSITIONS = frozenset({"on", "against", "at", "upon", "toward", "towards"})
REASON_PREPOSITIONS = frozenset({"over", "for", "after", "because", "amid", "following"})
CLAUSES_ON_NOUNS = frozenset({"acl", "relcl"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass"})
_POSSESSIVE_PRONOUNS = frozenset({"its", "their"})
# Clauses joined to the action's clause, which may say whom it is aimed at ("..., targeting five firms").
_JOINED_CLAUSES = frozenset({"advcl", "xcomp", "conj"})


@dataclass(frozen=True)
class Arguments:
    """An event's target phrases (parties in their own words), the phrases where a target counts only
    as an actor (``reasons``), the phrases that count only when there is no target, and its sources."""

    targets: tuple[Phrase, ...]
    reasons: tuple[Phrase, ...]
    fallback_targets: tuple[Phrase, ...]
    sources: tuple[Phrase, ...]


def event_arguments(sentence: ParsedSentence, kind: EventKind, action: Phrase, found: Phrase,
                    anchor: ParsedToken) -> Arguments:
    """The target, reason and source phrases of the event of ``kind`` whose action words are ``action``,
    whose object words are ``found``, reported by the clause of ``anchor``."""
    obj = sentence.head_of(found)
    role = role_token(sentence, obj)
    action_head = sentence.head_of(action)
    holders = unique([obj, role, action_head, anchor])
    parties = [pobj for holder in holders for pobj in _prepositional(sentence, holder, TARGET_PREPOSITIONS)]
    parties += _misattached_conjuncts(sentence, obj, parties)
    for clause in sentence.children[obj.index]:  # "sanctions targeting Iran's oil", "sanctions aimed at Iran"
        if clause.dep in CLAUSES_ON_NOUNS and clause is not action_head:
            parties += _dependents(sentence, clause, frozenset({"dobj"}))
            parties += _prepositional(sentence, clause, TARGET_PREPOSITIONS)
    if kind == "object-verb" or (kind == "verb" and role.dep not in ("dobj", "nsubjpass")):
        # The object is the verb itself, its subject, or linked by a preposition: the verb's own
        # object is then the target ("sanctioned five firms", "added firms to its sanctions list").
        parties += _aimed_at(sentence, action_head)
    elif kind == "verb" and is_container(role):  # "extended the list of ... to include nine officials"
        parties += new_members(sentence, action_head)
    parties += _aiming_parties(sentence, action_head)
    if anchor.lemma in framing_words().aiming and anchor.is_verb and any(  # "a new round of sanctions targets X"
            sentence.head(token) == anchor and token.dep == "nsubj" for token in (obj, role, action_head)):
        parties += _dependents(sentence, anchor, frozenset({"dobj"}))
    for linked in (role, action_head):  # "hit Iran with a new wave of sanctions", "Iran was hit by sanctions"
        if (verb := instrument_verb(sentence, linked)) is not None:
            parties += _aimed_at(sentence, verb)
    # The list the object is reached through is not whom it is aimed at ("put firms on its sanctions list").
    parties = [party for party in unique(parties) if not (party is role and is_container(role))]
    if any(token.dep == "poss" and token.lower in _POSSESSIVE_PRONOUNS for party in parties
           for token in sentence.subtree(party)):
        # "Tehran faces new sanctions on its oil exports": "its" most often refers to a clause's subject.
        parties += [sentence.head_of(subject) for subject in _clause_subjects(sentence, anchor, obj)]
    targets: list[Phrase] = []
    reasons: list[Phrase] = []
    for party in unique(parties):
        own, described = own_words(sentence, party)
        targets.append(own)
        reasons += described + trailing_clause(sentence, party, holders)
    reasons += [phrase for holder in holders for phrase in causes(sentence, holder)]
    reasons += _means_of(sentence, action_head)
    reasons += [phrase for verb in _aiming_clauses(sentence, action_head) for phrase in causes(sentence, verb)]
    reasons += [phrase for noun in unique([obj, role]) for phrase in names_on(sentence, noun, action)]
    fallback = [phrase for holder in holders for phrase in causes(sentence, holder, REASON_PREPOSITIONS)]
    fallback += reasons if not parties else []  # no party named: the reason in any form ("given Iran's support")
    fallback += _modifiers(sentence, obj, action)
    acting_verb = action_head if kind in ("verb", "object-verb") else anchor if kind == "noun" and anchor.is_verb \
        else None
    if acting_verb is None and anchor.index not in {token.index for token in action}:
        fallback += _clause_subjects(sentence, anchor, obj)  # "Iran faces new sanctions": no one acts in it
    return Arguments(tuple(targets), tuple(reasons), tuple(fallback), tuple(_sources(sentence, acting_verb, obj)))


def role_token(sentence: ParsedSentence, obj: ParsedToken) -> ParsedToken:
    """The token whose dependency says how the object is used: through coordination ("embargoes and
    sanctions") to the first conjunct, then to the list or regime it is reached through ("the list of
    those subject to sanctions", ``lists.py``), or through a compound ("sanctions package") to the
    noun it modifies."""
    role = obj
    for _ in range(4):
        head = sentence.head(role)
        if head is None or role.dep != "conj":
            break
        role = head
    counted = _counted_by(sentence, role)
    if counted is not None:  # "reinstating a wide range of restrictive measures": the range is what is acted on
        role = counted
    container = container_of(sentence, role)
    if container is not None:  # "broaden the scope of the framework for restrictive measures": the scope
        return _counted_by(sentence, container) or container
    head = sentence.head(role)
    if role.dep == "compound" and head is not None and not head.is_verb:
        return head
    return role


def _means_of(sentence: ParsedSentence, action_head: ParsedToken) -> list[Phrase]:
    """What the action is the means of, as a reason: "is countering Iran's destabilizing activities by
    designating a network" gives "Iran's destabilizing activities"."""
    by = sentence.head(action_head)
    verb = sentence.head(by) if by is not None else None
    if action_head.dep != "pcomp" or by is None or by.lower != "by" or verb is None or not verb.is_verb:
        return []
    return [tuple(sentence.subtree(kid)) for kid in sentence.children[verb.index] if kid.dep == "dobj"]


def _misattached_conjuncts(sentence: ParsedSentence, obj: ParsedToken, parties: list[ParsedToken]) -> list[ParsedToken]:
    """In "sanctions on six people and three companies it says ...", the parser may join "companies" to the
    object instead of to "people": a noun joined to the object after one of its parties is another party."""
    first = min((party.index for party in parties), default=None)
    return [kid for kid in sentence.children[obj.index]
            if first is not None and kid.dep == "conj" and kid.index > first and kid.pos in ("NOUN", "PROPN")
            and kid.lemma != obj.lemma]


def _counted_by(sentence: ParsedSentence, token: ParsedToken) -> ParsedToken | None:
    """The noun of quantity ``token`` is counted by ("a range of measures", ``quantities`` in
    ``news_framing_en.yaml``), or None."""
    of = sentence.head(token)
    if token.dep != "pobj" or of is None or of.lower != "of":
        return None
    quantity = sentence.head(of)
    return quantity if quantity is not None and quantity.lemma in framing_words().quantities else None


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
    for _ in range(6):  # "hit 52 ministers, leaders and officers with visa restrictions": from the last conjunct
        head = sentence.head(holder)
        if holder.dep not in ("conj", "appos") or head is None:
            break
        holder = head
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
        return found + [_phrase(sentence, by) for agent in sentence.children[doer.index] if agent.dep == "agent"
                        for by in _dependents(sentence, agent, frozenset({"pobj"}))]
    current: ParsedToken | None = doer
    for _ in range(3):  # "agreed to impose": the subject of the verb that controls the infinitive
        if current is None:
            break
        subjects = _dependents(sentence, current, frozenset({"nsubj"}))
        if subjects:
            return found + [_phrase(sentence, subject) for subject in subjects]
        current = sentence.head(current) if current.dep in ("xcomp", "conj") else None
    return found


def _prepositional(sentence: ParsedSentence, holder: ParsedToken, prepositions: frozenset[str]) -> list[ParsedToken]:
    """The objects of the holder's prepositions among ``prepositions``, or of a verb they take ("aimed at
    cutting off the networks that fund Iran's militias"); a time is never one ("on Tuesday")."""
    found = []
    for prep in sentence.children[holder.index]:
        if prep.dep != "prep" or prep.lower not in prepositions:
            continue
        for kid in sentence.children[prep.index]:
            if kid.dep == "pobj" and not names_a_time(kid):
                found.append(kid)
            elif kid.dep == "pcomp" and kid.is_verb:
                found += _dependents(sentence, kid, frozenset({"dobj"}))
    return found


def _aimed_at(sentence: ParsedSentence, verb: ParsedToken) -> list[ParsedToken]:
    """The verb's object, or its passive subject: whom "sanctioned", "hit ... with" is aimed at."""
    found = _dependents(sentence, verb, frozenset({"dobj"}))
    if sentence.is_passive(verb):
        found += _dependents(sentence, verb, frozenset({"nsubjpass"}))
    return found


def _aiming_clauses(sentence: ParsedSentence, action_head: ParsedToken) -> list[ParsedToken]:
    """The verbs of clauses joined to the action that aim it: "imposed new sanctions yesterday, targeting five
    entities ...", "took aim at Iran's shadow fleet, imposing sanctions on 29 vessels" (``aiming`` verbs of
    ``news_framing_en.yaml``, or one of them as the object: "took aim at")."""
    aiming = framing_words().aiming
    clauses = [kid for kid in sentence.children[action_head.index] if kid.dep in _JOINED_CLAUSES]
    head = sentence.head(action_head)
    if head is not None and action_head.dep in _JOINED_CLAUSES:
        clauses.append(head)
    return [verb for verb in clauses if verb.is_verb and (verb.lemma in aiming or any(
        kid.dep == "dobj" and kid.lemma in aiming for kid in sentence.children[verb.index]))]


def _aiming_parties(sentence: ParsedSentence, action_head: ParsedToken) -> list[ParsedToken]:
    """Whom the clauses joined to the action aim it at (``_aiming_clauses``): their object, or the object of
    their "at", "on", "against"."""
    found: list[ParsedToken] = []
    for verb in _aiming_clauses(sentence, action_head):
        if verb.lemma in framing_words().aiming:
            found += _dependents(sentence, verb, frozenset({"dobj"}))
        found += _prepositional(sentence, verb, TARGET_PREPOSITIONS)
    return found


def _dependents(sentence: ParsedSentence, token: ParsedToken, roles: frozenset[str]) -> list[ParsedToken]:
    return [kid for kid in sentence.children[token.index] if kid.dep in roles]


def _modifiers(sentence: ParsedSentence, obj: ParsedToken, skip: Phrase) -> list[Phrase]:
    """Words on the object itself: "Iran sanctions", "Washington's sanctions", "EU sanctions"."""
    skipped = {token.index for token in skip}
    return [_phrase(sentence, kid) for kid in sentence.children[obj.index]
            if kid.dep in MODIFIER_ROLES and kid.index not in skipped]


def _phrase(sentence: ParsedSentence, token: ParsedToken) -> Phrase:
    """A token and what it governs, without what does not say who it is: a reason on the phrase's own
    head ("sanctions on Russia over Iranian drones" is aimed at Russia) or a non-restrictive relative
    clause ("on Hezbollah, which it called an Iranian proxy")."""

    def keep(kid: ParsedToken) -> bool:
        if kid.dep == "prep" and kid.lower in REASON_PREPOSITIONS and kid.head == token.index:
            return False
        return not (kid.dep == "relcl" and after_comma(sentence, kid))

    return tuple(sentence.subtree(token, keep=keep))


def _clause_subjects(sentence: ParsedSentence, anchor: ParsedToken, obj: ParsedToken) -> list[Phrase]:
    """The subject of the anchor's clause, or of the clause above when that subject is the object's own
    phrase ("Iran said the new sanctions would fail": Iran)."""
    for verb in (anchor, *sentence.ancestors(anchor)):
        subjects = [phrase for subject in _dependents(sentence, verb, _SUBJECTS)
                    if obj not in (phrase := _phrase(sentence, subject))]
        if subjects:
            return subjects
    return []
