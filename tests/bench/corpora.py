"""Two more benchmark corpora beside ``corpus.generate``, so speed is measured on more than one shape of news.

- ``syndicated``: articles of 200 to 2,000 words (most around 500) assembled from a pool of
  sentences per story, as wire copy is reused: outlets covering the same story share some of
  its sentences word for word (a quote, the background paragraph, the figures), each adds its
  own, and a fifth are near-copies of another outlet's article. The sentences are denser in
  entities than ``corpus.py``'s (several people, organisations, places, dates and amounts each).
- ``wire``: short wire items of 60 to 200 words, a headline and a few sentences each, many of them
  per second at a real desk: the per-article cost of every stage counts more than spaCy's per word.

Both reuse ``corpus.py``'s names, articles and rule-hit sentences, so ``rule_hits`` and
``copy_of`` mean the same, and any prefix of a corpus is a valid corpus. Every sentence pattern
here was written for this benchmark. ``CORPORA`` names every corpus the benchmarks run on.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable

from tests.bench.corpus import (
    CITIES,
    DAYS,
    FIRST,
    HIT_PATTERNS,
    LAST,
    MAX_WORDS,
    MIN_WORDS,
    MONTHS,
    NORPS,
    ORGS,
    PLACES,
    ROLES,
    RULES,
    BenchArticle,
    _near_duplicate,
    generate,
    may_edit,
)
from tests.bench.corpus import (
    _fill as fill_corpus_sentence,
)

COMPANIES = ["Nordvik Shipping", "Halvorsen Energy", "Arcturus Mining", "Pellucid Telecom", "Kestrel Airways",
             "Baltazar Steel", "Meridian Foods", "Oakhurst Pharma", "Tamarind Textiles", "Vantor Motors",
             "Lumen Grid", "Castellan Bank", "Sorrel Chemicals", "Quayside Ports", "Ferro Rail"]
CURRENCIES = ["euros", "dollars", "yen", "rupees", "pesos", "kronor", "pounds"]
SYNDICATED_PATTERNS = [
    "{person}, {place}'s {role}, told {org} on {day} that talks with {person2} of {company} would resume in "
    "{city} before the end of {month}.",
    "Shares in {company} fell {number} per cent in {city} after {person} said the {norp} regulator had opened an "
    "inquiry into its {month} accounts.",
    "\"Nobody in {city} expected the {norp} delegation to walk out,\" said {person}, who chaired the session for "
    "{org} on {day}.",
    "The agreement, signed by {person} and {person2} in {city}, commits {place} to buying {count} million "
    "{currency} of grain from {place2} by {month}.",
    "{company} said on {day} it would cut {count} jobs in {place} and move its {norp} headquarters to {city}, "
    "according to a filing seen by {org}.",
    "Officials from {org} and {org2} met {person} in {city} on {day} to discuss the {number} billion {currency} "
    "loan {place} asked for in {month}.",
    "{person}, a spokesperson for {company}, declined to comment on reports that {person2} had left the board in "
    "{month}.",
    "Police in {city} said {count} people were detained on {day} after protesters blocked the offices of "
    "{company}, {person} told {org}.",
    "The {norp} {role}, {person}, arrived in {city} on {day} for two days of meetings with {person2} and envoys "
    "from {org}.",
    "Inflation in {place} reached {number} per cent in {month}, the highest since {year}, data from the {norp} "
    "statistics office showed on {day}.",
    "{org} cut its forecast for {place} to {number} per cent on {day}, citing weaker demand from {place2} and "
    "higher prices at {company}.",
    "In a statement issued in {city}, {company} said {person} would replace {person2} as chief executive from "
    "{month} {date}.",
    "{person} won {number} per cent of the vote in {city}, ahead of {person2} of the {norp} opposition, "
    "officials said on {day}.",
    "Flights between {city} and {city2} were cancelled on {day} after a strike at {company}, {person} of {org} "
    "said.",
    "The court in {city} ruled on {day} that {company} must pay {count} million {currency} to {person} and "
    "{count2} former workers.",
    "According to {person}, {org} will send {count} observers to {place} before the vote on {month} {date}.",
    "{person2} told reporters in {city} that {place} would not sign any deal with {place2} that {org} had not "
    "approved.",
    "Trade between {place} and {place2} rose to {number} billion {currency} last year, {person} of {company} said "
    "in {city} on {day}.",
    "Since {month} {year}, {company} has spent {count} million {currency} on new terminals in {city} and "
    "{city2}, {person} said.",
    "{person} and {person2} are expected to meet again in {city} on {month} {date}, diplomats from {org} said.",
]
WIRE_LEDES = [
    "{city_upper} ({org_short}) - {person}, {place}'s {role}, said on {day} that {company} would get {count} million "
    "{currency} in state aid.",
    "{city_upper} ({org_short}) - {company} named {person} as its new chief executive on {day}, replacing {person2} "
    "with effect from {month} {date}.",
    "{city_upper} ({org_short}) - {norp} police detained {count} people on {day} after clashes near the offices of "
    "{company}, {person} said.",
    "{city_upper} ({org_short}) - {org} approved a loan of {number} billion {currency} to {place} on {day}, "
    "{person} told reporters.",
    "{city_upper} ({org_short}) - Shares in {company} rose {number} per cent on {day} after {person} confirmed talks "
    "with {person2} of {company2}.",
]
WIRE_FOLLOWS = [
    "The decision follows weeks of talks in {city2} between {person2} and envoys from {org}.",
    "{person2}, speaking for {company2}, said the company would comment on {month} {date}.",
    "{place} and {place2} have disagreed over the terms since {month} {year}.",
    "{org} said it expected a final decision by {month}.",
    "Analysts at {company2} said the move could cost {place2} about {number} billion {currency}.",
    "{person2} is due to visit {city2} on {day} to brief the {norp} parliament.",
    "Markets in {city2} closed {number} per cent lower on {day}.",
    "The {norp} {role} was not available for comment.",
    "{count} workers in {city2} joined the protest, according to {person2}.",
    "More details are expected from {org} on {day}.",
]
WIRE_HEADLINES = ["{company} names {person} chief executive", "{norp} police detain {count} in {city} clashes",
                  "{org_short} approves loan to {place}", "{place} offers aid to {company}",
                  "{company} shares jump on talks with {company2}"]
SHORT_ORGS = ["Reuters", "AP", "AFP", "DPA", "EFE", "ANSA", "PAP", "Kyodo"]
STORY_SENTENCES = 40  # per story; outlets covering it draw some of their sentences from these
STORIES = 12  # at a time: the newest stories get the coverage


def _values(rng: random.Random) -> dict[str, str]:
    first, second = rng.sample(range(len(FIRST) * len(LAST)), 2)
    places, cities, orgs, companies = (rng.sample(PLACES, 2), rng.sample(CITIES, 2), rng.sample(ORGS, 2),
                                       rng.sample(COMPANIES, 2))
    return {
        "person": f"{FIRST[first % len(FIRST)]} {LAST[first // len(FIRST)]}",
        "person2": f"{FIRST[second % len(FIRST)]} {LAST[second // len(FIRST)]}",
        "role": rng.choice(ROLES), "norp": rng.choice(NORPS), "day": rng.choice(DAYS), "month": rng.choice(MONTHS),
        "org": orgs[0], "org2": orgs[1], "org_short": rng.choice(SHORT_ORGS), "company": companies[0],
        "company2": companies[1], "city": cities[0], "city_upper": cities[0].upper(), "city2": cities[1],
        "place": places[0], "place2": places[1],
        "count": str(rng.randint(3, 900)), "count2": str(rng.randint(3, 90)), "number": str(rng.randint(2, 97)),
        "currency": rng.choice(CURRENCIES), "year": str(rng.randint(2009, 2025)), "date": str(rng.randint(1, 28)),
    }


def _fill(rng: random.Random, pattern: str) -> str:
    sentence = pattern.format(**_values(rng))
    return sentence[0].upper() + sentence[1:]


def _paragraphs(rng: random.Random, sentences: list[str]) -> str:
    paragraphs, start = [], 0
    while start < len(sentences):
        size = rng.randint(1, 3)
        paragraphs.append(" ".join(sentences[start:start + size]))
        start += size
    return "\n\n".join(paragraphs)


def _hit(rng: random.Random, rule: str) -> str:
    return fill_corpus_sentence(rng, rng.choice(HIT_PATTERNS[rule]))


def syndicated(count: int, seed: int = 7, duplicate_fraction: float = 0.2,
               hit_fraction: float = 0.3) -> list[BenchArticle]:
    """``count`` articles on a rolling set of stories whose sentences recur across outlets; copies follow
    their originals."""
    rng = random.Random(seed * 7919 + 1)
    stories: list[list[str]] = []
    articles: list[BenchArticle] = []
    originals: list[int] = []
    for number in range(count):
        if originals and rng.random() < duplicate_fraction:
            articles.append(_near_duplicate(rng, number, articles[rng.choice(originals[-50:])]))
            continue
        if not stories or rng.random() < 1 / STORIES:
            stories = [*stories[-(STORIES - 1):],
                       [_fill(rng, rng.choice(SYNDICATED_PATTERNS)) for _ in range(STORY_SENTENCES)]]
        story = rng.choice(stories)
        target = min(MAX_WORDS - 60, max(MIN_WORDS, round(rng.lognormvariate(math.log(500), 0.6))))
        sentences: list[str] = []
        while sum(len(sentence.split()) for sentence in sentences) < target:
            # A quarter of an article is the story's shared copy: far below dedupe's similarity threshold.
            sentences.append(rng.choice(story) if rng.random() < 0.25 else _fill(rng, rng.choice(SYNDICATED_PATTERNS)))
        rule = rng.choice(RULES) if rng.random() < hit_fraction else None
        if rule is not None:
            sentences.insert(rng.randrange(len(sentences)), _hit(rng, rule))
        outlet = f"press{rng.randrange(60)}.example.com"
        articles.append(BenchArticle(seed, number, outlet, _fill(rng, rng.choice(WIRE_HEADLINES)),
                                     _paragraphs(rng, sentences), None, (rule,) if rule else ()))
        originals.append(number)
    return articles


def wire(count: int, seed: int = 7, duplicate_fraction: float = 0.1, hit_fraction: float = 0.3) -> list[BenchArticle]:
    """``count`` wire items of 60 to 200 words: a dateline lede, then a few short sentences."""
    rng = random.Random(seed * 104729 + 2)
    articles: list[BenchArticle] = []
    originals: list[int] = []
    for number in range(count):
        if originals and rng.random() < duplicate_fraction:
            articles.append(_wire_copy(rng, number, articles[rng.choice(originals[-50:])]))
            continue
        target = rng.randint(72, 178)
        sentences = [_fill(rng, rng.choice(WIRE_LEDES))]
        while sum(len(sentence.split()) for sentence in sentences) < target - 6:
            sentences.append(_fill(rng, rng.choice(WIRE_FOLLOWS)))
        rule = rng.choice(RULES) if rng.random() < hit_fraction else None
        if rule is not None:
            sentences.insert(1, _hit(rng, rule))
        outlet = f"wire{rng.randrange(8)}.example.com"
        articles.append(BenchArticle(seed, number, outlet, _fill(rng, rng.choice(WIRE_HEADLINES)),
                                     "\n\n".join(sentences), None, (rule,) if rule else ()))
        originals.append(number)
    return articles


def _wire_copy(rng: random.Random, number: int, source: BenchArticle) -> BenchArticle:
    """A subscriber's copy of a wire item: the same text under its own banner, a word changed."""
    words = source.text.split(" ")
    spot = rng.randrange(1, len(words))
    line = source.text.split("\n\n")[" ".join(words[:spot]).count("\n\n")]
    if words[spot].isalpha() and words[spot].islower() and may_edit(source, line):
        words[spot] = rng.choice(["also", "now", "again"])
    outlet = f"paper{rng.randrange(40)}.example.com"
    return BenchArticle(source.seed, number, outlet, source.title, f"{outlet} | Wire\n\n" + " ".join(words),
                        source.number, source.rule_hits)


CORPORA: dict[str, Callable[[int, int], list[BenchArticle]]] = {
    "generated": lambda count, seed: generate(count, seed=seed),
    "syndicated": lambda count, seed: syndicated(count, seed=seed),
    "wire": lambda count, seed: wire(count, seed=seed),
}
# Articles per throughput run: about the same words in each corpus (wire items are a quarter of the length).
RUN_ARTICLES = {"generated": 300, "syndicated": 300, "wire": 1000}
