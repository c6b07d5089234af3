"""Words that name a time, and whether a time phrase lies before the article's date.

Used by events (a time is never whom an event is aimed at: "sanctions on Tuesday") and by the news
checks (an action pinned to "2018", "two years ago" or "earlier this year" is background).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from services.alerter.rule_engine.events.sentence_parse import ParsedToken

YEAR = re.compile(r"^(1[89]|20)\d\d$")
MONTHS = {name: number for number, names in enumerate((
    ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
    ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
    ("december", "dec")), start=1) for name in names}
WEEKDAYS = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
_TIME_NOUNS = frozenset({"today", "tonight", "tomorrow", "yesterday", "weekend", "week", "month", "year", "day",
                         "morning", "afternoon", "evening", "night", "midnight", "noon"})
_LONG_UNITS = frozenset({"year", "decade", "month", "century"})
_SEASONS = frozenset({"spring", "summer", "autumn", "fall", "winter"})
_ERAS = frozenset({"administration", "government", "president", "presidency", "regime", "leadership"})


def names_a_time(token: ParsedToken) -> bool:
    """True for the head word of a time phrase: a weekday, a month, a year, "today", "this week"."""
    word = token.lower.rstrip(".")
    return (word in WEEKDAYS or word in _TIME_NOUNS or token.lemma in _TIME_NOUNS or bool(YEAR.match(word))
            or (word in MONTHS and token.pos == "PROPN"))


def pins_to_past(phrase: Sequence[ParsedToken], published: date) -> bool:
    """True when a time phrase names a time before the article: a past year or month, "ago" in years or
    months, "last year", "earlier this year", "in recent years", "under the previous administration"."""
    lemmas = {token.lemma for token in phrase}
    words = {token.lower for token in phrase}
    years = [int(token.text) for token in phrase if YEAR.match(token.text)]
    months = [MONTHS[token.lower.rstrip(".")] for token in phrase
              if token.pos == "PROPN" and token.lower.rstrip(".") in MONTHS]
    if years:
        if max(years) != published.year:
            return max(years) < published.year
        return bool(months) and max(months) < published.month
    if months and max(months) < published.month:
        return True
    units = lemmas & _LONG_UNITS
    if ("ago" in words or "last" in words) and units:
        return True
    if "last" in words and words & _SEASONS:
        return True
    if "earlier" in words and "year" in lemmas:
        return True
    if ("decade" in lemmas or "years" in words) and words & {"recent", "past", "for", "over", "previous"}:
        return True
    return bool(words & {"previous", "former", "past"} and lemmas & (_ERAS | _LONG_UNITS))
