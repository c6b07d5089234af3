"""The benchmark corpus: realistic news articles from a seed, with known near-duplicates and rule hits.

Every benchmark draws its articles from here instead of repeating the three samples, so numbers
are measured on varied lengths (200 to 2,000 words, most around 500), entity-dense text (people
with titles, places, organisations, nationalities, dates and amounts in almost every sentence)
and a mix the stages must tell apart:

- ``duplicate_fraction`` of the articles are near-duplicates of an earlier one: another outlet's
  banner and footer, a few words changed, sometimes the last paragraph cut (estimated Jaccard
  similarity well above dedupe's 0.5); their ``copy_of`` names the original, and they fire the
  original's rules (``may_edit``);
- ``hit_fraction`` of the originals contain one sentence that fires exactly one of the shipped
  rules (``iran-sanctions`` or ``rafah``); no other sentence fires any (``rule_hits``).

The same seed gives the same articles on every machine, so runs compare.
"""

from __future__ import annotations

import math
import random
import re
from dataclasses import dataclass, replace
from pathlib import Path

from shared.article_ids import article_id_for_url, canonical_url
from shared.schemas import RawArticle

MIN_WORDS = 200
MAX_WORDS = 2000
RULES = ("iran-sanctions", "rafah")

FIRST = ["Maria", "James", "Olena", "Ahmed", "Li", "Sofia", "Kwame", "Anna", "Carlos", "Yuki", "Fatima", "David",
         "Elena", "Omar", "Priya", "Thomas", "Amara", "Lukas", "Nadia", "Hiroshi", "Grace", "Mateo", "Ingrid",
         "Samuel", "Leila", "Viktor", "Chloe", "Rahul", "Ana", "Peter", "Zainab", "Marco", "Helen", "Tariq",
         "Julia", "Kenji", "Rosa", "Daniel", "Aisha", "Henrik"]
LAST = ["Kowalski", "Okafor", "Schmidt", "Tanaka", "Haddad", "Moreau", "Petrenko", "Silva", "Nakamura", "Brennan",
        "Rossi", "Mensah", "Lindqvist", "Chowdhury", "Alvarez", "Novak", "Demir", "Fischer", "Kariuki", "Dubois",
        "Ivanova", "Morales", "Andersen", "Mahmoud", "Walsh", "Castillo", "Yilmaz", "Bauer", "Osei", "Laurent",
        "Horvath", "Nguyen", "Rahman", "Costa", "Weber", "Adeyemi", "Sato", "Kaplan", "Ferreira", "Jansen"]
ROLES = ["foreign minister", "finance minister", "defence minister", "prime minister", "president",
         "central bank governor", "trade commissioner", "energy secretary", "opposition leader", "ambassador",
         "chief executive", "spokesperson", "health minister", "interior minister", "army chief"]
PLACES = ["Ukraine", "Germany", "France", "Brazil", "India", "Japan", "Kenya", "Nigeria", "Canada", "Mexico",
          "Turkey", "Poland", "Egypt", "Indonesia", "Australia", "Argentina", "South Korea", "Vietnam", "Spain",
          "Italy", "Sweden", "Chile", "Pakistan", "Ethiopia", "Morocco", "Norway", "Greece", "Colombia"]
CITIES = ["Kyiv", "Berlin", "Paris", "Brasilia", "New Delhi", "Tokyo", "Nairobi", "Lagos", "Ottawa", "Madrid",
          "Ankara", "Warsaw", "Cairo", "Jakarta", "Canberra", "Buenos Aires", "Seoul", "Hanoi", "Rome",
          "Stockholm", "Santiago", "Geneva", "Brussels", "Vienna", "Oslo", "Athens", "Bogota", "Lisbon"]
ORGS = ["the European Union", "NATO", "the United Nations", "the World Bank", "the International Monetary Fund",
        "the World Health Organization", "the African Union", "OPEC", "the Red Cross", "Amnesty International",
        "the G7", "the World Trade Organization", "Siemens", "Reuters", "the European Central Bank",
        "Doctors Without Borders", "the Federal Reserve", "Airbus", "Toyota", "the Bank of England"]
