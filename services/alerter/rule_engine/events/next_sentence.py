"""How far a link to the target reaches: the event's own sentence, and the next one only through the measure.

Wire copy often names the sanctioned parties in one sentence and why in the next: *The Treasury
sanctioned 29 tankers on Thursday. The move is aimed at Iran's shadow fleet.* The next sentence links
the event to the target when its subject is the measure named again (``measure_references`` of
``news_framing_en.yaml`` with *the*, *this*, *these*, *that* or *today's*: *The move*, *The
sanctions*, *This action*) and it names the target as an actor outside that subject and outside a
place (*in Iran*, *based in Tehran*). A party named again (*The companies operate in Iran*) does not
link: a pronoun or *the companies* may stand for others, and the target there is as often a place,
a reaction or another story. No link reaches further.
"""

from __future__ import annotations

import re
from functools import lru_cache

from services.alerter.rule_engine.article_words import Span
from services.alerter.rule_engine.events.framing_words import framing_words
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken

_DETERMINERS = frozenset({"the", "this", "these", "that", "today"})


@lru_cache(maxsize=1)
def _opening() -> re.Pattern[str]:
    nouns = "|".join(sorted(framing_words().measure_references))
    return re.compile(rf"^\W*(?:the|this|these|that|today['’]s)\s+(?:[\w-]+\s+){{0,2}}?(?:{nouns})\w*\b",
                      re.IGNORECASE)


def opens_with_measure(sentence: str) -> bool:
    """A cheap test before any parse: the sentence starts with the measure named again ("The move ...")."""
    return bool(_opening().match(sentence))


def measure_subject(parse: ParsedSentence) -> ParsedToken | None:
    """The subject of the sentence's main verb when it is the measure named again, else None."""
    roots = [token for token in parse.tokens if token.head == token.index]
    for root in roots:
        for kid in parse.children[root.index]:
            if kid.dep in ("nsubj", "nsubjpass") and kid.lemma in framing_words().measure_references and any(
                    det.dep in ("det", "poss") and det.lower in _DETERMINERS for det in parse.children[kid.index]):
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
