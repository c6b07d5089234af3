"""Rule evaluation on enriched articles: pure functions, shared by the alerter and ``newsmon rules test``.

Rules are compiled once into a tree of nodes (``nodes.py``, ``events/node.py``). A node evaluated on
an article answers, for each unit of its scope (each sentence for ``sentence:``, the single unit 0
for ``article:``), the spans that satisfied it there; a unit absent from the answer does not
satisfy it.

A node also tells which words it needs (``required``), so a rule whose needed words are all
absent from an article is skipped without evaluating it: with a large watchlist most rules are.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from services.alerter.rule_engine.aliases import AliasTable, AliasTerm, configured_aliases
from services.alerter.rule_engine.article_words import ArticleWords, Span
from services.alerter.rule_engine.conditions import (
    AliasCondition,
    AllGroup,
    AnyGroup,
    Condition,
    EntityCondition,
    EventCondition,
    EventSpec,
    NearCondition,
    NoneGroup,
    TermCondition,
)
from services.alerter.rule_engine.events.constructions import EventWords
from services.alerter.rule_engine.events.languages import EventLanguage, configured_event_languages
from services.alerter.rule_engine.events.node import EventFinding, EventNode, Reading
from services.alerter.rule_engine.events.sentence_parse import SentenceParser, configured_parser
from services.alerter.rule_engine.nodes import (
    ARTICLE_UNIT,
    AllNode,
    AnyNode,
    EntityNode,
    NearNode,
    Node,
    NoneNode,
    TermNode,
    Units,
)
from services.alerter.rule_engine.rules import Rule
from services.alerter.rule_engine.terms import NEAR_SHORTHAND, CaseMode
from shared.schemas import WORD, EnrichedArticle, MatchedEvent, MatchedSentence


@dataclass(frozen=True)
class RuleMatch:
    """A rule that fired, with the sentences that satisfied it and, for a rule with event conditions,
    the event of each sentence that had one (None for rules without)."""

    rule: Rule
    sentences: list[MatchedSentence]
    events: list[MatchedEvent] | None = None


class _Compiler:
    """Turns conditions into nodes, with the alias sets and the sentence parser they may need."""

    def __init__(self, aliases: AliasTable | None, parser: SentenceParser | None,
                 languages: Mapping[str, EventLanguage] | None) -> None:
        self._aliases = aliases
        self._parser = parser
        self._languages = languages
        self.event_nodes: list[EventNode] = []

    def node(self, condition: Condition, case: CaseMode) -> Node:
        """The node for a condition; ``case`` is inherited from the enclosing group or rule."""
        if isinstance(condition, str):
            if shorthand := NEAR_SHORTHAND.match(condition):
                return NearNode(TermNode(shorthand["left"], case, None), TermNode(shorthand["right"], case, None),
                                int(shorthand["words"]))
            return TermNode(condition, case, None)
        if isinstance(condition, TermCondition):
            return TermNode(condition.term, condition.case or case, condition.min_mentions)
        if isinstance(condition, EntityCondition):
            return EntityNode(condition)
        if isinstance(condition, AliasCondition):
            return AnyNode([self._alias_term(entry, case) for name in condition.names
                            for entry in self._alias_set(name)], None)
        if isinstance(condition, EventCondition):
            return self._event(condition)
        inner = getattr(condition, "case", None) or case
        if isinstance(condition, AnyGroup):
            return AnyNode([self.node(member, inner) for member in condition.any], condition.min_mentions)
        if isinstance(condition, AllGroup):
            return AllNode([self.node(member, inner) for member in condition.all])
        if isinstance(condition, NoneGroup):
            return NoneNode([self.node(member, inner) for member in condition.none])
        if isinstance(condition, NearCondition):
            left, right = (self.node(member, inner) for member in condition.near)
            return NearNode(left, right, condition.within)
        raise TypeError(f"not a condition: {condition!r}")

    def _event(self, condition: EventCondition) -> EventNode:
        spec = condition.event
        # Event words are matched on lemmas, ignoring case: the parse decides how they relate. A
        # two-word object may also be written as a verb and its object ("froze the assets").
        objects = AnyNode([self._object_words(term) for term in spec.object], None)
        target = self.node(spec.target, "insensitive") if spec.target is not None else None
        source = self.node(spec.source, "insensitive") if spec.source is not None else None
        languages = configured_event_languages() if self._languages is None else self._languages
        readings = {code: reading for code, language in languages.items()
                    if (reading := self._reading(spec, language)) is not None}
        node = EventNode(spec, objects, target, source, self._parser or configured_parser(), readings)
        self.event_nodes.append(node)
        return node

    def _reading(self, spec: EventSpec, language: EventLanguage) -> Reading | None:
        """How the condition reads ``language``: the rule's words for it, else its lexicon's (inherited);
        None when it has no action or no object there."""
        given = spec.languages.get(language.code)
        lexicon = language.lexicon

        def chosen(own: list[str] | None, english: list[str]) -> list[str]:
            return own if own is not None else lexicon.inherited(english)

        actions = chosen(given.action if given else None, spec.action)
        objects = chosen(given.object if given else None, spec.object)
        if not actions or not objects:
            return None
        cues = given.cue if given and given.cue is not None else lexicon.cues
        listing = given.listing if given and given.listing is not None else lexicon.listing
        words = EventWords.of([lexicon.term(term) for term in actions], [lexicon.term(term) for term in objects],
                              [lexicon.term(term) for term in cues], [lexicon.term(term) for term in listing])
        # Candidate sentences are found in the text, so the object terms are matched there as written.
        found = AnyNode([self._object_words(term) for term in objects], None)
        return Reading(language.parser, words, found)

    @staticmethod
    def _object_words(term: str) -> Node:
        phrase = TermNode(term, "insensitive", None)
        words = WORD.findall(term)
        if len(words) != 2:
            return phrase
        return AnyNode([phrase, AllNode([TermNode(word, "insensitive", None) for word in words])], None)

    def _alias_set(self, name: str) -> tuple[str | AliasTerm, ...]:
        aliases = configured_aliases() if self._aliases is None else self._aliases
        try:
            return aliases[name]
        except KeyError:
            raise ValueError(f"unknown alias set {name!r}; known: {', '.join(sorted(aliases))}") from None

    @staticmethod
    def _alias_term(entry: str | AliasTerm, case: CaseMode) -> TermNode:
        return TermNode(entry, case, None) if isinstance(entry, str) else TermNode(entry.term, entry.case, None)


class CompiledRule:
    """A rule with its conditions compiled, so evaluation does no rule parsing per article.

    ``aliases``, ``parser`` and ``languages`` default to the process's configured ones
    (``NEWSMON_ALIASES_PATH``, ``NEWSMON_SPACY_MODEL``, ``NEWSMON_SPACY_LANGUAGE_MODELS`` with the shipped
    lexicons); a parser loads its model only when an event condition first needs it.
    """

    def __init__(self, rule: Rule, aliases: AliasTable | None = None, parser: SentenceParser | None = None,
                 languages: Mapping[str, EventLanguage] | None = None) -> None:
        self.rule = rule
        compiler = _Compiler(aliases, parser, languages)
        self.sentence = compiler.node(rule.sentence, rule.case) if rule.sentence is not None else None
        self.article = compiler.node(rule.article, rule.case) if rule.article is not None else None
        self.event_nodes = compiler.event_nodes
        self.sources = [pattern.lower() for pattern in rule.sources]
        self.tags = frozenset(tag.lower() for tag in rule.tags)
        self.required = tuple(words for node in (self.sentence, self.article) if node is not None
                              for words in node.required())

    def may_fire(self, vocabulary: frozenset[str]) -> bool:
        """False when the article lacks every word of some set the rule needs: it cannot fire there."""
        return all(not needed.isdisjoint(vocabulary) for needed in self.required)

    def accepts(self, article: EnrichedArticle) -> bool:
        """The source and tag filters."""
        if self.tags and not self.tags & {tag.lower() for tag in article.tags}:
            return False
        return not self.sources or _source_matches(self.sources, [article.source, article.url or ""])

    def match(self, words: ArticleWords) -> list[MatchedSentence] | None:
        """The matched sentences when the rule fires on the article, else None."""
        units = self._units(words)
        return None if units is None else _matched_sentences(words, units)

    def fire(self, words: ArticleWords) -> RuleMatch | None:
        """The match, with the events that held in its sentences, when the rule fires; else None."""
        units = self._units(words)
        if units is None:
            return None
        return RuleMatch(self.rule, _matched_sentences(words, units), self.events(words, units.keys()))

    def events(self, words: ArticleWords, sentences: Iterable[int]) -> list[MatchedEvent] | None:
        """The first kept event of each of ``sentences``; None for a rule without event conditions."""
        if not self.event_nodes:
            return None
        kept: dict[int, EventFinding] = {}
        for node in self.event_nodes:
            for finding in node.findings(words):
                if finding.rejected is None:
                    kept.setdefault(finding.sentence, finding)
        return [kept[index].explained(words) for index in sorted(set(sentences)) if index in kept]

    def silences(self, words: ArticleWords) -> list[str]:
        """Why each event condition that found nothing in the article found nothing (``rules eval``)."""
        return [node.silence(words) for node in self.event_nodes if not node.findings(words)]

    def rejected_events(self, words: ArticleWords) -> list[EventFinding]:
        """The events the rule's event conditions found and rejected, with the reasons (for ``rules eval``)."""
        return [finding for node in self.event_nodes for finding in node.findings(words)
                if finding.rejected is not None]

    def _units(self, words: ArticleWords) -> Units | None:
        article = words.article
        if not self.accepts(article):
            return None
        article_spans: list[Span] = []
        if self.article is not None:
            found = self.article.evaluate(words, "article")
            if not found:
                return None
            article_spans = found[ARTICLE_UNIT]
        if self.sentence is None:
            return words.sentence_spans(article_spans)
        units = dict(self.sentence.evaluate(words, "sentence"))  # a copy: node results may be cached
        if not units:
            return None
        for sentence, spans in words.sentence_spans(article_spans).items():
            if sentence in units:
                units[sentence] = units[sentence] + spans
        return units


