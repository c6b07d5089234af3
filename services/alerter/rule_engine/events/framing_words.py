"""The English lexicons of ``news_framing_en.yaml``: how news frames an action, and how it links a party to a target.

Kept apart from the code that reads them (``framing.py``, ``arguments.py``, ``node.py``) so that a
word is added in the data file, not in a module, and so that reading them imports nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

import yaml

FRAMING_FILE = Path(__file__).with_name("news_framing_en.yaml")


@dataclass(frozen=True)
class FramingWords:
    """The lexicons of ``news_framing_en.yaml`` (lemmas, lower case); the file says what each is for."""

    intending: frozenset[str]
    modal_auxiliaries: frozenset[str]
    reporting: frozenset[str]
    hedging_adverbs: frozenset[str]
    conditions: frozenset[str]
    future_times: frozenset[str]
    former: frozenset[str]
    patronage: frozenset[str]
    reference_points: frozenset[str]
    recent_anchors: frozenset[str]
    recent_periods: frozenset[str]
    weekdays: frozenset[str]
    known_determiners: frozenset[str]
    aiming: frozenset[str]
    state_bodies: frozenset[str]
    places: frozenset[str]
    quantities: frozenset[str]
    measure_references: frozenset[str]
    small_clauses: frozenset[str]
    putting_in_place: frozenset[str]
    country_anaphors: frozenset[str]


@lru_cache(maxsize=1)
def framing_words() -> FramingWords:
    """The lexicons, read on first use (importing reads nothing)."""
    data = yaml.safe_load(FRAMING_FILE.read_text(encoding="utf-8"))
    return FramingWords(**{field.name: frozenset(str(word).lower() for word in data[field.name])
                           for field in fields(FramingWords)})
