"""Where in an article an event may be its news, and the article's date.

An event is the article's news when it is in the **headline** (the text's first sentence), the
**lede** (every sentence up to the end of the third paragraph of prose: a line of at least
``PROSE_WORDS`` words that ends a sentence, so scraped chrome above the story, bylines and captions
ending with their credit, counts as headline matter; three, because a scraped page often opens with
a standfirst or a paragraph of context before the news), or anchored in a present or recent time
(``framing.recently_anchored``). A paragraph is a line: text arrives with its hard wraps joined
(``services/dedupe/cleanup.py``). Without a published date, the text's own dates date it.

The article's date is what "past" and "recent" are measured against: ``published_at``; else the
latest full date the text itself names ("date 2024-06-01", "March 20, 2025", "18 November 2024")
or, lacking one, the end of the latest year it names, never after it was fetched; else when it was
fetched. A copy of an old story read today is then judged against its own time, not today's.
"""

from __future__ import annotations

import re
from datetime import date

from shared.schemas import EnrichedArticle

PROSE_WORDS = 15
# Prose ends its sentences; a photo caption ends with its credit "(Aaron Chown/PA)", a headline with nothing.
_ENDS_SENTENCE = re.compile(r"""[.!?]["'’”»)\]]*$""")
LEDE_PARAGRAPHS = 3
_MONTH = (r"(?P<month>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DATES = (
    re.compile(r"\b(?P<year>(?:19|20)\d\d)-(?P<month>[01]\d)-(?P<day>[0-3]\d)\b"),
    re.compile(rf"\b{_MONTH} (?P<day>[0-3]?\d)(?:st|nd|rd|th)?,? (?P<year>(?:19|20)\d\d)\b", re.IGNORECASE),
    re.compile(rf"\b(?P<day>[0-3]?\d)(?:st|nd|rd|th)? {_MONTH},? (?P<year>(?:19|20)\d\d)\b", re.IGNORECASE),
)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_MONTH_NUMBERS = {name[:3]: number for number, name in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}


def lede_sentences(article: EnrichedArticle) -> frozenset[int]:
    """Indexes of the sentences in the headline and the lede (see the module docstring)."""
    end, prose, offset = len(article.text), 0, 0
    for line in article.text.split("\n"):
        offset += len(line) + 1
        if len(line.split()) >= PROSE_WORDS and _ENDS_SENTENCE.search(line.rstrip()):
            prose += 1
            if prose == LEDE_PARAGRAPHS:
                end = offset
                break
    return frozenset(index for index, sentence in enumerate(article.sentences) if sentence.start < end)


def article_date(article: EnrichedArticle) -> tuple[date, bool]:
    """The date the article's "past" and "recent" are measured from (see the module docstring), and whether
    anything dated it (False when only the fetch time is known: then a month alone says nothing)."""
    if article.published_at is not None:
        return article.published_at.date(), True
    fetched = article.fetched_at.date()
    named = [found for found in (_named_date(match) for pattern in _DATES for match in pattern.finditer(article.text))
             if found is not None and found <= fetched]
    if named:
        return max(named), True
    years = [int(year) for year in _YEAR.findall(article.text) if int(year) <= fetched.year]
    return (min(date(max(years), 12, 31), fetched), True) if years else (fetched, False)


def _named_date(match: re.Match[str]) -> date | None:
    month = match["month"].lower()
    number = int(month) if month.isdigit() else _MONTH_NUMBERS[month[:3]]
    try:
        return date(int(match["year"]), number, int(match["day"]))
    except ValueError:
        return None