NORPS = ["German", "French", "Brazilian", "Indian", "Japanese", "Kenyan", "Canadian", "Mexican", "Turkish",
         "Polish", "Egyptian", "Spanish", "Italian", "Swedish", "Chilean", "Norwegian", "Greek", "Colombian"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
TOPICS = ["the grain corridor", "the pension reform", "the border dispute", "the energy crisis", "the trade deal",
          "the drought response", "the vaccine rollout", "the budget deficit", "the election timetable",
          "the port expansion", "the refugee programme", "the rail strike", "the debt restructuring",
          "the water treaty", "the fishing quota", "the steel tariffs", "the peace talks", "the climate pledge",
          "the chip factory", "the housing shortage", "the wildfire recovery", "the airline merger"]
ACTIONS = ["backed", "criticised", "delayed", "welcomed", "rejected", "questioned", "defended", "approved",
           "postponed", "endorsed", "opposed", "reviewed", "signed off on", "pushed back against"]
SAYS = ["said", "told reporters", "wrote in a statement", "told parliament", "said in an interview",
        "told a news conference", "posted online", "said late on"]
NOUNS = ["officials", "analysts", "diplomats", "economists", "lawmakers", "investors", "aid workers", "farmers",
         "union leaders", "residents", "negotiators", "traders", "engineers", "regulators"]
QUALITIES = ["cautious", "sharp", "unexpected", "modest", "lengthy", "tense", "brief", "productive", "heated",
             "fragile", "long-awaited", "costly", "symbolic", "narrow"]
MEASURES = ["per cent", "billion dollars", "million euros", "tonnes", "barrels a day", "people", "kilometres"]

# Each pattern is one sentence; {slots} are filled at random, so three-word shingles rarely repeat
# across articles and two originals stay far below dedupe's similarity threshold.
PATTERNS = [
    "{person}, the {norp} {role}, {says} on {day} that {org} had {action} {topic}.",
    "In {city}, {count} {nouns} gathered outside the ministry as {person} {action} {topic}.",
    "{org} expects growth in {place} to reach {number} {measure} by {month}, according to {person}.",
    "\"We will not accept {topic} in its current form,\" {person} {says} in {city}.",
    "{person} met {person2}, {place}'s {role}, for {quality} talks on {topic} on {day}.",
    "The {norp} government has set aside {number} {measure} for {topic}, {person} {says}.",
    "{nouns} in {city} {says} the {quality} debate over {topic} could last until {month}.",
    "According to {org}, {place} and {place2} moved closer to a deal on {topic} this week.",
    "{person} of {org} warned that {topic} would cost {place} at least {number} {measure}.",
    "Talks between {place} and {place2} on {topic} ended on {day} without a joint statement.",
    "A {quality} vote in the {norp} parliament left {topic} in doubt, {person} {says}.",
    "{org} sent {count} {nouns} to {city} after {person} asked for help with {topic}.",
    "Markets in {city} fell {number} per cent on {day} as {nouns} weighed {topic}.",
    "{person}, who advised the {norp} {role} until {month}, {action} the plan for {topic}.",
    "The meeting in {city} was the first between {person} and {person2} since {month}.",
    "{count} {nouns} from {place} arrived in {city} on {day} to discuss {topic} with {org}.",
    "Critics including {person} say {topic} favours {place2} over its {norp} neighbours.",
    "By {month}, {org} hopes to have {number} {measure} committed to {topic}, {person} added.",
    "{person} {says} that {nouns} in {place} had been {quality} about {topic} for years.",
    "Officials in {city} confirmed on {day} that {person2} would lead the {norp} delegation.",
]
HIT_PATTERNS = {
    "iran-sanctions": [
        "{place} and {org} announced new sanctions on Iran on {day}, {person} {says}.",
        "On {day} the {norp} government imposed fresh sanctions on Tehran over {topic}, {person} {says}.",
        "{org} agreed on {day} to expand sanctions against Iranian banks, according to {person}.",
    ],
    "rafah": [
        "{org} said {count} aid trucks reached Rafah on {day}, {person} {says}.",
        "{person} {says} that talks on {topic} also covered the crossing at Rafah.",
        "Residents of Rafah told {org} on {day} that {nouns} were running short of water.",
    ],
}
# The places every rule-hit sentence names; a copy leaves the passages that name them as they are.
HIT_NAMES = ("Iran", "Tehran", "Rafah")
HEADLINES = [
    "{person} {action} {topic} after {quality} talks in {city}",
    "{place} and {place2} clash over {topic}",
    "{org} warns {place} on {topic} as {nouns} protest",
    "{norp} {role} {action} {topic} in {city} visit",
]


@dataclass(frozen=True)
class BenchArticle:
    """One generated article; ``copy_of`` is the index of the original it copies, if it is a copy."""

    seed: int
    number: int
    outlet: str
    title: str
    text: str
    copy_of: int | None = None
    rule_hits: tuple[str, ...] = ()

    @property
    def words(self) -> int:
        return len(self.text.split())

    @property
    def url(self) -> str:
        return f"https://{self.outlet}/news/{self.seed}/{self.number:05d}"  # unique across corpora

    def file_text(self) -> str:
        """The article as a ``.txt`` file the fetcher reads: headline first, then the body."""
        return f"{self.title}\n\n{self.text}\n"

    def as_raw(self) -> RawArticle:
        """The article as the fetcher would publish it from the outlet's site."""
        url = canonical_url(self.url)
        return RawArticle(article_id=article_id_for_url(url), url=self.url, canonical_url=url, title=self.title,
                          text=self.text, source=f"https://{self.outlet}/rss")


def generate(count: int, seed: int = 7, duplicate_fraction: float = 0.2, hit_fraction: float = 0.3) -> list[
        BenchArticle]:
    """``count`` articles; copies follow their originals, so any prefix of the list is a valid corpus."""
    rng = random.Random(seed)
    articles: list[BenchArticle] = []
    originals: list[int] = []
    for number in range(count):
        if originals and rng.random() < duplicate_fraction:
            source = articles[rng.choice(originals[-50:])]  # copies follow soon after their story
            articles.append(_near_duplicate(rng, number, source))
            continue
        rule = rng.choice(RULES) if rng.random() < hit_fraction else None
        articles.append(_original(rng, seed, number, rule))
        originals.append(number)
    return articles


def write_files(articles: list[BenchArticle], folder: Path) -> list[Path]:
    """Each article as ``<number>.txt`` in ``folder``, as a user's files source would hold them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for article in articles:
        path = folder / f"{article.number:05d}.txt"
        path.write_text(article.file_text(), encoding="utf-8")
        paths.append(path)
    return paths


def _length(rng: random.Random) -> int:
    """Words to write before the last sentence: log-normal around 500, leaving room below MAX_WORDS for the
    last sentence and a rule hit."""
    return min(MAX_WORDS - 60, max(MIN_WORDS, round(rng.lognormvariate(math.log(500), 0.6))))


def _fill(rng: random.Random, pattern: str) -> str:
    first, second = rng.sample(range(len(FIRST) * len(LAST)), 2)
    places = rng.sample(PLACES, 2)
    values = {
        "person": f"{FIRST[first % len(FIRST)]} {LAST[first // len(FIRST)]}",
        "person2": f"{FIRST[second % len(FIRST)]} {LAST[second // len(FIRST)]}",
        "role": rng.choice(ROLES), "norp": rng.choice(NORPS), "says": rng.choice(SAYS), "day": rng.choice(DAYS),
        "org": rng.choice(ORGS), "action": rng.choice(ACTIONS), "topic": rng.choice(TOPICS),
        "city": rng.choice(CITIES), "count": str(rng.randint(3, 900)), "nouns": rng.choice(NOUNS),
        "place": places[0], "place2": places[1], "number": str(rng.randint(2, 97)), "measure": rng.choice(MEASURES),
        "month": rng.choice(MONTHS), "quality": rng.choice(QUALITIES),
    }
    sentence = pattern.format(**values)
    return sentence[0].upper() + sentence[1:]


def _original(rng: random.Random, seed: int, number: int, rule: str | None) -> BenchArticle:
    target = _length(rng)
    sentences: list[str] = []
    while sum(len(sentence.split()) for sentence in sentences) < target:
        sentences.append(_fill(rng, rng.choice(PATTERNS)))
    if rule is not None:
        sentences.insert(rng.randrange(len(sentences)), _fill(rng, rng.choice(HIT_PATTERNS[rule])))
    paragraphs, start = [], 0
    while start < len(sentences):
        size = rng.randint(2, 4)
        paragraphs.append(" ".join(sentences[start:start + size]))
        start += size
    outlet = f"outlet{rng.randrange(60)}.example.com"
    dateline = f"{rng.choice(CITIES).upper()} ({outlet.split('.')[0].title()}) —"
    paragraphs[0] = f"{dateline} {paragraphs[0]}"
    title = _fill(rng, rng.choice(HEADLINES))
    return BenchArticle(seed, number, outlet, title, "\n\n".join(paragraphs), None, (rule,) if rule else ())


def _near_duplicate(rng: random.Random, number: int, source: BenchArticle) -> BenchArticle:
    """Another outlet's copy: its own banner and footer, two words changed, maybe the last paragraph cut."""
    paragraphs = source.text.split("\n\n")
    if (rng.random() < 0.5 and len(" ".join(paragraphs[:-1]).split()) >= MIN_WORDS
            and not any(name in paragraphs[-1] for name in HIT_NAMES)):
        paragraphs = paragraphs[:-1]
    for _ in range(2):
        index = rng.randrange(len(paragraphs))
        words = paragraphs[index].split(" ")
        spot = rng.randrange(len(words))
        if re.fullmatch(r"[a-z]+", words[spot]) and may_edit(source, paragraphs[index]):
            words[spot] = rng.choice(["reportedly", "also", "again", "now", "still"])
        paragraphs[index] = " ".join(words)
    outlet = f"outlet{rng.randrange(60, 120)}.example.com"
    body = "\n\n".join([f"{outlet} | World", *paragraphs, f"© 2026 {outlet}. All rights reserved."])
    title = source.title if rng.random() < 0.5 else f"{source.title} (updated)"
    return replace(source, number=number, outlet=outlet, title=title, text=body, copy_of=source.number)


def may_edit(source: BenchArticle, passage: str) -> bool:
    """Whether a copy of ``source`` may change a word of ``passage``: not where a rule hit may be.

    A copy must fire its original's rules, since it reaches dedupe first whenever its partition is read
    first, and then it is the story's article that ner and the alerter see. A hit reads on more than
    its key words (a preposition, a day, the actor), so a passage naming a hit's place is left whole.
    """
    return not source.rule_hits or not any(name in passage for name in HIT_NAMES)
