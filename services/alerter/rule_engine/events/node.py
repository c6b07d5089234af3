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
from dataclasses import dataclass, replace
from typing import Literal

from services.alerter.rule_engine.article_words import ArticleWords, Span
from services.alerter.rule_engine.conditions import EventSpec
from services.alerter.rule_engine.events.anaphors import resolved_anaphors
from services.alerter.rule_engine.events.arguments import EventKind
from services.alerter.rule_engine.events.article_scope import article_date, lede_sentences
from services.alerter.rule_engine.events.constructions import Event, EventWords, find_events
from services.alerter.rule_engine.events.datelines import dateline_length
from services.alerter.rule_engine.events.framing import (
    framed_as_background,
    intended,
    recently_anchored,
    refers_back,
)
from services.alerter.rule_engine.events.news_checks import NewsContext, why_not_news
from services.alerter.rule_engine.events.next_sentence import linkable, opens_with_reference, referring_subject
from services.alerter.rule_engine.events.object_phrases import ObjectPhrase, parse_with_phrases
from services.alerter.rule_engine.events.parse_repairs import repaired
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, Phrase, SentenceParser
from services.alerter.rule_engine.events.target_spans import TargetSpans, doers, named_in
from services.alerter.rule_engine.nodes import ARTICLE_UNIT, AnyNode, Node, Required, Scope, Units
from shared.schemas import EventPart, MatchedEvent

EventScope = Literal["headline", "lede", "anchored", "anywhere"]

