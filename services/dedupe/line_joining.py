"""Hard-wrapped text (plain-text wire copy, newsletters, some feeds) joined back into one line per paragraph.

Sentences never cross a line (``docs/enriched-topic.md``): scraped pages put headlines, captions and
paragraphs on lines of their own, often without final punctuation. Text wrapped at a fixed width
breaks that, since its sentences run across lines. This module joins, inside a block of lines
(blank lines separate blocks), the lines a wrap split:

- a line that does not end a sentence, followed by one that starts in lower case, a digit or
  continuing punctuation ("... sanctions on" / "five companies ..."), is one sentence, whatever
  the widths;
- in a wrapped block (several lines, the longest of ``MIN_WRAP_WIDTH`` to ``MAX_WRAP_WIDTH``
  characters: the width wire copy and newsletters are wrapped at), a
  line that reaches close to the block's width (``FULL_LINE_SHARE`` of it) is continued by the next,
  even at a sentence's end or before a capital ("... on" / "Iran's oil ...");
- a list item ("- ", "* ", "• ", "1. ", "(a) ") or a heading (a short line in capitals, or one ending
  with a colon) starts a line of its own, and a short line ends its paragraph (a title, a byline).

A word hyphenated at the end of a line is joined without a space ("anti-" / "government"). The
function is pure and idempotent: joined text joins to itself.
"""

from __future__ import annotations

import re

MIN_WRAP_WIDTH = 40
MAX_WRAP_WIDTH = 100
FULL_LINE_SHARE = 0.75
_ENDS_SENTENCE = re.compile(r"""[.!?;:…]["'’”)\]]*$""")
_CONTINUES = re.compile(r"""^[a-z0-9(,;:%$€£\-–—"'“‘]""")
_LIST_ITEM = re.compile(r"^(?:[-*•▪‣◦]\s|\(?[0-9a-zA-Z]{1,2}[.)]\s)")
_HYPHENATED = re.compile(r"[A-Za-z]-$")


def join_wrapped_lines(text: str) -> str:
    """The text with the line breaks inside its paragraphs replaced (see the module docstring)."""
    blocks = [block.split("\n") for block in text.split("\n\n")]
    return "\n\n".join("\n".join(_joined(lines)) for lines in blocks)


def _joined(lines: list[str]) -> list[str]:
    width = max((len(line.rstrip()) for line in lines), default=0)
    wrapped = len(lines) > 1 and MIN_WRAP_WIDTH <= width <= MAX_WRAP_WIDTH
    joined: list[str] = []
    for raw in lines:
        line = raw.strip()
        previous = joined[-1] if joined else ""
        if previous and line and _continues(previous, line, width, wrapped):
            separator = "" if _HYPHENATED.search(previous) and line[:1].islower() else " "
            joined[-1] = previous + separator + line
        else:
            joined.append(raw.rstrip())
    return joined


def _continues(previous: str, line: str, width: int, wrapped: bool) -> bool:
    if _starts_own_line(line) or _is_heading(previous):
        return False
    if not _ENDS_SENTENCE.search(previous) and _CONTINUES.match(line):
        return True
    return wrapped and len(previous) >= FULL_LINE_SHARE * width


def _starts_own_line(line: str) -> bool:
    return bool(_LIST_ITEM.match(line)) or _is_heading(line)


def _is_heading(line: str) -> bool:
    words = line.split()
    return 0 < len(words) <= 8 and (line.endswith(":") or (line.isupper() and any(c.isalpha() for c in line)))
