"""Words written with attached proclitics, and letters written several ways, per script (``scripts.yaml``).

Arabic writes "and", "in", "for" and "the" as prefixes of the next word ("وفي رفح", "برفح"), Hebrew
likewise ("ברפיח", "ואיראן"), and both drop or vary letters a reader takes as the same ("إيران" and
"ايران"). A name watched in such a script matches a word only through these two general rules:
``fold`` makes variant letters equal, and ``stems`` lists what a word can be without its proclitics.
The ner stage builds its watched-name patterns from them and the alerter its term index, so both
read names the same way. Words in other scripts pass through unchanged, at the cost of one
``isascii`` check for the common case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import yaml

MIN_STEM_CHARS = 2  # a proclitic is never stripped down to less than this


@dataclass(frozen=True)
class Script:
    """One script's letters, proclitics and foldings."""

    name: str
    letters: re.Pattern[str]
    proclitics: re.Pattern[str]
    fold: dict[int, str]
    languages: frozenset[str]


@lru_cache(maxsize=1)
def scripts() -> tuple[Script, ...]:
    """The scripts of the shipped ``scripts.yaml``, read once per process."""
    document = yaml.safe_load(resources.files("shared").joinpath("scripts.yaml").read_text("utf-8"))
    return tuple(
        Script(name=name, letters=re.compile(f"[{''.join(entry['ranges'])}]"),
               proclitics=re.compile(f"(?:{entry['proclitics']})"),
               fold=str.maketrans(dict(entry.get("fold") or {})), languages=frozenset(entry["languages"]))
        for name, entry in document["scripts"].items()
    )


def script_of(word: str) -> Script | None:
    """The script among ``scripts()`` the word's first letter belongs to; None for every other script."""
    if word.isascii():
        return None
    return next((script for script in scripts() if script.letters.match(word)), None)


def fold(word: str) -> str:
    """The word with its script's variant letters made one and its dropped marks removed."""
    script = script_of(word)
    return word if script is None else word.translate(script.fold)


def stems(word: str) -> list[str]:
    """What the (folded) word can be without a run of its script's proclitics, longest first; [] when none."""
    script = script_of(word)
    if script is None:
        return []
    found = []
    for length in range(1, len(word) - MIN_STEM_CHARS + 1):
        if script.proclitics.fullmatch(word, 0, length):
            found.append(word[length:])
    return found


def written_in(word: str, language: str) -> bool:
    """Whether ``word`` is in a script with proclitics that ``language`` is written in (any such script
    for the multi-language ``xx``)."""
    script = script_of(word)
    return script is not None and (language == "xx" or language in script.languages)


def proclitic_pattern(name_word: str, proclitics: bool = True) -> str | None:
    """A regular expression for a token that is ``name_word`` (behind its script's proclitics unless
    ``proclitics`` is false), with the script's variant letters of the word accepted; None for a word
    in a script without proclitics."""
    script = script_of(name_word)
    if script is None:
        return None
    variants: dict[str, set[str]] = {}
    for letter, folded in ((chr(code), target) for code, target in script.fold.items()):
        if folded:
            variants.setdefault(folded, {folded}).add(letter)
    drop = "".join(re.escape(chr(code)) for code, target in script.fold.items() if not target)
    folded_word = name_word.translate(script.fold)
    body = "".join(
        (f"[{''.join(sorted(variants[char]))}]" if char in variants else re.escape(char))
        + (f"[{drop}]*" if drop else "")
        for char in folded_word
    )
    prefix = f"(?:{script.proclitics.pattern})" if proclitics else ""
    return f"^{prefix}{body}$"
