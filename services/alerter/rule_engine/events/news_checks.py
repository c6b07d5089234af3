"""Is an event news? The checks that tell a reported action from background, denial, relief and evasion.

Each check reads the parse around one event (``events.Event``) and returns why the event is not
news, or None. Two always apply, because without them a sentence does not report the action:

- ``background``: the action is a relative or participle clause describing a noun ("sanctions
  imposed by ...", "the bank, which Washington sanctioned ...") or a clause that makes it the time
  another event is measured from ("since", "before", "until");
- ``negated``: "not", "no", or a verb or noun of refusal or threat above it ("failed to agree", "vetoed a
  resolution that would have imposed", "opposition to new sanctions", "threatened Iran with new sanctions").

Three apply unless a rule lists them in ``allow``: ``past`` (a date or adverb that pins the action
before the article: "in 2018", "two years ago", "earlier this year", "previously"), ``relief``
(lifting, easing, waivers, relief) and ``evasion`` (evading, defying, bypassing, "despite",
enforcement). Words the rule names as actions never count as relief or evasion, so a rule about
sanctions being lifted writes ``action: [lift, ease]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from services.alerter.rule_engine.events.constructions import Event
from services.alerter.rule_engine.events.dates import MONTHS, YEAR, pins_to_past
from services.alerter.rule_engine.events.framing_words import framing_words
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, unique

NEGATING = frozenset({
    "fail", "refuse", "decline", "reject", "rejection", "block", "veto", "oppose", "opposition", "resist", "avoid",
    "postpone", "delay", "shelve", "abandon", "drop", "deny", "halt", "stop", "without", "rule out", "hold off",
    "back away",
})
RELIEF = frozenset({
    "lift", "lifting", "ease", "easing", "relax", "relaxation", "loosen", "remove", "removal", "waive", "waiver",
    "exempt", "exemption", "suspend", "suspension", "end", "unfreeze", "relief", "repeal", "rescind", "revoke",
    "revocation", "terminate", "termination", "scrap", "unwind", "reverse", "roll back", "rollback", "phase out",
})
EVASION = frozenset({
    "evade", "evasion", "defy", "defiance", "bypass", "circumvent", "circumvention", "skirt", "violate",
    "violation", "breach", "flout", "dodge", "bust", "busting", "buster", "smuggle", "smuggling", "despite",
    "around", "enforce", "enforcement", "escape", "sidestep", "get around", "work around", "spite",
})
PAST_ADVERBS = frozenset({"previously", "formerly", "originally", "already", "once", "first"})
_CLAUSE_LINKS = frozenset({"xcomp", "ccomp"})
_SUBJECT_ROLES = frozenset({"nsubj", "nsubjpass", "csubj"})
# Conjunctions that make a clause the time another event is measured from: "since the US imposed ...".
_REFERENCE_POINTS = frozenset({"since", "before", "until", "till"})
# Clauses through which an action still belongs to the clause above it.
_EMBEDDING = frozenset({"advcl", "conj", "xcomp"})
_DATE_ATTACHMENTS = frozenset({"prep", "npadvmod", "advmod", "tmod", "nmod"})


@dataclass(frozen=True)
class NewsContext:
    """What the checks need besides the parse: when the article appeared, and what the rule allows."""

    published: date
    allow: frozenset[str]
    action_lemmas: frozenset[str]
    dated: bool = True  # False when neither the article nor its text gives its date: a month says nothing then


def why_not_news(event: Event, sentence: ParsedSentence, context: NewsContext) -> str | None:
    """The first reason the event is not news (``"relief: lifting"``), or None when it is."""
    checks: list[tuple[str, Callable[[Event, ParsedSentence, NewsContext], str | None]]] = [
        ("background", _background), ("negated", _negated), ("past", _past), ("relief", _relief),
        ("evasion", _evasion),
    ]
    for name, check in checks:
        if name in context.allow:
            continue
        found = check(event, sentence, context)
        if found is not None:
            return f"{name}: {found}"
    return None


def _background(event: Event, sentence: ParsedSentence, context: NewsContext) -> str | None:
    action = event.action_head
    clause = action if event.kind in ("verb", "object-verb") else event.anchor
    for _ in range(4):  # "production, which fell after the US imposed an embargo": inside a relative clause
        if _describes_a_noun(sentence, clause, event.object_head):
            return f"'{action.text}' is in a clause describing '{sentence.tokens[clause.head].text}'"
        head = sentence.head(clause)
        if head is None or clause.dep not in _EMBEDDING:
            break
        clause = head
    for token in (action, event.anchor):
        for kid in sentence.children[token.index]:
            if kid.dep == "mark" and kid.lower in _REFERENCE_POINTS:
                return f"'{kid.text} ... {token.text}'"
        head = sentence.head(token)
        if head is not None and head.dep == "prep" and head.lower in _REFERENCE_POINTS:
            return f"'{head.text} ... {token.text}'"
    return None


def _describes_a_noun(sentence: ParsedSentence, verb: ParsedToken, obj: ParsedToken) -> bool:
    """A relative clause, or a participle (not an infinitive: "plans to impose" is not background). A present
    participle on another noun gives what that thing does ("an executive order reimposing sanctions on
    Iran") and stays news; on the object itself it describes the sanctions ("sanctions targeting Iran")."""
    head = sentence.head(verb)
    if head is None or head.pos not in ("NOUN", "PROPN", "PRON"):
        return False
    if head.dep == "ROOT" and verb.dep == "acl" and any(kid.dep == "dobj" for kid in sentence.children[verb.index]):
        return False  # no verb governs the noun: the participle is the sentence's verb the parser missed
    if verb.dep == "acl" and verb.tag == "VBN" and _small_clause_object(sentence, head):
        return False  # "the move will see asset freezes imposed on ...": the noun and participle are one clause
    return verb.dep == "relcl" or (verb.dep == "acl" and (verb.tag in ("VBN", "VBD")
                                                          or (verb.tag == "VBG" and head.index == obj.index)))


def _small_clause_object(sentence: ParsedSentence, noun: ParsedToken) -> bool:
    """The noun (or the first of the nouns it is coordinated with) is the object of a verb that takes a
    noun and a participle as one clause ("will see sanctions imposed"): the participle is what
    happens, not a description of the noun. Past dates and intentions are still read by the other checks."""
    while noun.dep == "conj" and (first := sentence.head(noun)) is not None:
        noun = first
    verb = sentence.head(noun)
    return noun.dep == "dobj" and verb is not None and verb.lemma in framing_words().small_clauses


def _negated(event: Event, sentence: ParsedSentence, context: NewsContext) -> str | None:
    obj = event.object_head
    on_the_way = [obj, *_governors(sentence, obj, event.anchor)]  # "no plans for new sanctions"
    above = _controlling(sentence, event.anchor) if event.anchor in on_the_way else []
    for token in unique([*on_the_way, event.action_head, *above]):
        word = _word_of(sentence, token)
        if word in NEGATING and word not in context.action_lemmas:
            return f"'{token.text}'"
        for kid in sentence.children[token.index]:
            if kid.dep == "neg" or (kid.dep == "det" and kid.lower == "no"):
                return f"'{kid.text} {token.text}'"
    return None


def _controlling(sentence: ParsedSentence, anchor: ParsedToken) -> list[ParsedToken]:
    """The anchor and the verbs it is the complement of: "refused to impose", "denied it would impose",
    "vetoed a resolution that would have imposed" (a clause on a noun, then the verb governing the noun)."""
    found = [anchor]
    current = anchor
    for _ in range(4):
        head = sentence.head(current)
        if head is None:
            break
        if current.dep in _CLAUSE_LINKS:
            found.append(head)
            current = head
        elif current.dep in ("relcl", "acl") and (governor := sentence.head(head)) is not None:
            found += [head, governor]
            current = governor
        elif current.dep == "pcomp":  # "without imposing"
            found.append(head)
            current = head
        else:
            break
    return found


def _past(event: Event, sentence: ParsedSentence, context: NewsContext) -> str | None:
    holders = unique([event.action_head, event.anchor, event.object_head])
    for clause in sentence.children[event.object_head.index]:  # "new sanctions imposed in 2012"
        if clause.dep in ("acl", "relcl"):
            holders.append(clause)
    for holder in holders:
        for kid in sentence.children[holder.index]:
            if kid.dep not in _DATE_ATTACHMENTS:
                continue
            if kid.dep == "advmod" and kid.lower in PAST_ADVERBS:
                return f"'{kid.text}'"
            phrase = sentence.subtree(kid, keep=lambda token: token.dep not in ("relcl", "acl", "advcl", "ccomp"))
            if not context.dated and _names_a_month_not_a_year(phrase):
                continue  # "on March 20" in an undated article may be this week's news; "last month" is not
            if pins_to_past(phrase, context.published):
                return "'" + " ".join(token.text for token in phrase) + "'"
    return None


def _names_a_month_not_a_year(phrase: list[ParsedToken]) -> bool:
    return any(token.lower.rstrip(".") in MONTHS and token.pos == "PROPN" for token in phrase) \
        and not any(YEAR.match(token.text) for token in phrase)


def _relief(event: Event, sentence: ParsedSentence, context: NewsContext) -> str | None:
    return _first_of(RELIEF, _around(event, sentence), sentence, context)


def _evasion(event: Event, sentence: ParsedSentence, context: NewsContext) -> str | None:
    return _first_of(EVASION, _around(event, sentence), sentence, context)


def _around(event: Event, sentence: ParsedSentence) -> list[ParsedToken]:
    """Where relief or evasion would be said: above the object or the action ("lifting sanctions",
    "sanctions relief", "despite sanctions"), or on the object ("eased sanctions")."""
    obj = event.object_head
    on_object = [kid for kid in sentence.children[obj.index] if kid.dep in ("amod", "compound")]
    return unique([*sentence.ancestors(obj), *sentence.ancestors(event.action_head), *on_object])


def _first_of(words: frozenset[str], tokens: Iterable[ParsedToken], sentence: ParsedSentence,
              context: NewsContext) -> str | None:
    for token in tokens:
        word = _word_of(sentence, token)
        if (word in words or token.lemma in words or token.lower in words) and token.lemma not in context.action_lemmas:
            return f"'{token.text}'"
    return None


def _word_of(sentence: ParsedSentence, token: ParsedToken) -> str:
    """The token's lemma, with its particle for phrasal verbs ("rule out", "roll back")."""
    particles = [kid.lower for kid in sentence.children[token.index] if kid.dep == "prt"]
    return f"{token.lemma} {particles[0]}" if particles else token.lemma


def _governors(sentence: ParsedSentence, token: ParsedToken, stop: ParsedToken) -> list[ParsedToken]:
    """Ancestors of ``token`` up to ``stop``, but not past a subject: what a verb says of its subject
    ("new sanctions would not break Iran", "the sanctions would fail") is not said of the sanctions."""
    found = []
    current = token
    for ancestor in sentence.ancestors(token):
        if current.dep in _SUBJECT_ROLES:
            break
        found.append(ancestor)
        if ancestor.index == stop.index:
            break
        current = ancestor
    return found
