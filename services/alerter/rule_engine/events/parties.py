"""Whom an event names, and why: a party in its own words, and the phrases where only an actor counts.

An event coder reads a sanctions sentence's target from the party it names: "four **Iranian**
companies" are Iran's. What describes a party (its clauses, its phrases other than "of": "accused
of helping **Tehran**", "that supplied **Iran's** drone program") and the reason the event gives
("for helping **Tehran**", "in view of **Iran's** military support") can make another party's
sanctions Iran's too, but only by naming Iran as an actor, with a name, a possessive or a phrase
of the target's terms ("accused of buying **Iranian crude**", from the ``iran`` alias set): an
adjective on something else ("accused of smuggling **Iranian** weapons") says where goods came
from, not whom the sanctions are against. This module splits a party into its own words and its
descriptions, and finds the reasons; ``node.py`` decides which spans name an actor.
"""

from __future__ import annotations

from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, Phrase

MODIFIER_ROLES = frozenset({"compound", "amod", "poss", "nmod", "npadvmod"})
# Prepositions that say why (not only when): "for helping Tehran", "over Iran's drone transfers",
# "given Iran's military support".
CAUSE_PREPOSITIONS = frozenset({"over", "for", "because", "given", "due", "owing"})
# "in view of", "in response to", "in retaliation for": a preposition and a noun that say why.
CAUSE_NOUNS = frozenset({"view", "response", "retaliation", "reaction", "connection", "light", "protest"})
# Verbs whose clause on the action gives its reason: "..., citing their role in Iran's drone programme",
# "..., saying they shipped Iranian crude", "..., asserting that the ships carried Iranian petroleum".
CAUSE_VERBS = frozenset({"cite", "accuse", "say", "assert", "allege", "charge", "claim"})
# Dependents that describe a party rather than name it: clauses, and phrases other than "of".
_DESCRIBING = frozenset({"acl", "relcl", "advcl", "ccomp", "xcomp", "parataxis", "prep"})
_MISATTACHED_CLAUSES = frozenset({"ccomp", "parataxis"})


def causes(sentence: ParsedSentence, holder: ParsedToken,
           prepositions: frozenset[str] = CAUSE_PREPOSITIONS) -> list[Phrase]:
    """The reasons given on the holder: a phrase of ``prepositions`` ("for helping Tehran"), "in view
    of" and its kind ("in response to Tehran's deliveries"), a clause citing one ("citing ...")."""
    return [tuple(sentence.subtree(kid)) for kid in sentence.children[holder.index]
            if _says_why(sentence, kid, prepositions)]


def _says_why(sentence: ParsedSentence, kid: ParsedToken, prepositions: frozenset[str]) -> bool:
    if kid.dep in ("advcl", "xcomp", "acl", "relcl"):  # "citing ...", or a purpose: "to counter Iran's support"
        citing = kid.dep in ("advcl", "xcomp") and kid.lemma in CAUSE_VERBS
        purpose = kid.dep != "xcomp" and kid.is_verb and any(
            aux.dep == "aux" and aux.lower == "to" for aux in sentence.children[kid.index])
        return citing or purpose
    return kid.dep == "prep" and (kid.lower in prepositions or any(
        noun.dep == "pobj" and noun.lemma in CAUSE_NOUNS for noun in sentence.children[kid.index]))


def names_on(sentence: ParsedSentence, noun: ParsedToken, skip: Phrase) -> list[Phrase]:
    """Names on the object or its list that say whose programme it is ("Iran-related sanctions", "its
    Iran sanctions regime"); not a possessive, which says who imposes it ("Tehran's sanctions")."""
    skipped = {token.index for token in skip}
    return [tuple(sentence.subtree(kid)) for kid in sentence.children[noun.index]
            if kid.dep in MODIFIER_ROLES - {"poss"} and kid.index not in skipped]


def own_words(sentence: ParsedSentence, party: ParsedToken) -> tuple[Phrase, list[Phrase]]:
    """A party in its own words ("a network of Iranian firms", "Mahan Air, an Iranian airline"), and
    what describes it: its clauses and its phrases other than "of" ("accused of helping Tehran",
    "based in Dubai"). An aside after a comma ("Hezbollah, which it called Iran's proxy") is neither."""
    own: list[ParsedToken] = []
    described: list[Phrase] = []
    pending = [party]
    while pending:
        token = pending.pop()
        own.append(token)
        for kid in sentence.children[token.index]:
            if kid.dep == "relcl" and after_comma(sentence, kid):
                continue
            if kid.dep in _DESCRIBING and not (kid.dep == "prep" and kid.lower == "of"):
                described.append(tuple(sentence.subtree(kid)))
            else:
                pending.append(kid)
    return tuple(sorted(own, key=lambda token: token.index)), described


def after_comma(sentence: ParsedSentence, clause: ParsedToken) -> bool:
    """True for a clause set off by a comma: an aside, not what identifies the noun it hangs on."""
    first = sentence.subtree(clause)[0].index
    return first > 0 and sentence.tokens[first - 1].text == ","


def trailing_clause(sentence: ParsedSentence, party: ParsedToken, holders: list[ParsedToken]) -> list[Phrase]:
    """A clause that starts right after the party but which the parser hung on the verb instead: in
    "sanctions on two executives it said supplied parts for Iran's drone program" the clause
    describes the executives (the nearest noun), however the parse attached "said"."""
    following = sentence.subtree(party)[-1].index + 1
    return [tuple(words) for holder in holders for clause in sentence.children[holder.index]
            if clause.dep in _MISATTACHED_CLAUSES and (words := sentence.subtree(clause))[0].index == following][:1]
