"""A wire dateline ("WASHINGTON (AP) — ", "KYIV, Ukraine (AP) — ", "LONDON, Nov 28 (Reuters) - ") is
not part of the lede's grammar, so the event condition parses the sentence after it.

Parsed with its dateline, the lede is one long noun phrase to the small English model whenever
the agency's name is unfamiliar ("SEOUL (Outlet36) — The G7 agreed ... to expand sanctions"):
the capitals become the root and the real verb is lost. Only a line that reads as a dateline is
skipped: a place in capitals, an optional region or date after a comma, then an agency in
parentheses and a dash, or a long dash alone. A sentence that merely starts with an acronym
("NATO said ...") has neither and is parsed whole.
"""

from __future__ import annotations

import re

_PLACE = r"[A-Z][A-Z.'’-]*[A-Z.](?: [A-Z][A-Z.'’-]*[A-Z.])*"
_REGION = r"(?:, [^\n()—–]{1,40}?)?"
_AGENCY = r" ?\([^()\n]{1,40}\)"
_DATELINE = re.compile(rf"{_PLACE}{_REGION}(?:{_AGENCY} ?(?:—|–|--|-)| ?(?:—|–|--)) +(?=\S)")


def dateline_length(sentence: str) -> int:
    """How many characters at the start of ``sentence`` are a dateline (0 when it has none)."""
    found = _DATELINE.match(sentence)
    return found.end() if found else 0
