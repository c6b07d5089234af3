"""The target named again as a country: "reinstating all sanctions on the country" after Iran was named.

A report names the target once and then, to vary the words, *the country* or *the nation*
(``country_anaphors`` of ``news_framing_en.yaml``). That phrase stands for the target only when the
target is the one candidate: it was named earlier in the article, and no other place (a spaCy
``GPE`` mention that is not one of the target's own spans) was named in an earlier sentence. With
*the United States* or *Russia* also named earlier, the phrase could be either and is left
unresolved, so a sentence with only the phrase then has no target. A place named earlier in the
phrase's own sentence is not a candidate: *Canada imposed sanctions on the country* cannot mean
Canada (a name is not the same clause's subject again; that would be *itself*).
"""

from __future__ import annotations

from functools import lru_cache

from services.alerter.rule_engine.article_words import ArticleWords, Span
from services.alerter.rule_engine.events.constructions import TermPattern
from services.alerter.rule_engine.events.framing_words import framing_words
from services.alerter.rule_engine.nodes import Units

# spaCy's label for countries, cities and states: the other candidates a country phrase may stand for.
_PLACES = frozenset({"GPE"})


@lru_cache(maxsize=1)
def _phrases() -> tuple[TermPattern, ...]:
    return tuple(TermPattern.of(phrase) for phrase in sorted(framing_words().country_anaphors))


def resolved_anaphors(words: ArticleWords, targets: Units, sentences: set[int]) -> Units:
    """For each of ``sentences`` where the target is not named, the country phrases there that stand for it."""
    named = [span for spans in targets.values() for span in spans]
    if not named:
        return {}
    first = min(span.start for span in named)
    others = [span for _, span in words.entity_spans(frozenset(), _PLACES)
              if not any(_overlap(span, target) for target in named)]
    found: Units = {}
    for pattern in _phrases():
        for span in words.term_spans(pattern.forms, pattern.lemmas):
            sentence = words.sentence_of[span.first]
            if sentence not in sentences or sentence in targets or not first < span.start:
                continue
            if not any(other.start < span.start and words.sentence_of[other.first] != sentence for other in others):
                found.setdefault(sentence, []).append(span)
    return found


def _overlap(one: Span, other: Span) -> bool:
    return one.start < other.end and other.start < one.end
