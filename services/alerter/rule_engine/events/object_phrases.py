"""Multiword objects read as one noun: "asset freezes" is parsed as a noun, whatever the tagger makes of "freezes".

The small English model often reads the last word of a compound object as a verb ("imposed travel
bans and asset freezes on ...": *freezes* VBZ, the root), and the whole parse around it is then
wrong. So before a sentence is parsed, each known multiword object found there as a phrase (an
event condition's objects of two or more words: *asset freeze*, *travel ban*, *restrictive
measure*) is replaced by one plain noun of the same number, which the model always reads as a
noun; the parsed stand-in then gets back the phrase's text, offsets and lemma. The parse around
it is the parse of "imposed penalties and penalties on ...", and the event code sees one token
*asset freezes* whose lemma is *asset freeze*.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from services.alerter.rule_engine.events.sentence_parse import ParsedSentence, SentenceParser


@dataclass(frozen=True, order=True)
class ObjectPhrase:
    """A multiword object at characters ``start..end`` of a sentence, and its lemma (*asset freeze*)."""

    start: int
    end: int
    lemma: str


# A noun the model tags as a noun in any position, in both numbers; the parse only sees it.
_STAND_IN = {False: "penalty", True: "penalties"}
_NOUNS = frozenset(_STAND_IN.values())
_NOT_PLURAL_ENDINGS = ("ss", "us", "is")


@dataclass(frozen=True)
class StandIn:
    """Where a phrase's stand-in noun is in the parsed text."""

    at: int  # where the stand-in starts in the text that is parsed
    phrase: ObjectPhrase
    text: str  # the phrase as written in the sentence


def parse_with_phrases(parser: SentenceParser, sentence: str, phrases: tuple[ObjectPhrase, ...]) -> ParsedSentence:
    """The sentence's parse with each phrase read as one noun (the parser caches the stand-in text)."""
    if not phrases:
        return parser(sentence)
    text, stand_ins = stand_in_text(sentence, phrases)
    return restored(parser(text), sentence, stand_ins) or parser(sentence)


def stand_in_text(sentence: str, phrases: tuple[ObjectPhrase, ...]) -> tuple[str, tuple[StandIn, ...]]:
    """The sentence with each phrase replaced by its stand-in noun (overlapping phrases: the first
    one), and where each stand-in is."""
    pieces: list[str] = []
    stand_ins: list[StandIn] = []
    copied = 0  # characters of the sentence copied or replaced so far
    length = 0  # characters of the new text so far
    for phrase in sorted(phrases):
        if phrase.start < copied or phrase.end > len(sentence):
            continue
        before = sentence[copied:phrase.start]
        written = sentence[phrase.start:phrase.end]
        last_word = written.split()[-1].lower() if written.split() else ""
        noun = _STAND_IN[last_word.endswith("s") and not last_word.endswith(_NOT_PLURAL_ENDINGS)]
        pieces += [before, noun]
        stand_ins.append(StandIn(length + len(before), phrase, written))
        length += len(before) + len(noun)
        copied = phrase.end
    pieces.append(sentence[copied:])
    return "".join(pieces), tuple(stand_ins)


def restored(parse: ParsedSentence, sentence: str, stand_ins: tuple[StandIn, ...]) -> ParsedSentence | None:
    """The parse of the stand-in text as a parse of ``sentence``: offsets moved back, each stand-in
    token given the phrase's text, offsets and lemma (its part of speech and arcs are kept). None
    when the tokenizer did not make a stand-in one token of its own; the caller parses the sentence
    as written then."""
    by_start = {stand_in.at: stand_in for stand_in in stand_ins}
    tokens = []
    shift = 0  # how much longer the sentence is than the parsed text, before the current token
    for token in parse.tokens:
        stand_in = by_start.pop(token.start, None)
        if stand_in is None:
            tokens.append(replace(token, start=token.start + shift, end=token.end + shift,
                                  text=sentence[token.start + shift:token.end + shift]))
            continue
        phrase = stand_in.phrase
        if token.text not in _NOUNS:
            return None
        tokens.append(replace(token, start=phrase.start, end=phrase.end, text=stand_in.text, lemma=phrase.lemma))
        shift += (phrase.end - phrase.start) - (token.end - token.start)
    return None if by_start else ParsedSentence(sentence, tuple(tokens))
