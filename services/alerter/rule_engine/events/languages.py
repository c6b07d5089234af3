"""Event conditions in other languages than English: a language's parse read in the grammar's terms.

The event grammar (``constructions``, ``arguments``, ``news_checks``, ``lists``, ``dates``) is
written once, over spaCy's English dependency labels and English words. A language with a trained
spaCy pipeline and a lexicon (``lexicons/<code>.yaml``) is read through it: its Universal
Dependencies parse is rewritten into the English scheme (a preposition heads its noun, ``obj`` is
``dobj``, a passive subject ``nsubjpass``, Penn tags from the morphology), and its function words
and news-check words are read as the English words that play the same part (``contre`` is
*against*, ``levée`` *lifting*, ``ne ... pas`` a negation), while every other word keeps its own
lemma for the rule's terms in that language. The rule's terms in that language pass through the
same lexicon, so both sides are read alike. A language without a parser has no event condition:
its articles never satisfy one (``docs/rules.md``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache, lru_cache, partial
from importlib import resources
from typing import TYPE_CHECKING

import yaml
from pydantic import BaseModel, ConfigDict, Field

from services.alerter.rule_engine.events.dates import names_a_time
from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, ParsedToken, SpacySentenceParser
from shared.schemas import WORD
from shared.settings import get_settings

if TYPE_CHECKING:
    from spacy.tokens import Doc, Token

# Universal Dependencies labels as the English models write them; obl and nmod are rewritten with
# their preposition (``_raise_prepositions``), the others renamed.
_DEPENDENCIES = {
    "obj": "dobj", "iobj": "dative", "nsubj:pass": "nsubjpass", "aux:pass": "auxpass", "aux:tense": "aux",
    "aux:caus": "aux", "csubj:pass": "csubjpass", "acl:relcl": "relcl", "flat:name": "compound",
    "flat:foreign": "compound", "flat": "compound", "expl:subj": "expl", "expl:pass": "expl", "expl:comp": "expl",
    "obl:mod": "npadvmod", "obl": "npadvmod", "obl:arg": "npadvmod", "obl:agent": "npadvmod", "nmod": "nmod",
    "nmod:poss": "poss",
}
_WITH_PREPOSITION = frozenset({"obl", "obl:arg", "obl:mod", "obl:agent", "nmod", "nmod:poss"})
_POS_TAGS = {"NOUN": "NN", "PROPN": "NNP", "ADJ": "JJ", "ADV": "RB", "ADP": "IN", "SCONJ": "IN", "DET": "DT",
             "PRON": "PRP", "NUM": "CD", "CCONJ": "CC", "PART": "RP", "INTJ": "UH", "SYM": "SYM", "X": "FW"}


class Lexicon(BaseModel):
    """One language's ``lexicons/<code>.yaml``."""

    model_config = ConfigDict(extra="forbid")

    language: str = Field(pattern=r"^[a-z]{2,3}$")
    words: dict[str, str] = Field(description="Word or lemma -> the grammar's English word.")
    negation: list[str] = Field(default_factory=list, description="Adverbs that negate their verb.")
    months: dict[str, str] = Field(default_factory=dict, description="Month names -> English month names.")
    compounds: list[str] = Field(default_factory=list, description="Nouns written as phrases, read as one noun.")
    cues: list[str] = Field(description="Newness cues when a rule names none.")
    listing: list[str] = Field(description="Listing verbs when a rule names none.")
    terms: dict[str, list[str]] = Field(description="English event term -> this language's terms.")

    def read(self, word: str) -> str:
        """The grammar's word for a word or phrase of a rule's term (the word itself when not listed)."""
        return self.words.get(word.lower(), word)

    def term(self, text: str) -> str:
        """A rule's term with its function words read as the grammar reads them ("gel des avoirs" ->
        "gel of avoirs"), so it matches the parse read the same way."""
        return " ".join(self.read(word) for word in WORD.findall(text))

    def inherited(self, terms: list[str]) -> list[str]:
        """This language's words for an event condition's English terms, those it knows."""
        return list(dict.fromkeys(word for term in terms for word in self.terms.get(term.lower(), [])))

    @property
    def multiword(self) -> list[str]:
        """The lexicon's phrases, longest first ("à l'encontre de")."""
        return sorted((word for word in self.words if " " in word), key=len, reverse=True)


