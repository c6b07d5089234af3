"""Which language an article is in, so English NER is not run on text it would mangle.

Identification is py3langid's naive Bayes model, shipped inside its wheel (no network). It reads
only the beginning of the text: that costs well under a millisecond, a hundredth of annotating.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import islice

from py3langid.langid import MODEL_FILE, LanguageIdentifier

SAMPLE_CHARS = 1_000
MIN_LETTERS = 30  # shorter samples ("Rafah", a headline) give guesses, not answers
MIN_PROBABILITY = 0.8


@lru_cache(maxsize=1)
def identifier() -> LanguageIdentifier:
    """The model, loaded once per process (about 0.7 s); services call it at start-up."""
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when the text is too short or too mixed to tell."""
    sample = text[:SAMPLE_CHARS]
    letters = (character for character in sample if character.isalpha())
    if sum(1 for _ in islice(letters, MIN_LETTERS)) < MIN_LETTERS:  # stops at the MIN_LETTERS-th letter
        return None
    language, probability = identifier().classify(sample)
    return str(language) if probability >= MIN_PROBABILITY else None


def primary_language(tag: str | None) -> str | None:
    """The language part of a declared tag: ``en-US`` and ``EN_gb`` are ``en``; empty is None."""
    if not tag or not tag.strip():
        return None
    return tag.strip().replace("_", "-").split("-")[0].lower()


def article_language(declared: str | None, detected: str | None) -> str | None:
    """What the text is written in: the detected language, else what the source declared."""
    return detected or primary_language(declared)
