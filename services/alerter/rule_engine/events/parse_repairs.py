"""Repairs of a misreading the small parser makes often in news: a participle on a subject read as its verb.

"Sanctions announced Tuesday by the Treasury hit eleven companies" and "Eleven people linked to
the Revolutionary Guards were added to the list" open with a noun and a participle that describes
it (a reduced relative clause). The small English model often reads the participle as the
sentence's verb, with the noun as its subject, and the real verb (*hit*, *were added*) as a
clause of its own with no subject. English does not leave a finite verb without a subject, so
that shape is repaired: the noun becomes the real verb's subject and the participle a clause
describing the noun, which is what the event code expects of "sanctions announced by ...".
"""

from __future__ import annotations

from dataclasses import replace

from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken

_SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj", "csubjpass", "expl"})
_AUXILIARIES = frozenset({"aux", "auxpass"})
_FINITE = frozenset({"VBD", "VBZ", "VBP", "MD"})


def repaired(sentence: ParsedSentence) -> ParsedSentence:
    """The parse with each participle-read-as-verb repaired (the same object when there is none)."""
    for participle in sentence.tokens:
        found = _misread(sentence, participle)
        if found is not None:
            return repaired(_repair(sentence, participle, *found))  # one at a time: arcs have changed
    return sentence


def _misread(sentence: ParsedSentence, participle: ParsedToken) -> tuple[ParsedToken, ParsedToken] | None:
    """(subject, real verb) when ``participle`` is a past form with a subject, no auxiliary and no direct
    object (a reduced relative clause is passive), linked as a clause (``ccomp``) to a finite verb after it
    that has no subject."""
    if participle.tag not in ("VBN", "VBD") or participle.dep == "acl":
        return None
    kids = sentence.children[participle.index]
    subject = next((kid for kid in kids if kid.dep == "nsubj" and kid.index < participle.index), None)
    if subject is None or any(kid.dep in _AUXILIARIES or kid.dep == "dobj" for kid in kids):
        return None  # an auxiliary, or a direct object: an active verb ("sanctioned members"), not a participle
    head = sentence.head(participle)
    partners = [kid for kid in kids if kid.dep == "ccomp"]
    if participle.dep == "ccomp" and head is not None:
        partners.append(head)
    for verb in partners:
        verb_kids = sentence.children[verb.index]
        finite = verb.tag in _FINITE or any(kid.dep in _AUXILIARIES for kid in verb_kids)
        if verb.index > participle.index and finite and not any(kid.dep in _SUBJECTS for kid in verb_kids):
            return subject, verb
    return None


def _repair(sentence: ParsedSentence, participle: ParsedToken, subject: ParsedToken,
            verb: ParsedToken) -> ParsedSentence:
    tokens = list(sentence.tokens)
    if verb.head == participle.index:  # the participle was the verb's head: the verb takes its place
        is_root = participle.head == participle.index
        tokens[verb.index] = replace(verb, head=verb.index if is_root else participle.head, dep=participle.dep)
    passive = any(kid.dep == "auxpass" for kid in sentence.children[verb.index])
    tokens[subject.index] = replace(subject, head=verb.index, dep="nsubjpass" if passive else "nsubj")
    tokens[participle.index] = replace(tokens[participle.index], head=subject.index, dep="acl", tag="VBN")
    return ParsedSentence(sentence.text, tuple(tokens))
