"""Cleanup before hashing: drop lines repeated within an article and site boilerplate lines.

Scraped pages repeat photo captions and headlines (seed ``000_…`` carries every caption two to
four times) and carry widget text ("Oops! Something went wrong."). Left in, they dominate the
shingles, so copies with other chrome look different and different stories with the same chrome
look alike. The cleaned text is also what flows on to ``articles.unique``: entity offsets and
alert sentences refer to it.

What callers may rely on: kept lines keep their order and text (trailing spaces aside); blank lines still
separate paragraphs (never more than one in a row); a line is dropped only when it repeats an
earlier line (compared normalized: case, accents, punctuation and spacing aside), or is a short
line matching one of the patterns in ``boilerplate.yaml``; and the lines of a hard-wrapped
paragraph are joined into one (``line_joining.py``), so no sentence crosses a line. This is the
one place every source's text is normalized (feeds, pages, files alike), before hashing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from services.dedupe.line_joining import join_wrapped_lines
from services.dedupe.normalization import normalize_text
from shared.schemas import RawArticle

BOILERPLATE_FILE = Path(__file__).with_name("boilerplate.yaml")
# Boilerplate is short; a longer line that mentions cookies or newsletters is article text.
MAX_BOILERPLATE_WORDS = 20


class EmptyArticle(ValueError):
    """Nothing is left of the article's text after cleanup; the message names the article."""


@dataclass(frozen=True)
class CleanText:
    """The cleaned text and how many lines of each kind were dropped."""

    text: str
    repeated_lines: int
    boilerplate_lines: int


@lru_cache(maxsize=1)
def boilerplate_pattern() -> re.Pattern[str]:
    """The patterns of ``boilerplate.yaml`` as one regex, read on first use (importing reads nothing)."""
    entries = yaml.safe_load(BOILERPLATE_FILE.read_text(encoding="utf-8"))["lines"]
    return re.compile("|".join(f"(?:{entry['pattern']})" for entry in entries))


def is_boilerplate(line: str) -> bool:
    """True for a short line that is site chrome (see ``boilerplate.yaml``)."""
    normalized = normalize_text(line)
    return bool(normalized) and len(normalized.split()) <= MAX_BOILERPLATE_WORDS and bool(
        boilerplate_pattern().fullmatch(normalized)
    )


def clean_text(text: str) -> CleanText:
    """The text without repeated and boilerplate lines (see the module docstring)."""
    seen: set[str] = set()
    kept: list[str] = []
    repeated = boilerplate = 0
    for line in text.splitlines():
        line = line.rstrip()
        if not line.strip():
            if kept and kept[-1]:
                kept.append("")
            continue
        normalized = normalize_text(line)
        if normalized in seen:
            repeated += 1
        elif is_boilerplate(line):
            boilerplate += 1
        else:
            if normalized:
                seen.add(normalized)
            kept.append(line)
    return CleanText(join_wrapped_lines("\n".join(kept).strip()), repeated, boilerplate)


def cleaned_article(article: RawArticle) -> tuple[RawArticle, CleanText]:
    """The article with its text cleaned; raises ``EmptyArticle`` when no text is left."""
    cleaned = clean_text(article.text)
    if not cleaned.text:
        raise EmptyArticle(
            f"article {article.article_id}: no text left after removing blank, repeated and boilerplate lines"
        )
    return article.model_copy(update={"text": cleaned.text}), cleaned
