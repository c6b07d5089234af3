"""Text that fits a channel's limits: control characters out, then shortened with an ellipsis.

A limit is never a reason to fail a delivery: a 10,000-character title is shortened, not refused.
Lengths are counted in UTF-16 code units (what JavaScript's ``length`` counts, and at least the number
of characters), so an emoji-heavy title fits whichever way a service counts. Shortening an escaped
text is done on the raw text and re-escaped, so an entity such as ``&amp;`` is never cut in half.
"""

from __future__ import annotations

import re
from collections.abc import Callable

ELLIPSIS = "…"
# C0/C1 controls, zero-width and bidirectional controls: invisible, or able to reorder what a reader
# sees (a title that displays as something else), so they never reach a message.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
_WHITESPACE = re.compile(r"\s+")
# Cut at a word boundary when one is this close to the limit; otherwise mid-word.
_WORD_SLACK = 20


def length(text: str) -> int:
    """Length in UTF-16 code units."""
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


def one_line(text: str) -> str:
    """The text without invisible characters, every run of whitespace (newlines too) one space."""
    return _WHITESPACE.sub(" ", _INVISIBLE.sub("", text)).strip()


def shorten(text: str, limit: int, escape: Callable[[str], str] | None = None) -> str:
    """``escape(text)`` if it fits in ``limit``, else the escape of the longest prefix that fits with
    an ellipsis after it (cut at a word boundary when one is near)."""
    render = escape or _same
    whole = render(text)
    if length(whole) <= limit:
        return whole
    if limit < length(render(ELLIPSIS)):
        return ""
    low, high = 0, len(text)  # the longest prefix whose shortened form fits
    while low < high:
        middle = (low + high + 1) // 2
        if length(render(text[:middle].rstrip() + ELLIPSIS)) <= limit:
            low = middle
        else:
            high = middle - 1
    prefix = text[:low]
    space = prefix.rfind(" ")
    if space > 0 and low - space <= _WORD_SLACK:
        prefix = prefix[:space]
    return render(prefix.rstrip() + ELLIPSIS)


def largest_fitting(render: Callable[[int], str], limit: int, most: int) -> str:
    """``render(budget)`` for the largest budget in [0, most] whose result fits in ``limit``.

    For texts assembled from several parts (a sentence with marked words), where the rendered length
    grows with the budget given to the raw text; ``render(0)`` must fit.
    """
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        if length(render(middle)) <= limit:
            low = middle
        else:
            high = middle - 1
    return render(low)


def _same(text: str) -> str:
    return text
