"""Canonical entities within one article: one name per entity, however the article writes it.

News names a person in full once and by surname afterwards, behind titles and possessives
("U.S. Secretary of State Antony Blinken", "Blinken", "Blinken's"). This module folds such
mentions under one canonical name, the longest form the article uses, and summarizes each entity.
It is pure: plain data in, plain data out, the same in the service and in ``newsmon ner``.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import NamedTuple

from shared.schemas import Entity, Mention

# Labels that name things; dates, times, numbers and amounts are kept as mentions, not summarized.
NAMED_LABELS = frozenset({
    "PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW", "LANGUAGE",
})
# Labels a title may legitimately contain ("U.S." in "U.S. Secretary of State"); others inside a
# title are fragments of it ("State", "Defence") and are dropped.
_PLACE_LABELS = frozenset({"GPE", "NORP", "LOC"})
LEAD_SENTENCES = 3
LEAD_WEIGHT = 2.0
TITLE_BONUS = 3.0

_TITLE_WORDS = frozenset({
    "president", "vice", "prime", "minister", "ministry", "secretary", "state", "foreign", "defence",
    "defense", "interior", "finance", "affairs", "health", "policy", "chief", "head", "deputy", "acting",
    "former", "senior", "general", "gen", "spokesman", "spokeswoman", "spokesperson", "ambassador", "envoy",
    "chancellor", "premier", "senator", "sen", "rep", "representative", "congressman", "congresswoman", "gov",
    "governor", "mayor", "speaker", "leader", "judge", "justice", "attorney", "commander", "lt", "col", "capt",
    "maj", "sgt", "adm", "colonel", "captain", "major", "sergeant", "admiral", "lieutenant", "dr", "mr", "mrs",
    "ms", "sir", "professor", "prof", "rev",
})
_CONNECTORS = frozenset({"of", "for", "the"})
_POSSESSIVE = re.compile(r"(?:['’]s|(?<=s)['’])$", re.IGNORECASE)
_ABBREVIATION = re.compile(r"^(?:[A-Z]\.)+$")
_WORD = re.compile(r"\S+")


class FoundMention(NamedTuple):
    """A mention as the pipeline found it: the text as written, spaCy's label, offsets, sentence index,
    and the canonical name of the watched name it is (its pattern's ``id``), if it is one. A tuple: a
    worker process sends every article's mentions back to the service, and tuples pickle fastest."""

    text: str
    label: str
    start: int
    end: int
    sentence: int
    canonical: str | None = None


def _key(word: str) -> str:
    return word.strip(".,").casefold()


def _is_title_word(word: str) -> bool:
    return _key(word) in _TITLE_WORDS


def _may_precede_title(word: str) -> bool:
    """Words that can stand in a title before its last title word: 'U.S.', 'Canadian', 'of'."""
    if _key(word) in _CONNECTORS or _is_title_word(word) or _ABBREVIATION.match(word):
        return True
    return word[:1].isupper() and not word.endswith((".", ",", ";", ":", "!", "?"))


def _strip_title(words: list[str]) -> list[str]:
    """'U.S. Secretary of State Antony Blinken' -> 'Antony Blinken'; a name's last word always stays."""
    cut = 0
    for index, word in enumerate(words[:-1]):
        if _is_title_word(word):
            cut = index + 1
        elif not _may_precede_title(word):
            break
    rest = words[cut:]
    # A title's "of <Place>": 'Prime Minister of Israel Benjamin Netanyahu'.
    while cut and len(rest) > 2 and _key(rest[0]) in _CONNECTORS:
        rest = rest[2:]
    return rest


def clean_name(text: str, label: str) -> str:
    """The name without possessive, leading article and (for people) titles; '' when nothing is left."""
    words = _WORD.findall(_POSSESSIVE.sub("", text.strip()))
    if label not in NAMED_LABELS:
        return " ".join(words)
    if len(words) > 1 and words[0].casefold() == "the":
        words = words[1:]
    if label == "PERSON":
        if all(_is_title_word(word) or _key(word) in _CONNECTORS for word in words):
            return ""
        words = _strip_title(words)
    return " ".join(words)


def _title_prefix_start(text: str, person_start: int) -> int:
    """Where the title in front of a person begins ('US Defence Secretary Lloyd Austin'), else the person."""
    before = list(_WORD.finditer(text, max(0, person_start - 120), person_start))
    start = person_start
    for match in reversed(before):
        word = match.group()
        if _is_title_word(word):
            start = match.start()
        elif not _may_precede_title(word):
            break
    return start


def _drop_title_fragments(found: Sequence[FoundMention], text: str) -> list[FoundMention]:
    """Leave out non-place mentions inside a person's title: 'State' in 'Secretary of State Blinken'."""
    people = sorted(mention.start for mention in found if mention.label == "PERSON")
    title_starts = [_title_prefix_start(text, start) for start in people]

    def in_title(mention: FoundMention) -> bool:
        nearest = bisect_left(people, mention.end)  # the first person after the mention
        return nearest < len(people) and title_starts[nearest] <= mention.start

    return [
        mention for mention in found
        if mention.label in _PLACE_LABELS or mention.label == "PERSON" or not in_title(mention)
    ]


def _contains(longer: tuple[str, ...], shorter: tuple[str, ...]) -> bool:
    return any(longer[index:index + len(shorter)] == shorter for index in range(len(longer) - len(shorter) + 1))


def _person_long_forms(names: set[tuple[str, ...]]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Short form -> the one longest name containing it; ambiguous short forms ('Biden' with 'Joe
    Biden' and 'Jill Biden') map to nothing."""
    by_word: dict[str, list[tuple[str, ...]]] = {}
    for name in names:
        for word in set(name):
            by_word.setdefault(word, []).append(name)
    mapping = {}
    for short in names:
        containing = [name for name in by_word[short[0]] if len(name) > len(short) and _contains(name, short)]
        longest = [name for name in containing if not any(other != name and _contains(other, name)
                                                          for other in containing)]
        if len(longest) == 1:
            mapping[short] = longest[0]
    return mapping


def canonical_mentions(found: Sequence[FoundMention], text: str) -> list[Mention]:
    """The mentions with canonical names and one label per name, in text order.

    Title fragments and mentions that are only a title are left out; every other mention keeps its
    text, offsets and sentence. A watched name is named by its pattern's canonical name in any
    language ("Irán", "إيران" -> "Iran"). A name's label is the one most of its mentions carry.
    """
    kept = [(mention, name) for mention in _drop_title_fragments(found, text)
            if (name := mention.canonical or clean_name(mention.text, mention.label))]
    labels: dict[str, Counter[str]] = {}
    for mention, name in kept:
        labels.setdefault(name.casefold(), Counter())[mention.label] += 1
    label_of = {key: counts.most_common(1)[0][0] for key, counts in labels.items()}
    display: dict[tuple[str, ...], str] = {}
    for _, name in kept:
        display.setdefault(tuple(name.casefold().split()), name)
    people = {words for words in display if label_of[" ".join(words)] == "PERSON"}
    long_form = _person_long_forms(people)
    mentions = []
    for mention, name in kept:
        words = tuple(name.casefold().split())
        mentions.append(Mention(
            text=mention.text, label=label_of[name.casefold()], start=mention.start, end=mention.end,
            sentence=mention.sentence, canonical=display[long_form.get(words, words)],
        ))
    return mentions


def _named_in(folded_title: str, forms: set[str]) -> bool:
    """Whether a form is a whole word or phrase of the (casefolded) title; the substring test first,
    since almost no form is in the title and a regex per form would cost more than spaCy's tagger."""
    return any((folded := form.casefold()) in folded_title
               and re.search(rf"(?<!\w){re.escape(folded)}(?!\w)", folded_title) for form in forms)


def summarize(mentions: Sequence[Mention], title: str) -> list[Entity]:
    """One entry per named entity, most salient first (ties: first mentioned first).

    Salience is relative to the article's top entity (1.0): each mention counts 1, a mention in
    the lead (the first ``LEAD_SENTENCES`` sentences) ``LEAD_WEIGHT``, and being named in the
    title adds ``TITLE_BONUS``.
    """
    grouped: dict[tuple[str, str], list[Mention]] = {}
    for mention in mentions:
        if mention.label in NAMED_LABELS:
            grouped.setdefault((mention.canonical, mention.label), []).append(mention)
    scores = {}
    folded_title = title.casefold()
    for key, group in grouped.items():
        forms = {key[0]} | {clean_name(mention.text, mention.label) for mention in group}
        scores[key] = sum(LEAD_WEIGHT if mention.sentence < LEAD_SENTENCES else 1.0 for mention in group) + (
            TITLE_BONUS if _named_in(folded_title, forms) else 0.0)
    top = max(scores.values(), default=1.0)
    entities = [
        Entity(name=name, label=label, mentions=len(group), first_start=group[0].start,
               salience=round(scores[(name, label)] / top, 3),
               aliases=list(dict.fromkeys(mention.text for mention in group)))
        for (name, label), group in grouped.items()
    ]
    return sorted(entities, key=lambda entity: (-entity.salience, entity.first_start))
