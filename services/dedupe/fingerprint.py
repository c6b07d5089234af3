"""Exact-duplicate fingerprints: what makes two articles "the same text"."""

from __future__ import annotations

import re
import unicodedata

from newsmon.shared.article_ids import canonical_url, sha256_hex
from newsmon.shared.schemas import RawArticle, UniqueArticle

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalize_text(text: str) -> str:
    """Case, accents, punctuation and whitespace folded away, so re-encoded copies hash alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NON_WORD.sub(" ", without_marks.casefold()).strip()


def content_hash(text: str) -> str:
    """sha256 of the normalized text."""
    return sha256_hex(normalize_text(text))


def fingerprints(article: RawArticle) -> dict[str, str]:
    """The keys under which a copy of this article would be recognised: canonical URL and text."""
    keys = {"text": content_hash(article.text)}
    url = article.canonical_url or article.url
    if url:
        keys["url"] = sha256_hex(canonical_url(url))
    return keys


def first_of_story(article: RawArticle) -> UniqueArticle:
    """The article as the first of its story: its own id is the story id."""
    return UniqueArticle(**article.model_dump(), story_id=article.article_id, content_hash=content_hash(article.text))