def _source_matches(patterns: list[str], candidates: Iterable[str]) -> bool:
    """A glob matches the whole source or URL; a pattern without wildcards matches anywhere in it."""
    lowered = [candidate.lower() for candidate in candidates if candidate]
    return any(
        fnmatchcase(candidate, pattern) if any(char in pattern for char in "*?[") else pattern in candidate
        for pattern in patterns
        for candidate in lowered
    )


def _matched_sentences(words: ArticleWords, units: Units) -> list[MatchedSentence]:
    article = words.article
    matched = []
    for index in sorted(units):
        sentence = article.sentences[index]
        offsets = sorted({(span.start, span.end) for span in units[index]})
        matched.append(MatchedSentence(text=article.text[sentence.start:sentence.end].strip(), start=sentence.start,
                                       end=sentence.end, matches=offsets))
    return matched


def compile_rules(rules: list[Rule], aliases: AliasTable | None = None, parser: SentenceParser | None = None,
                  languages: Mapping[str, EventLanguage] | None = None) -> list[CompiledRule]:
    """Compile rules once at load time (aliases, parser and the other languages' parsers and lexicons:
    the configured ones unless given)."""
    return [CompiledRule(rule, aliases, parser, languages) for rule in rules]


def evaluate(rules: list[CompiledRule], article: EnrichedArticle) -> list[RuleMatch]:
    """Every rule that fires on the article, with the sentences (and events) that made it fire."""
    words = ArticleWords(article)
    matches = []
    for compiled in rules:
        if compiled.may_fire(words.vocabulary) and (match := compiled.fire(words)) is not None:
            matches.append(match)
    return matches
