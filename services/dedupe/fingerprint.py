"""Exact-duplicate fingerprints: what makes two articles "the same text" or "the same page"."""

from __future__ import annotations

from services.dedupe.cleanup import cleaned_article
from services.dedupe.normalization import normalize_text
from services.dedupe.story_store import ExactKind
from shared.article_ids import canonical_url, sha256_hex
from shared.schemas import RawArticle, UniqueArticle


def content_hash(text: str) -> str:
    """sha256 of the normalized text."""
    return sha256_hex(normalize_text(text))


def fingerprints(article: RawArticle) -> dict[ExactKind, str]:
    """The keys under which a copy of this article would be recognised: its text, and its canonical URL."""
    keys: dict[ExactKind, str] = {"text": content_hash(article.text)}
    url = article.canonical_url or article.url
    if url:
        keys["url"] = sha256_hex(canonical_url(url))
    return keys


def as_unique(cleaned: RawArticle, story_id: str) -> UniqueArticle:
    """A cleaned article as it goes on to ``articles.unique``."""
    return UniqueArticle(**cleaned.model_dump(), story_id=story_id, content_hash=content_hash(cleaned.text))


def first_of_story(article: RawArticle) -> UniqueArticle:
    """The article, cleaned as dedupe cleans it, as the first of its story (its own id is the story id).

    Raises ``cleanup.EmptyArticle`` when no text is left after cleanup.
    """
    return as_unique(cleaned_article(article)[0], article.article_id)
