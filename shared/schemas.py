"""Message schemas of every topic, declared once.

Each message carries ``schema_version``. Within a major version we only add optional fields, so a
consumer written against version 1 keeps working; a breaking change bumps the version. The JSON
Schemas that outsiders read (``newsmon schema NAME``) are generated from these models.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared import topics

SCHEMA_VERSION: Literal[1] = 1
Priority = Literal["normal", "urgent"]
AlertType = Literal["alert.fired", "alert.updated"]
# A word, for ``EnrichedArticle.lemmas`` and for rule terms: a run of letters, digits and '_'.
WORD = re.compile(r"\w+")


def utcnow() -> datetime:
    """Timezone-aware current time; every timestamp on the wire is UTC."""
    return datetime.now(timezone.utc)


class Message(BaseModel):
    """Base of every message: versioned, strict about unknown versions, tolerant of extra fields."""

    model_config = ConfigDict(extra="ignore")

    schema_version: Literal[1] = SCHEMA_VERSION


class RawArticle(Message):
    """An article as the fetcher found it (topic ``articles.raw``, key ``article_id``)."""

    article_id: str = Field(description="sha256 of the canonical URL, or of the content for file input.")
    url: str | None = None
    canonical_url: str | None = None
    title: str = ""
    text: str = Field(min_length=1)
    source: str = Field(description="Where it came from: a feed URL, a site, or file:<path>.")
    language: str | None = None
    published_at: datetime | None = None
    fetched_at: datetime = Field(default_factory=utcnow)
    tags: list[str] = Field(default_factory=list)
    author: str | None = Field(
        default=None, description="Author as the feed item or the page names them (several joined by '; '); "
        "None when neither does."
    )


class UniqueArticle(RawArticle):
    """The first article of a story, after exact-duplicate removal (topic ``articles.unique``)."""

    story_id: str = Field(description="article_id of the first article of this story.")
    content_hash: str = Field(description="sha256 of the normalized text.")


class DuplicateArticle(UniqueArticle):
    """A later copy of a story: syndicated, re-headlined or updated (topic ``articles.duplicates``).

    ``text`` is cleaned like on ``articles.unique``; ``story_id`` is the first article's id.
    """

    duplicate_of: str = Field(description="article_id of the earlier article this one copies most closely.")
    similarity: float = Field(ge=0, le=1, description="Estimated Jaccard similarity of the two texts' shingles.")
    matched_on: Literal["url", "text", "minhash"] = Field(
        description="url / text: same canonical URL / normalized text; minhash: similar text."
    )
    story_outlets: int = Field(ge=1, description="Outlets carrying the story so far, this one included.")


class Sentence(BaseModel):
    """A sentence as character offsets into ``text``."""

    start: int
    end: int


class Mention(BaseModel):
    """One named-entity mention in the text."""

    text: str = Field(description="The mention as written: ``text[start:end]`` of the article.")
    label: str = Field(
        description="spaCy label: PERSON, GPE, ORG, LOC, NORP, DATE, ...; all mentions of one entity share it."
    )
    start: int = Field(description="Character offset into the article text.")
    end: int = Field(description="Character offset just past the mention.")
    sentence: int = Field(description="Index into ``sentences`` of the sentence holding the mention.")
    canonical: str = Field(
        description="Canonical name of the entity this mention refers to: for a watched name, its pattern's id in "
        "any language ('Irán', 'إيران' -> 'Iran'); else the longest form of the name in the article, without "
        "titles or possessive ('Blinken's' -> 'Antony Blinken'); equals an ``entities`` name for named labels."
    )


class Entity(BaseModel):
    """One entity of the article, all its mentions folded under its canonical name."""

    name: str = Field(description="Canonical name, e.g. 'Antony Blinken' for 'Blinken' and 'Blinken's'.")
    label: str = Field(description="spaCy label shared by all its mentions: PERSON, GPE, ORG, LOC, NORP, ...")
    mentions: int = Field(ge=1, description="Number of mentions folded under this name.")
    first_start: int = Field(description="Character offset of the first mention.")
    salience: float = Field(
        ge=0, le=1, description="Importance within this article, 0..1 (1 = the most salient entity): every "
        "mention counts 1, a mention in the lead (first 3 sentences) 2, and being named in the title adds 3."
    )
    aliases: list[str] = Field(
        default_factory=list, description="The distinct ways the article writes this entity, in order of appearance."
    )


class ModelInfo(BaseModel):
    """Which NLP pipeline produced the entities."""

    name: str
    version: str


class EnrichedArticle(UniqueArticle):
    """A unique article with sentences and entities (topic ``articles.enriched``, public contract)."""

    language: str | None = Field(
        default=None, description="ISO 639-1 code of the text: the detected language when detection is confident, "
        "else the one the source declared; None when neither is known."
    )
    sentences: list[Sentence] = Field(description="Sentences of the annotated text, in order; none crosses a line.")
    mentions: list[Mention] = Field(description="Every entity mention, in text order.")
    entities: list[Entity] = Field(
        description="One entry per named entity (dates, times, numbers and amounts stay in ``mentions`` only), "
        "most salient first."
    )
    lemmas: list[tuple[int, str]] = Field(
        default_factory=list, description="[start, lemma] for each word of the annotated text whose dictionary "
        "form (spaCy's lemmatizer, lowercase) differs from the word in context: 'bought' at offset 12 gives "
        "[12, 'buy']. A word is a run of letters, digits and '_' starting at ``start``. From the pipeline when "
        "``ner_mode`` is full; from spaCy's lookup tables for the language, where it has them, when patterns_only."
    )
    model: ModelInfo = Field(description="The spaCy pipeline that found the sentences and entities.")
    text_truncated: bool = Field(
        default=False, description="True when the text was longer than the configured cap (NEWSMON_NER_MAX_CHARS) "
        "and only its first ``annotated_chars`` characters have sentences and mentions."
    )
    ner_ms: float = Field(
        default=0.0, ge=0, description="Milliseconds of spaCy time for this article: its share, by length, of "
        "its micro-batch."
    )
    enriched_at: datetime = Field(default_factory=utcnow, description="When the ner service built the message (UTC).")
    language_detected: str | None = Field(
        default=None, description="ISO 639-1 code found by language identification on the text's beginning; "
        "None when the text is too short or too mixed to tell."
    )
    ner_mode: Literal["full", "patterns_only", "none"] = Field(
        default="full", description="full: the text's language has a trained pipeline (English, also for an "
        "unknown language; French): statistical NER, lemmas and watched-name patterns; patterns_only: no trained "
        "pipeline for the language, so spaCy's tokenizer and sentence rules for it, lookup lemmas where there is a "
        "table, and only watched names (NEWSMON_NER_PATTERNS_PATH and the shipped ones) are marked; none: no text "
        "to annotate."
    )
    annotated_chars: int | None = Field(
        default=None, ge=0, description="How many leading characters of ``text`` were annotated."
    )
    enrich_ms: float | None = Field(
        default=None, ge=0, description="Milliseconds of all enrichment for this article: ``ner_ms`` plus "
        "language identification, canonical names and message building."
    )


class MatchedSentence(BaseModel):
    """A sentence that satisfied a rule, with the offsets of the words that matched."""

    text: str
    start: int
    end: int
    matches: list[tuple[int, int]] = Field(default_factory=list, description="[start, end) pairs.")


class EventPart(BaseModel):
    """One part of an event as written in the article: ``text[start:end]``."""

    text: str
    start: int = Field(description="Character offset into the article text.")
    end: int = Field(description="Character offset just past the part.")


class MatchedEvent(BaseModel):
    """Why an event condition held in a sentence: who did what to whom, read from its dependency parse."""

    sentence: str = Field(description="The sentence, as in ``sentences``.")
    sentence_start: int = Field(description="Character offset of the sentence in the article text.")
    kind: Literal["verb", "noun", "object-verb", "cue"] = Field(
        description="How the action holds the object: verb ('imposed sanctions'), noun ('a new round of "
        "sanctions'), object-verb ('sanctioned five firms'), cue ('fresh sanctions')."
    )
    action: EventPart = Field(description="The action word(s): 'imposed', 'round', 'sanctioned', 'fresh'.")
    object: EventPart = Field(description="What the action is about: 'sanctions', 'arms embargo'.")
    target: EventPart | None = Field(default=None, description="The phrase the event is aimed at, when the rule "
                                     "asks for a target: 'on Iran's drone makers' gives 'Iran's drone makers'.")
    source: EventPart | None = Field(default=None, description="The phrase that carries it out, when the rule "
                                     "asks for a source.")
    scope: Literal["headline", "lede", "anchored", "anywhere"] | None = Field(
        default=None, description="Why the event counts as the article's news: it is in the headline (the "
        "article's first sentence), in its lede, anchored in a present or recent time ('on Tuesday', 'today'), "
        "or 'anywhere' when the rule's scope asks for no more. Absent from alerts made before scopes existed."
    )


class Alert(Message):
    """A watch rule fired on an article (topic ``alerts``, key ``alert_id``, public contract)."""

    alert_id: str = Field(description="Stable id: sha256 of rule id + story id; one alert per (rule, story).")
    rule_id: str
    rule_name: str
    article_id: str
    story_id: str
    url: str | None = None
    title: str
    source: str
    published_at: datetime | None = None
    sentences: list[MatchedSentence]
    mentions: list[Mention] = Field(default_factory=list, description="Entity mentions in the matched sentences.")
    fired_at: datetime = Field(default_factory=utcnow)
    fetched_at: datetime | None = Field(default=None, description="When the fetcher got the article.")
    latency_s: float | None = Field(
        default=None, description="Pipeline latency: seconds from ``fetched_at`` to ``fired_at``."
    )
    events: list[MatchedEvent] | None = Field(
        default=None, description="Present when the rule has an event condition: the event that held in each "
        "matched sentence (action, object, target, source). Absent for rules without one."
    )
    priority: Priority | None = Field(
        default=None, description="The rule's priority; urgent alerts skip digests. Absent means normal."
    )
    type: AlertType | None = Field(
        default=None, description="In webhook bodies: alert.fired for the first alert of a (rule, story), "
        "alert.updated for a later development of it (more outlets, a new entity). Absent on the topic, "
        "where every message is a first alert."
    )
    update_sequence: int | None = Field(
        default=None, ge=0, description="In webhook bodies: 0 for alert.fired, then 1, 2, ... for each "
        "alert.updated of the same alert; (alert_id, update_sequence) is unique."
    )
    outlets: int | None = Field(
        default=None, ge=1, description="In webhook bodies: outlets carrying the story when this was sent."
    )
    update_reason: str | None = Field(
        default=None, description="In alert.updated bodies: why, e.g. 'now 10 outlets'."
    )


class DeadLetter(Message):
    """A message a service could not handle, kept with the reason (topics ``dead-letter.<service>``)."""

    service: str
    topic: str
    reason: str
    key: str | None = None
    payload: str = Field(
        description="The original message, decoded as UTF-8 with replacement; only its beginning when "
        "``payload_truncated``."
    )
    failed_at: datetime = Field(default_factory=utcnow)
    payload_bytes: int | None = Field(default=None, ge=0, description="Size of the original message in bytes.")
    payload_sha256: str | None = Field(default=None, description="Hex sha256 of the original message's bytes.")
    payload_truncated: bool = Field(
        default=False, description="True when the dead letter would not fit in one Kafka message whole, so "
        "``payload`` keeps only the beginning (``payload_bytes`` and ``payload_sha256`` describe the whole)."
    )


PUBLIC_SCHEMAS: dict[str, type[Message]] = {
    topics.ARTICLES_RAW: RawArticle,
    topics.ARTICLES_UNIQUE: UniqueArticle,
    topics.ARTICLES_DUPLICATES: DuplicateArticle,
    topics.ARTICLES_ENRICHED: EnrichedArticle,
    topics.ALERTS: Alert,
}


def describe_validation_error(error: ValidationError) -> str:
    """One readable line per problem: ``field: message``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}"
        for item in error.errors()
    )
