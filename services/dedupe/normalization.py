"""Text normalization shared by cleanup, exact hashes and shingles."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_NON_WORD = re.compile(r"[\W_]+", re.UNICODE)


# An article's text is normalized twice in a row (exact hash, shingles); the cache makes that once.
@lru_cache(maxsize=32)
def normalize_text(text: str) -> str:
    """Case, accents, punctuation and whitespace folded away, so re-encoded copies hash alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    without_marks = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NON_WORD.sub(" ", without_marks.casefold()).strip()
