"""Whether a phrase of an event names the target: in the party's own words, or as an actor.

``node.py`` compares the phrases an event names (``arguments.py``) with the spans where the rule's
target condition matched: a party counts in its own words; a reason or a description counts only
when it names the target as an actor (a name, a possessive, a phrase of the target's terms, a
nationality on one of the state's own bodies: "the Iranian drone program"), not a nationality word
on goods ("Iranian weapons") nor a patron ("Iran-backed"). And the target is never the one who acts
("Tehran imposed sanctions on ten US officials").
"""

from __future__ import annotations

from dataclasses import dataclass

from services.alerter.rule_engine.article_words import Span
from services.alerter.rule_engine.events.constructions import Event
from services.alerter.rule_engine.events.framing_words import framing_words
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, Phrase

Offsets = tuple[int, int]
# The roles of a word that modifies a noun.
_ON_A_NOUN = frozenset({"amod", "compound", "nmod", "npadvmod"})


@dataclass(frozen=True)
class TargetSpans:
    """Where a condition (the target) matched in a sentence, and the article's nationality words."""

    spans: list[Span]
    nationalities: list[Span]

    def actors(self, parse: ParsedSentence, offset: int) -> list[Span]:
        """The spans that name an actor: a name or a possessive ("Tehran", "Iran's", "the IRGC", "Iran-related"),
        or a phrase of the target's terms that says more than a nationality ("Iranian crude", "Iran's oil
        exports"); not a nationality word alone on another noun ("Iranian weapons", "Iranian-made missiles")."""
        return [span for span in self.spans if self._names_actor(span, parse, offset)]

    def _names_actor(self, span: Span, parse: ParsedSentence, offset: int) -> bool:
        tokens = [token for token in parse.tokens
                  if offset + token.start < span.end and span.start < offset + token.end]
        if span.last > span.first:
            # A phrase the rule or its alias set names as a whole ("Iranian crude" in "Iranian crude oil"):
            # it names the target by what it adds to a nationality, whatever the tagger calls those words.
            return any(not self._in_nationality(token, offset) for token in tokens)
        return any(_on_state_body(token, parse) or not (
            token.pos == "ADJ" or (token.dep in _ON_A_NOUN and self._in_nationality(token, offset))
            or _names_a_patron(token, parse))
            for token in tokens)

    def _in_nationality(self, token: ParsedToken, offset: int) -> bool:
        start, end = offset + token.start, offset + token.end
        return any(word.start < end and start < word.end for word in self.nationalities)


def doers(parse: ParsedSentence, event: Event) -> tuple[Phrase, ...]:
    """Who carries the action out, as the sentence's grammar says: the subject of the acting verb (or of the
    verb it completes: "Tehran decided to impose"), or the "by" of its passive. Words on the object
    ("Iran sanctions") say whose programme it is, not who acts."""
    if event.kind not in ("verb", "object-verb"):
        return ()
    verb: ParsedToken | None = event.action_head
    for _ in range(3):
        if verb is None:
            break
        for kid in parse.children[verb.index]:
            if kid.dep == "nsubj":
                return (tuple(parse.subtree(kid)),)
            if kid.dep == "agent":
                return tuple(tuple(parse.subtree(by)) for by in parse.children[kid.index] if by.dep == "pobj")
        verb = parse.head(verb) if verb.dep in ("xcomp", "conj") else None
    return ()


def _names_a_patron(token: ParsedToken, parse: ParsedSentence) -> bool:
    """A name in "Iran-backed", "Iran-aligned" (``patronage`` of ``news_framing_en.yaml``): the group it
    qualifies is another party, whose patron it names."""
    head = parse.head(token)
    return head is not None and token.dep in _ON_A_NOUN and head.lemma in framing_words().patronage \
        and head.tag in ("VBN", "JJ")


def _on_state_body(token: ParsedToken, parse: ParsedSentence) -> bool:
    """A nationality word on a noun that names the state itself ("the Iranian drone program", "the Iranian
    regime"; ``state_bodies`` of ``news_framing_en.yaml``), through compounds ("drone" in "drone program")."""
    bodies = framing_words().state_bodies
    current = token
    for _ in range(3):
        head = parse.head(current)
        if head is None or current.dep not in _ON_A_NOUN:
            return False
        if head.lemma in bodies:
            return True
        current = head
    return False


def named_in(phrases: tuple[Phrase, ...], spans: list[Span], offset: int) -> tuple[Phrase, Offsets] | None:
    """The first phrase that holds one of the spans (as article offsets), with that span."""
    for phrase in phrases:
        for span in spans:
            if any(offset + token.start < span.end and span.start < offset + token.end for token in phrase):
                return phrase, (span.start, span.end)
    return None