@cache
def lexicon(language: str) -> Lexicon | None:
    """The shipped lexicon of ``language``, or None when there is none."""
    path = resources.files("services.alerter.rule_engine.events").joinpath("lexicons", f"{language}.yaml")
    if not path.is_file():
        return None
    return Lexicon.model_validate(yaml.safe_load(path.read_text("utf-8")))


def shipped_lexicons() -> list[str]:
    """The languages with a shipped lexicon."""
    folder = resources.files("services.alerter.rule_engine.events").joinpath("lexicons")
    return sorted(entry.name.removesuffix(".yaml") for entry in folder.iterdir() if entry.name.endswith(".yaml"))


def _tag(token: Token) -> str:
    """A Penn tag from the universal part of speech and the morphology (VBN for a past participle, ...)."""
    if token.pos_ in ("VERB", "AUX"):
        form, tense = token.morph.get("VerbForm", []), token.morph.get("Tense", [])
        if "Part" in form:
            return "VBN" if "Past" in tense else "VBG"
        if "Inf" in form:
            return "VB"
        return "VBD" if {"Past", "Imp"} & set(tense) else "VBZ"
    if token.pos_ == "NOUN" and "Plur" in token.morph.get("Number", []):
        return "NNS"
    return _POS_TAGS.get(token.pos_, token.tag_)


def read_parse(doc: Doc, words: Lexicon) -> ParsedSentence:
    """A parse in another language as the event grammar reads English parses (see the module docstring)."""
    negation = frozenset(words.negation)
    tokens = []
    for token in doc:
        lower, lemma = token.text.lower(), token.lemma_.lower()
        dep = _DEPENDENCIES.get(token.dep_, token.dep_)
        pos = token.pos_
        norm = words.words.get(lower) or words.words.get(lemma)
        if token.pos_ in ("NOUN", "PROPN") and lower in words.months:
            norm, pos = words.months[lower], "PROPN"  # "janvier" read as "January"
        if dep == "advmod" and (lower in negation or lemma in negation):
            dep = "neg"
        tokens.append(ParsedToken(index=token.i, start=token.idx, end=token.idx + len(token.text), text=token.text,
                                  lemma=norm or lemma, pos=pos, tag=_tag(token), dep=dep, head=token.head.i,
                                  norm=norm or ""))
    raw = ParsedSentence(doc.text, tuple(tokens))
    rewritten = _off_time_words(_raise_prepositions(raw, [token.dep_ for token in doc], words))
    return _compounds_as_one_noun(rewritten, words.compounds)


def _compounds_as_one_noun(sentence: ParsedSentence, compounds: list[str]) -> ParsedSentence:
    """What the parser hung on an inner word of a compound written as a phrase belongs to the whole:
    in "un gel des avoirs visant huit responsables" the clause describes the freeze, not the assets.
    The compound's first word is its head (French compounds are noun + "de" + noun)."""
    words = [token for token in sentence.tokens if WORD.search(token.text)]
    tokens = list(sentence.tokens)
    for compound in compounds:
        spelled = [word.lower() for word in WORD.findall(compound)]
        for first in range(len(words) - len(spelled) + 1):
            run = words[first:first + len(spelled)]
            if [WORD.findall(token.text.lower()) for token in run] != [[word] for word in spelled]:
                continue
            inside = {token.index for token in run}
            for token in run[1:]:
                for kid in sentence.children[token.index]:
                    if kid.index not in inside and kid.dep != "punct":
                        tokens[kid.index] = replace(tokens[kid.index], head=run[0].index)
    return ParsedSentence(sentence.text, tuple(tokens))


