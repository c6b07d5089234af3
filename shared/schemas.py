"""Message schemas of every topic, declared once.

Each message carries ``schema_version``. Within a major version we only add optional fields, so a
consumer written against version 1 keeps working; a breaking change bumps the version. The JSON
Schemas that outsiders read (``newsmon schema NAME``) are generated from these models.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newsmon.shared import topics

SCHEMA_VERSION = 1


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


class UniqueArticle(RawArticle):
    """The first article of a story, after exact-duplicate removal (topic ``articles.unique``)."""

    story_id: str = Field(description="article_id of the first article of this story.")
    content_hash: str = Field(description="sha256 of the normalized text.")


class Sentence(BaseModel):
    """A sentence as character offsets into ``text``."""

    start: int
    end: int


class Mention(BaseModel):
    """One named-entity mention in the text."""

    text: str
    label: str = Field(description="spaCy label: PERSON, GPE, ORG, LOC, NORP, ...")
    start: int = Field(description="Character offset into the article text.")
    end: int
    sentence: int = Field(description="Index into ``sentences``.")
    canonical: str = Field(description="Canonical name of the entity this mention refers to.")


class Entity(BaseModel):
    """One entity of the article, all its mentions folded under its canonical name."""

    name: str = Field(description="Canonical name, e.g. 'Antony Blinken' for 'Blinken' and 'Blinken's'.")
    label: str
    mentions: int = Field(ge=1)
    first_start: int = Field(description="Character offset of the first mention.")
    salience: float = Field(ge=0, description="Higher when mentioned often and early (title, lead).")


class ModelInfo(BaseModel):
    """Which NLP pipeline produced the entities."""

    name: str
    version: str


class EnrichedArticle(UniqueArticle):
    """A unique article with sentences and entities (topic ``articles.enriched``, public contract)."""

    sentences: list[Sentence]
    mentions: list[Mention]
    entities: list[Entity]
    model: ModelInfo
    text_truncated: bool = Field(default=False, description="True when only the first part was annotated.")
    ner_ms: float = Field(default=0.0, ge=0, description="Time spent in NER for this article's batch share.")
    enriched_at: datetime = Field(default_factory=utcnow)


class MatchedSentence(BaseModel):
    """A sentence that satisfied a rule, with the offsets of the words that matched."""

    text: str
    start: int
    end: int
    matches: list[tuple[int, int]] = Field(default_factory=list, description="[start, end) pairs.")


class Alert(Message):
    """A watch rule fired on an article (topic ``alerts``, key ``alert_id``, public contract)."""

    alert_id: str = Field(description="Stable id: sha256 of rule id + article id; one alert per pair.")
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


class DeadLetter(Message):
    """A message a service could not handle, kept with the reason (topics ``dead-letter.<service>``)."""

    service: str
    topic: str
    reason: str
    key: str | None = None
    payload: str = Field(description="The original message, decoded as UTF-8 with replacement.")
    failed_at: datetime = Field(default_factory=utcnow)


PUBLIC_SCHEMAS: dict[str, type[Message]] = {
    topics.ARTICLES_RAW: RawArticle,
    topics.ARTICLES_UNIQUE: UniqueArticle,
    topics.ARTICLES_ENRICHED: EnrichedArticle,
    topics.ALERTS: Alert,
}


def describe_validation_error(error: ValidationError) -> str:
    """One readable line per problem: ``field: message``."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or '<root>'}: {item['msg']}"
        for item in error.errors()
    )