Offsets = tuple[int, int]
# spaCy's label for nationalities ("Iranian"), and the roles of a word that modifies a noun.
_NATIONALITIES = frozenset({"NORP"})
# A "sentence" longer than this (a scraped table, a list of names) is parsed up to here, so that no
# candidate costs the alerter more than a few tens of milliseconds; news sentences are far shorter.
MAX_PARSED_CHARS = 1500
_REFERS_BACK = "refers back: "


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
    scope: EventScope | None = None  # why it counts as the article's news, when kept

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
                            source=part(self.source), scope=self.scope)


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
        self.scope = spec.scope
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

    def silence(self, words: ArticleWords) -> str:
        """Why the condition found no event at all in the article (``rules eval`` prints it with a miss)."""
        reading = self.reading(words.article.language)
        if reading is None:
            return f"no event: the condition has no words for language {words.article.language!r}"
        with_object, _, _, candidates = self._candidates(reading, words)
        if not with_object:
            return "no event: no sentence holds an object word"
        if not candidates:
            return "no event: no sentence holds an object word with the target (nor the source), or links them " \
                   "through the next sentence"
        return "no event: in the sentences that hold an object word with the target, no action or cue word acts " \
               "on it"

    def _candidates(self, reading: Reading, words: ArticleWords) -> tuple[set[int], Units | None, Units | None,
                                                                          set[int]]:
        """The sentences holding an object word, where the target (with the country phrases that stand for it)
        and the source are named, and the sentences to parse: an object word with the target and source, or
        with the source and a target the next sentence links."""
        with_object = set(reading.objects.evaluate(words, "sentence"))
        targets = self.target.evaluate(words, "sentence") if self.target is not None else None
        sources = self.source.evaluate(words, "sentence") if self.source is not None else None
        candidates = set(with_object) if sources is None else with_object & sources.keys()
        if targets is not None:
            targets = {**targets, **resolved_anaphors(words, targets, candidates)}
            linked_next = {index for index in candidates - targets.keys()
                           if self._measure_follows(words, index, targets)}
            candidates = (candidates & targets.keys()) | linked_next
        return with_object, targets, sources, candidates

    def _findings(self, words: ArticleWords) -> list[EventFinding]:
        article = words.article
        reading = self.reading(article.language)
        if reading is None:
            return []
        with_object, targets, sources, candidates = self._candidates(reading, words)
        if not candidates:
            return []
        published, dated = article_date(article)
        context = NewsContext(published=published, allow=self.allow, action_lemmas=reading.words.action_lemmas,
                              dated=dated)
        lede = lede_sentences(article)
        nationalities = [span for _, span in words.entity_spans(frozenset(), _NATIONALITIES)]
        found = []
        for index in sorted(candidates):
            start, parse = self._parse(reading, words, index)
            for event in find_events(parse, reading.words):
                target_spans = None if targets is None else TargetSpans(targets.get(index, []), nationalities)
                finding = self._finding(index, start, event, parse, context, target_spans,
                                        None if sources is None else sources[index])
                finding = self._placed(finding, index, event, parse, context, lede)
                if targets is not None and finding.rejected is not None and finding.rejected.startswith("target:") \
                        and finding.scope is not None and self._measure_follows(words, index, targets):
                    finding = self._linked_by_next(reading, words, finding, event, targets[index + 1], nationalities)
                found.append(finding)
        return self._resolved(found, with_object, {index for index in with_object & self._reporting(reading, words)
                                                   if index in lede})

    @staticmethod
    def _reporting(reading: Reading, words: ArticleWords) -> set[int]:
        """The sentences that hold an action or a cue word of the condition ("imposed", "new"): where the object
        is more than mentioned ("despite US sanctions" is not a report of them)."""
        spans = [span for pattern in (*reading.words.actions, *reading.words.cues)
                 for span in words.term_spans(pattern.forms, pattern.lemmas)]
        return set(words.sentence_spans(spans))

    def _parse(self, reading: Reading, words: ArticleWords, index: int) -> tuple[int, ParsedSentence]:
        """Where the parsed text of sentence ``index`` starts (after a dateline), and its parse. The stand-in
        noun for multiword objects is English, so only sentences read with the condition's own words get it."""
        sentence = words.article.sentences[index]
        end = min(sentence.end, sentence.start + MAX_PARSED_CHARS)
        start = sentence.start + dateline_length(words.article.text[sentence.start:end])
        phrases = self._object_phrases(reading.words, words, start, end) if reading is self.primary else ()
        return start, repaired(parse_with_phrases(reading.parser, words.article.text[start:end], phrases))

    @staticmethod
    def _measure_follows(words: ArticleWords, index: int, targets: Units) -> bool:
        """The next sentence names the target and may open with the measure or the parties named again ("The move
        ...", "These individuals ...")."""
        sentences = words.article.sentences
        if index + 1 not in targets or index + 1 >= len(sentences):
            return False
        following = sentences[index + 1]
        return opens_with_reference(words.article.text[following.start:following.end])

    def _linked_by_next(self, reading: Reading, words: ArticleWords, finding: EventFinding, event: Event,
                        spans: list[Span], nationalities: list[Span]) -> EventFinding:
        """The finding kept when the next sentence, about the measure itself or the parties pointed back at,
        names the target as an actor."""
        start, parse = self._parse(reading, words, finding.sentence + 1)
        parties = frozenset(token.lemma for phrase in event.targets for token in phrase
                            if token.pos in ("NOUN", "PROPN"))
        subject = referring_subject(parse, parties)
        if subject is None:
            return finding
        actors = TargetSpans(linkable(parse, subject, spans, start), nationalities).actors(parse, start)
        if not actors:
            return finding
        return replace(finding, rejected=None, target=(actors[0].start, actors[0].end))

    def _placed(self, finding: EventFinding, index: int, event: Event, parse: ParsedSentence, context: NewsContext,
                lede: frozenset[int]) -> EventFinding:
        """The finding with the framing checks and the rule's scope applied: kept with the scope that makes it
        the article's news, or rejected with why it is not. A finding rejected only for its target still
        gets the framing checks, so that a later "the sanctions ..." knows whether it was news."""
        if finding.rejected is not None and not finding.rejected.startswith("target:"):
            return finding
        rejected = finding.rejected
        if "intended" not in self.allow and (why := intended(event, parse, context.action_lemmas)) is not None:
            rejected = f"intended: {why}"
        elif (why := framed_as_background(event, parse, context.published)) is not None:
            rejected = f"background: {why}"
        elif rejected is None and (why := refers_back(event, parse)) is not None:
            rejected = f"{_REFERS_BACK}{why}"
        scope = _scope_of(self.scope, index, index in lede, recently_anchored(event, parse, context.published))
        if rejected is None and scope is None:
            rejected = (f"scope: not in the {'headline' if self.scope == 'headline' else 'headline or lede'}"
                        + ("" if self.scope == "headline" else ", and no present or recent time anchors it"))
        return replace(finding, rejected=rejected, scope=scope)

    @staticmethod
    def _resolved(found: list[EventFinding], with_object: set[int], reported_in_lede: set[int]) -> list[EventFinding]:
        """"The sanctions ..." stands for sanctions named earlier: it is news when an earlier mention read was
        reported as news (taking its scope), or when it is the first mention of the object, or the headline or
        lede reported the object with an action or cue word, unless earlier mentions read only planned,
        refused, lifted, evaded or dated them. "Despite the sanctions. The sanctions target ..." is not news."""
        resolved: list[EventFinding] = []
        for finding in found:
            if finding.rejected is not None and finding.rejected.startswith(_REFERS_BACK):
                earlier = [before for before in resolved if before.sentence < finding.sentence]
                news = next((before for before in earlier if before.scope is not None and (
                    before.rejected is None or before.rejected.startswith("target:"))), None)
                first_mention = not any(index < finding.sentence for index in with_object)
                lede_report = any(index < finding.sentence for index in reported_in_lede)
                if news is not None or ((first_mention or lede_report) and not any(
                        _not_a_new_measure(before.rejected) for before in earlier)):
                    scope = finding.scope or (news.scope if news is not None else "lede")
                    finding = replace(finding, rejected=None if scope is not None else finding.rejected, scope=scope)
            resolved.append(finding)
        return [replace(finding, scope=None) if finding.rejected is not None else finding for finding in resolved]

    @staticmethod
    def _object_phrases(event_words: EventWords, words: ArticleWords, start: int,
                        end: int) -> tuple[ObjectPhrase, ...]:
        """Where the multiword objects are written as phrases in characters ``start..end``, from there."""
        return tuple(ObjectPhrase(span.start - start, span.end - start, " ".join(pattern.lemmas))
                     for pattern in event_words.objects if len(pattern.lemmas) > 1
                     for span in words.term_spans(pattern.forms, pattern.lemmas)
                     if start <= span.start and span.end <= end)

    def _finding(self, index: int, offset: int, event: Event, parse: ParsedSentence, context: NewsContext,
                 target_spans: TargetSpans | None, source_spans: list[Span] | None) -> EventFinding:
        rejected = why_not_news(event, parse, context)
        target = source = None
        matched = [_offsets(event.action, offset), _offsets(event.object, offset)]
        if target_spans is not None:
            phrases = event.targets or event.fallback_targets
            named = named_in(phrases, target_spans.spans, offset)
            if named is None and event.targets:
                named = named_in(event.reasons, target_spans.actors(parse, offset), offset)
            if named is None:
                rejected = rejected or _not_named("target", phrases, offset, parse.text, event.reasons)
            elif (acting := named_in(doers(parse, event), target_spans.spans, offset)) is not None:
                # "Tehran imposed sanctions on ten US officials": the target is the one who acts.
                rejected = rejected or f"target: {_written((acting[0],), parse.text)} is the one who acts"
            else:
                target = _offsets(named[0], offset)
                matched.append(named[1])
        if source_spans is not None:
            named = named_in(event.sources, source_spans, offset)
            if named is None:
                rejected = rejected or _not_named("source", event.sources, offset, parse.text)
            else:
                source = _offsets(named[0], offset)
                matched.append(named[1])
        return EventFinding(sentence=index, kind=event.kind, action=matched[0], object=matched[1], target=target,
                            source=source, matched=tuple(matched), rejected=rejected)


def _not_a_new_measure(rejected: str | None) -> bool:
    """A rejection that says the sanctions mentioned were not a new measure (planned, refused, lifted, evaded,
    dated, told as background); a participle describing something ("those targeted by the sanctions") is
    only another mention."""
    if rejected is None:
        return False
    if rejected.startswith("background:"):
        return "clause describing" not in rejected
    return rejected.startswith(("intended:", "negated:", "relief:", "evasion:", "past:"))


def _scope_of(rule_scope: str, index: int, in_lede: bool, anchored: bool) -> EventScope | None:
    if rule_scope == "anywhere":
        return "anywhere"
    if index == 0:
        return "headline"
    if rule_scope == "headline":
        return None
    return "lede" if in_lede else "anchored" if anchored else None


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
