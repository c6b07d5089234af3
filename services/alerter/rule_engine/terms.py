"""How a term is written in a rule or an alias file: its text, its checks, and its case mode.

Kept apart from ``conditions.py`` so the alias sets (``aliases.py``), which rule validation
consults, can use the same term checks without importing the condition tree.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, StringConstraints

CaseMode = Literal["sensitive", "insensitive"]
TermText = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
NEAR_SHORTHAND = re.compile(r"^(?P<left>.+?)\s+NEAR/(?P<words>\d+)\s+(?P<right>.+)$")
_WORD = re.compile(r"\w", re.UNICODE)
MAX_NEAR_WORDS = 100


def check_term_text(text: str) -> str:
    """A term must contain a word; ``NEAR/n`` shorthand must have a term on each side."""
    shorthand = NEAR_SHORTHAND.match(text)
    parts = [shorthand["left"], shorthand["right"]] if shorthand else [text]
    for part in parts:
        if not _WORD.search(part):
            raise ValueError(f"term {part!r} has no word characters")
    if shorthand and int(shorthand["words"]) > MAX_NEAR_WORDS:
        raise ValueError(f"NEAR/{shorthand['words']}: at most {MAX_NEAR_WORDS} words")
    return text


CheckedTerm = Annotated[TermText, AfterValidator(check_term_text)]