def _off_time_words(sentence: ParsedSentence) -> ParsedSentence:
    """A phrase the parser hung on a bare time word belongs to the verb the time word is on: "imposées
    mercredi à l'Iran" is imposed on Iran, and "adopté lundi de nouvelles sanctions" adopted new
    sanctions (a partitive "de" phrase on the verb is its object; the time word, read as the verb's
    object, is then what it is: when)."""
    tokens = list(sentence.tokens)
    for prep in sentence.tokens:
        time_word = sentence.head(prep)
        if prep.dep != "prep" or time_word is None or not names_a_time(time_word):
            continue
        verb = sentence.head(time_word)
        if verb is None or not verb.is_verb or time_word.dep not in ("npadvmod", "dobj"):
            continue
        objects = [kid for kid in sentence.children[prep.index] if kid.dep == "pobj"]
        if prep.lower == "of" and objects and prep.index < objects[0].index:
            tokens[prep.index] = replace(prep, head=objects[0].index, dep="det")
            tokens[objects[0].index] = replace(objects[0], head=verb.index, dep="dobj")
            tokens[time_word.index] = replace(tokens[time_word.index], dep="npadvmod")
        else:
            tokens[prep.index] = replace(prep, head=verb.index)
    return ParsedSentence(sentence.text, tuple(tokens))


def _raise_prepositions(sentence: ParsedSentence, original: list[str], words: Lexicon) -> ParsedSentence:
    """Make each preposition the head of its noun, as English parses have it: UD's ``obl``/``nmod`` noun
    with a ``case`` dependent becomes the ``pobj`` of a ``prep`` (``agent`` for a passive's agent) on
    the noun's head. A lexicon phrase such as "à l'encontre de X" becomes one preposition over X."""
    tokens = list(sentence.tokens)
    phrases = words.multiword
    done: set[int] = set()
    for noun in sentence.tokens:
        if original[noun.index] not in _WITH_PREPOSITION or noun.head == noun.index or noun.index in done:
            continue
        case = next((kid for kid in sentence.children[noun.index] if kid.dep == "case"), None)
        if case is None:
            continue
        head, dep = noun.head, "agent" if original[noun.index] == "obl:agent" else "prep"
        phrase = next((phrase for phrase in phrases if sentence.text[case.start:].lower().startswith(phrase)), None)
        inner = _phrase_object(sentence, noun, original) if phrase is not None else None
        if phrase is not None and inner is not None:
            # "à l'encontre de Téhéran": the noun "encontre" and its "de" become part of the preposition.
            tokens[case.index] = replace(tokens[case.index], head=head, dep=dep, norm=words.words[phrase],
                                         lemma=words.words[phrase])
            tokens[noun.index] = replace(tokens[noun.index], head=case.index, dep="fixed")
            for kid in sentence.children[inner.index]:
                if kid.dep == "case":
                    tokens[kid.index] = replace(tokens[kid.index], head=case.index, dep="fixed")
            tokens[inner.index] = replace(tokens[inner.index], head=case.index, dep="pobj")
            done.add(inner.index)
            continue
        tokens[case.index] = replace(tokens[case.index], head=head, dep=dep)
        tokens[noun.index] = replace(tokens[noun.index], head=case.index, dep="pobj")
    return ParsedSentence(sentence.text, tuple(tokens))


def _phrase_object(sentence: ParsedSentence, noun: ParsedToken, original: list[str]) -> ParsedToken | None:
    """The noun a multiword preposition's own noun governs ("Téhéran" under "encontre")."""
    return next((kid for kid in sentence.children[noun.index]
                 if original[kid.index] in _WITH_PREPOSITION and kid.index > noun.index), None)


@dataclass(frozen=True)
class EventLanguage:
    """A language the event condition can read: its parser (parses already read in the grammar's terms)
    and its lexicon."""

    code: str
    parser: SpacySentenceParser
    lexicon: Lexicon


def event_languages(models: Mapping[str, str]) -> dict[str, EventLanguage]:
    """The languages with both a trained pipeline in ``models`` and a shipped lexicon."""
    found = {}
    for code, model in models.items():
        words = lexicon(code)
        if words is not None:
            found[code] = EventLanguage(code, SpacySentenceParser(model, read=partial(read_parse, words=words)), words)
    return found


@lru_cache(maxsize=1)
def configured_event_languages() -> dict[str, EventLanguage]:
    """The process's event languages, from ``NEWSMON_SPACY_LANGUAGE_MODELS``; parsers load on first use."""
    return event_languages(get_settings().spacy_language_models)
