"""How far a link to the target reaches: the event's own sentence, and the next one only through the measure
or the parties pointed back at.

Wire copy often names the sanctioned parties in one sentence and why in the next: *The Treasury
sanctioned 29 tankers on Thursday. The move is aimed at Iran's shadow fleet.* The next sentence links
the event to the target when its subject is the measure named again (``measure_references`` of
``news_framing_en.yaml`` with *the*, *this*, *these*, *that* or *today's*: *The move*, *The
sanctions*, *This action*), or the sanctioned parties pointed back at with a demonstrative and the
event's own noun for them (*sanctions on 13 individuals ... These individuals moved ...*), and it
names the target as an actor outside that subject and outside a place (*in Iran*, *based in
Tehran*). A party named with *the* or a pronoun (*The companies operate in Iran*) does not link: it
may stand for others, and the target there is as often a place, a reaction or another story. No
link reaches further.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.alerter.rule_engine.article_words import Span
from services.alerter.rule_engine.events.framing_words import framing_words
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken

_DETERMINERS = frozenset({"the", "this", "these", "that", "today"})
# Determiners that point back at what was just named: "these individuals" are the ones sanctioned.
_POINTING_BACK = frozenset({"these", "those", "this", "that"})


@lru_cache(maxsize=1)
def _opening() -> re.Pattern[str]:
    nouns = "|".join(sorted(framing_words().measure_references))
    return re.compile(rf"^\W*(?:(?:the|this|these|that|today['’]s)\s+(?:[\w-]+\s+){{0,2}}?(?:{nouns})\w*\b"
                      rf"|(?:these|those|this|that)\s+\w)", re.IGNORECASE)


def opens_with_reference(sentence: str) -> bool:
    """A cheap test before any parse: the sentence may start with the measure named again ("The move ...") or
    with a demonstrative ("These individuals ...")."""
    return bool(_opening().match(sentence))


def referring_subject(parse: ParsedSentence, parties: frozenset[str]) -> ParsedToken | None:
    """The subject of the sentence's main verb (or of the clause a verb of saying reports: "These firms shipped
    Iranian oil, officials said") when it is the measure named again, or one of ``parties`` (the lemmas of
    the nouns the event named its parties with) after a demonstrative; else None."""
    roots = [token for token in parse.tokens if token.head == token.index]
    reported = [kid for root in roots if root.lemma in framing_words().reporting
                for kid in parse.children[root.index] if kid.dep in ("ccomp", "parataxis")]
    for clause in [*roots, *reported]:
        for kid in parse.children[clause.index]:
            if kid.dep not in ("nsubj", "nsubjpass"):
                continue
            determiners = [det.lower for det in parse.children[kid.index] if det.dep in ("det", "poss")]
            if kid.lemma in framing_words().measure_references and any(det in _DETERMINERS for det in determiners):
                return kid
            if kid.lemma in parties and any(det in _POINTING_BACK for det in determiners):
                return kid
    return None


def linkable(parse: ParsedSentence, subject: ParsedToken, spans: list[Span], offset: int) -> list[Span]:
    """The spans (article offsets) outside the subject and outside a place phrase ("in Iran")."""
    inside = {token.index for token in parse.subtree(subject)}
    places = framing_words().places
    found = []
    for span in spans:
        tokens = [token for token in parse.tokens
                  if offset + token.start < span.end and span.start < offset + token.end]
        if not tokens or any(token.index in inside for token in tokens):
            continue
        head = parse.head(tokens[0])
        if tokens[0].dep == "pobj" and head is not None and head.lower in places:
            continue
        found.append(span)
    return found
