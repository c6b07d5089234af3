"""The compiled event condition: parse only the sentences it could hold in, then find a news event there.

A sentence is a candidate only when it already holds an object word ("sanction"), and the target
and source conditions when the rule has them; the article prefilter (``required``) skips whole
articles on the same words. Only candidates are parsed, after any wire dateline (``datelines``,
``sentence_parse``; multiword objects read as one noun, ``object_phrases``; a participle misread
as the verb repaired, ``parse_repairs``), events found (``constructions``), checked for news
(``news_checks``), and their target and source phrases compared with the spans where the target and source conditions
matched: a target in a party's own words, or named as an actor (a name, a possessive, or a
phrase of the target's terms such as an alias set's "Iranian crude"; not a nationality adjective
on another noun) in a reason or a description (``parties``). Every
finding, kept or rejected with its reason, is cached per article, so ``rules eval`` can say why
a sentence did not fire. An article in another language is read with that language's parser and
words (a ``Reading``, ``languages.py``); in a language without one, the condition never holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.alerter.rule_engine.article_words import ArticleWords, Span
from services.alerter.rule_engine.conditions import EventSpec
from services.alerter.rule_engine.events.arguments import EventKind
from services.alerter.rule_engine.events.constructions import Event, EventWords, find_events
from services.alerter.rule_engine.events.datelines import dateline_length
from services.alerter.rule_engine.events.news_checks import NewsContext, why_not_news
from services.alerter.rule_engine.events.object_phrases import ObjectPhrase, parse_with_phrases
from services.alerter.rule_engine.events.parse_repairs import repaired
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, Phrase, SentenceParser
from services.alerter.rule_engine.nodes import ARTICLE_UNIT, AnyNode, Node, Required, Scope, Units
from shared.schemas import EventPart, MatchedEvent

Offsets = tuple[int, int]
# spaCy's label for nationalities ("Iranian"), and the roles of a word that modifies a noun.
_NATIONALITIES = frozenset({"NORP"})
_ON_A_NOUN = frozenset({"amod", "compound", "nmod", "npadvmod"})
# A "sentence" longer than this (a scraped table, a list of names) is parsed up to here, so that no
# candidate costs the alerter more than a few tens of milliseconds; news sentences are far shorter.
MAX_PARSED_CHARS = 1500


@dataclass(frozen=True)
class EventFinding:
    """An event found in a sentence: kept (``rejected`` None) or rejected with the reason."""

    sentence: int
    kind: EventKind
    action: Offsets
    object: Offsets
    target: Offsets | None
    source: Offsets | None
    matched: tuple[Offsets, ...]  # what the alert highlights: action, object, target and source words
    rejected: str | None

    def explained(self, words: ArticleWords) -> MatchedEvent:
        """The finding as the alert shows it."""
        text = words.article.text
        sentence = words.article.sentences[self.sentence]

        def part(offsets: Offsets | None) -> EventPart | None:
            return None if offsets is None else EventPart(text=text[offsets[0]:offsets[1]], start=offsets[0],
                                                          end=offsets[1])

        action, obj = part(self.action), part(self.object)
        assert action is not None and obj is not None
        return MatchedEvent(sentence=text[sentence.start:sentence.end].strip(), sentence_start=sentence.start,
                            kind=self.kind, action=action, object=obj, target=part(self.target),
                            source=part(self.source))


@dataclass(frozen=True)
class Reading:
    """How an event condition reads one language: its parser, its event words, and the object terms
    that make a sentence of the article a candidate."""

    parser: SentenceParser
    words: EventWords
    objects: Node


# Articles of these languages, and of none identified, are read with the condition's own (English) words.
PRIMARY_LANGUAGES = frozenset({None, "en"})


class EventNode:
    """An event condition: an action on an object, aimed at the target, by the source, reported as news."""

    def __init__(self, spec: EventSpec, objects: Node, target: Node | None, source: Node | None,
                 parser: SentenceParser, languages: Mapping[str, Reading] | None = None) -> None:
        self.words = EventWords.of(spec.action, spec.object, spec.cue, spec.listing)
        self.allow = frozenset(spec.allow)
        self.target, self.source = target, source
        self.parser = parser
        self.primary = Reading(parser, self.words, objects)
        self.languages = dict(languages or {})
        self.objects = AnyNode([objects, *(reading.objects for reading in self.languages.values())], None) \
            if self.languages else objects

    def reading(self, language: str | None) -> Reading | None:
        """How an article in ``language`` is read; None for a language the condition cannot read."""
        if language in PRIMARY_LANGUAGES:
            return self.primary
        return self.languages.get(language or "")

    def evaluate(self, words: ArticleWords, scope: Scope) -> Units:
        units: Units = {}
        for finding in self.findings(words):
            if finding.rejected is None:
                unit = finding.sentence if scope == "sentence" else ARTICLE_UNIT
                units.setdefault(unit, []).extend(
                    span for start, end in finding.matched if (span := words.span_at(start, end)) is not None)
        return units

    def required(self) -> Required:
        """An object word, and the target's and source's words: without them no sentence is parsed."""
        return tuple(need for node in (self.objects, self.target, self.source) if node is not None
                     for need in node.required())

    def findings(self, words: ArticleWords) -> list[EventFinding]:
        """Every event in the candidate sentences, kept or rejected, computed once per article."""
        return words.cached(("event-findings", self), self._findings, words)

    def _findings(self, words: ArticleWords) -> list[EventFinding]:
        article = words.article
        reading = self.reading(article.language)
        if reading is None:
            return []
        candidates = set(reading.objects.evaluate(words, "sentence"))
        targets = self.target.evaluate(words, "sentence") if self.target is not None else None
        sources = self.source.evaluate(words, "sentence") if self.source is not None else None
        for required in (targets, sources):
            if required is not None:
                candidates &= required.keys()
        context = NewsContext(published=(article.published_at or article.fetched_at).date(), allow=self.allow,
                              action_lemmas=reading.words.action_lemmas)
        nationalities = [span for _, span in words.entity_spans(frozenset(), _NATIONALITIES)]
        found = []
        for index in sorted(candidates):
            sentence = article.sentences[index]
            end = min(sentence.end, sentence.start + MAX_PARSED_CHARS)
            start = sentence.start + dateline_length(article.text[sentence.start:end])
            # The stand-in noun for multiword objects is English, so only English sentences get it.
            phrases = self._object_phrases(reading.words, words, start, end) if reading is self.primary else ()
            parse = repaired(parse_with_phrases(reading.parser, article.text[start:end], phrases))
            for event in find_events(parse, reading.words):
                target_spans = None if targets is None else _TargetSpans(targets[index], nationalities)
                found.append(self._finding(index, start, event, parse, context, target_spans,
                                           None if sources is None else sources[index]))
        return found

    @staticmethod
    def _object_phrases(event_words: EventWords, words: ArticleWords, start: int,
                        end: int) -> tuple[ObjectPhrase, ...]:
        """Where the multiword objects are written as phrases in characters ``start..end``, from there."""
        return tuple(ObjectPhrase(span.start - start, span.end - start, " ".join(pattern.lemmas))
                     for pattern in event_words.objects if len(pattern.lemmas) > 1
                     for span in words.term_spans(pattern.forms, pattern.lemmas)
                     if start <= span.start and span.end <= end)

    def _finding(self, index: int, offset: int, event: Event, parse: ParsedSentence, context: NewsContext,
                 target_spans: _TargetSpans | None, source_spans: list[Span] | None) -> EventFinding:
        rejected = why_not_news(event, parse, context)
        target = source = None
        matched = [_offsets(event.action, offset), _offsets(event.object, offset)]
        if target_spans is not None:
            phrases = event.targets or event.fallback_targets
            named = _named_in(phrases, target_spans.spans, offset)
            if named is None and event.targets:
                named = _named_in(event.reasons, target_spans.actors(parse, offset), offset)
            if named is None:
                rejected = rejected or _not_named("target", phrases, offset, parse.text, event.reasons)
            else:
                target = _offsets(named[0], offset)
                matched.append(named[1])
        if source_spans is not None:
            named = _named_in(event.sources, source_spans, offset)
            if named is None:
                rejected = rejected or _not_named("source", event.sources, offset, parse.text)
            else:
                source = _offsets(named[0], offset)
                matched.append(named[1])
        return EventFinding(sentence=index, kind=event.kind, action=matched[0], object=matched[1], target=target,
                            source=source, matched=tuple(matched), rejected=rejected)


@dataclass(frozen=True)
class _TargetSpans:
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
        return any(not (token.pos == "ADJ" or (token.dep in _ON_A_NOUN and self._in_nationality(token, offset)))
                   for token in tokens)

    def _in_nationality(self, token: ParsedToken, offset: int) -> bool:
        start, end = offset + token.start, offset + token.end
        return any(word.start < end and start < word.end for word in self.nationalities)


def _named_in(phrases: tuple[Phrase, ...], spans: list[Span], offset: int) -> tuple[Phrase, Offsets] | None:
    """The first phrase that holds one of the spans (as article offsets), with that span."""
    for phrase in phrases:
        for span in spans:
            if any(offset + token.start < span.end and span.start < offset + token.end for token in phrase):
                return phrase, (span.start, span.end)
    return None


def _not_named(role: str, phrases: tuple[Phrase, ...], offset: int, sentence: str,
               reasons: tuple[Phrase, ...] = ()) -> str:
    if not phrases:
        return f"{role}: the sentence names no {role} for it"
    found = f"{role}: not among {_written(phrases, sentence)}"
    return f"{found}, nor named as an actor in {_written(reasons, sentence)}" if reasons else found


def _written(phrases: tuple[Phrase, ...], sentence: str) -> str:
    return ", ".join(repr(sentence[phrase[0].start:phrase[-1].end]) for phrase in phrases)


def _offsets(phrase: Phrase, offset: int) -> Offsets:
    return offset + min(token.start for token in phrase), offset + max(token.end for token in phrase)
