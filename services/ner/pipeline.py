"""The spaCy pipelines the ner service runs: only what NER and lemmas need, plus the watched-name patterns.

``load_pipeline`` gives a trained pipeline (English, French): tokenizer, tok2vec, tagger or
morphologizer, senter (sentences without the dependency parser), attribute_ruler and lemmatizer (the
dictionary forms that rule terms match), an entity ruler with the watched names, and ner. The ruler
sits before ner with ``overwrite_ents``, so a watched name always gets its pattern's label ("Rafah"
is a GPE even where the small model would call it a PERSON) and ner labels the rest around it.

``blank_pipeline`` gives, for a language without a trained pipeline, spaCy's tokenizer and
sentence rules for it, the lookup lemmatizer where ``spacy-lookups-data`` has a table, and the same
entity ruler. A pattern's ``id`` is the watched name's canonical name, whatever language the pattern
is written in ("إيران" and "Irán" are both "Iran"); a name in a script that attaches proclitics
(``shared/scripts.yaml``) also matches behind them ("برفح").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import spacy
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from spacy.language import Language
from spacy.pipeline import EntityRuler

from shared.schemas import ModelInfo
from shared.scripts import proclitic_pattern, written_in

SHIPPED_PATTERNS = Path(__file__).with_name("patterns.jsonl")
RULER_NAME = "watched_names"
# Components neither NER nor lemmas need. The parser is kept loaded but disabled (senter replaces it);
# the morphologizer stays, since French lemmas are found from its parts of speech.
_UNUSED_COMPONENTS = ("textcat", "textcat_multilabel")
BLANK_NAME = "blank"
MULTI_LANGUAGE = "xx"  # spaCy's rules for text of any language


class ModelNotInstalled(RuntimeError):
    """The configured spaCy pipeline is not installed."""


class PatternFileError(ValueError):
    """A patterns file cannot be used; the message names the file, the line and the field."""


class _PatternLine(BaseModel):
    """One line of a patterns file, in spaCy's entity-ruler JSONL format."""

    model_config = ConfigDict(extra="forbid")

    label: str = Field(min_length=1)
    pattern: str | list[dict[str, Any]] = Field(min_length=1)
    id: str | None = None


def read_patterns(path: Path) -> list[dict[str, Any]]:
    """The patterns of a JSONL file (``{"label": "GPE", "pattern": "Rafah"}`` per line).

    A string pattern matches whole tokens in any case; a list pattern is a spaCy token pattern.
    Blank lines are skipped; anything else that is not a pattern raises ``PatternFileError``.
    """
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except OSError as error:
        raise PatternFileError(f"{path}: cannot read the patterns file: {error.strerror}") from error
    patterns = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = _PatternLine.model_validate(json.loads(line))
        except json.JSONDecodeError as error:
            raise PatternFileError(f"{path}:{number}: not JSON: {error.msg} (column {error.colno})") from error
        except ValidationError as error:
            problems = "; ".join(
                f"field {'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in error.errors()
            )
            raise PatternFileError(f"{path}:{number}: {problems}") from error
        patterns.append(item.model_dump(exclude_none=True))
    return patterns


def ruler_pattern(pattern: dict[str, Any], language: str) -> dict[str, Any]:
    """The pattern as the entity ruler of ``language``'s pipeline gets it: in a language written in a
    script with proclitics, a phrase in that script becomes a token pattern accepting them before its
    first word and variant letters in every word. Elsewhere it stays a phrase (matched as written):
    token patterns cost every token a regular expression, which a text in another script never needs."""
    phrase = pattern["pattern"]
    if not isinstance(phrase, str) or not written_in(phrase, language):
        return pattern
    words = phrase.split()
    regexes = [proclitic_pattern(word, proclitics=index == 0) for index, word in enumerate(words)]
    if all(regex is None for regex in regexes):
        return pattern
    tokens = [{"LOWER": word.lower()} if regex is None else {"TEXT": {"REGEX": regex}}
              for word, regex in zip(words, regexes, strict=True)]
    return {**pattern, "pattern": tokens}


def watched_patterns(extra_patterns: Path | None) -> dict[Path, list[dict[str, Any]]]:
    """The shipped patterns and those of ``extra_patterns``, per file, as written."""
    pattern_files = [SHIPPED_PATTERNS, *([extra_patterns] if extra_patterns is not None else [])]
    return {path: read_patterns(path) for path in pattern_files}


def _add_ruler(nlp: Language, patterns: dict[Path, list[dict[str, Any]]]) -> None:
    ruler = cast(EntityRuler, nlp.add_pipe(
        "entity_ruler", name=RULER_NAME, before="ner" if "ner" in nlp.pipe_names else None,
        config={"overwrite_ents": True, "phrase_matcher_attr": "LOWER", "validate": True},
    ))
    # Phrase patterns match on LOWER: tokenizing them is enough, so the components before the ruler stay off.
    with nlp.select_pipes(enable=[]):
        for path, file_patterns in patterns.items():
            try:
                ruler.add_patterns([ruler_pattern(pattern, nlp.lang or "xx") for pattern in file_patterns])
            except ValueError as error:  # spaCy's validation of token patterns names the bad attribute
                raise PatternFileError(f"{path}: {error}") from error


def load_pipeline(name: str, extra_patterns: Path | None = None) -> Language:
    """Load the spaCy pipeline ``name`` (a package name or a path) with only what NER needs.

    The shipped watched names, and those of ``extra_patterns`` when given, are added as an entity
    ruler in front of ner. Raises ``ModelNotInstalled`` or ``PatternFileError`` with what to fix.
    """
    patterns = watched_patterns(extra_patterns)
    try:
        nlp = spacy.load(name, exclude=list(_UNUSED_COMPONENTS))
    except OSError as error:
        raise ModelNotInstalled(
            f"spaCy pipeline {name!r} is not installed (setting NEWSMON_SPACY_MODEL); "
            "run `make install` or pip install it"
        ) from error
    if "parser" in nlp.pipe_names and "senter" in nlp.disabled:
        # The statistical sentence recognizer is much cheaper than the dependency parser.
        nlp.enable_pipe("senter")
        nlp.disable_pipe("parser")
    _add_ruler(nlp, patterns)
    return nlp


def blank_pipeline(language: str, extra_patterns: Path | None = None) -> Language:
    """spaCy's tokenizer and sentence rules for ``language`` (an ISO 639-1 code), its lookup lemmas when
    ``spacy-lookups-data`` has them, and the watched names. A language spaCy has no rules for, or whose
    rules need a library that is not installed (Japanese, Thai, ...), gets the multi-language ones (``xx``)."""
    patterns = watched_patterns(extra_patterns)
    try:
        nlp = spacy.blank(language)
    except ImportError:
        nlp = spacy.blank(MULTI_LANGUAGE)
    try:
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
    except (ValueError, KeyError):  # no lookup table for the language: no lemmas
        nlp.remove_pipe("lemmatizer")
    nlp.add_pipe("sentencizer")
    nlp.meta["name"] = BLANK_NAME
    nlp.meta["version"] = spacy.about.__version__
    _add_ruler(nlp, patterns)
    return nlp


def has_statistical_ner(nlp: Language) -> bool:
    """Whether the pipeline finds entities beyond the watched names."""
    return "ner" in nlp.pipe_names


def model_info(nlp: Language) -> ModelInfo:
    """Name and version of the pipeline, recorded on every enriched message."""
    return ModelInfo(name=f"{nlp.meta.get('lang', 'xx')}_{nlp.meta.get('name', 'unknown')}",
                     version=str(nlp.meta.get("version", "0")))
