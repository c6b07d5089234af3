"""The pipeline for each language, loaded once per process and only when a text first needs it.

The configured English pipeline (``NEWSMON_SPACY_MODEL``) is loaded at start and also annotates
text whose language is unknown. A language with a trained pipeline of its own
(``NEWSMON_SPACY_LANGUAGE_MODELS``, French by default) gets it, with statistical NER and lemmas;
every other language gets spaCy's tokenizer and sentence rules for it, lookup lemmas where
``spacy-lookups-data`` has them, and the watched names (``pipeline.blank_pipeline``). Each worker
process has its own ``Pipelines``, so each loads a language the first time one of its texts is in it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import spacy
from spacy.language import Language

from services.ner.pipeline import (
    MULTI_LANGUAGE,
    ModelNotInstalled,
    blank_pipeline,
    has_statistical_ner,
    load_pipeline,
    model_info,
)
from shared.schemas import ModelInfo

NerMode = Literal["full", "patterns_only", "none"]
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


@dataclass(frozen=True)
class LanguagePipeline:
    """The pipeline a language's texts go through, the annotation level it gives (``ner_mode``), and its
    name and version (read once: spaCy's ``Language.meta`` gathers every component's labels)."""

    nlp: Language
    mode: NerMode
    info: ModelInfo

    @classmethod
    def of(cls, nlp: Language, mode: NerMode) -> LanguagePipeline:
        return cls(nlp, mode, model_info(nlp))


class Pipelines:
    """The primary pipeline, and one more per language met so far; safe to use from several threads."""

    def __init__(self, primary: Language, models: Mapping[str, str] | None = None,
                 extra_patterns: Path | None = None) -> None:
        """Raises ``ModelNotInstalled`` at once for a configured model that is not installed (checked
        without loading it), rather than on the first article in its language."""
        self.primary = primary
        self.models = dict(models or {})
        for language, model in self.models.items():
            if not (spacy.util.is_package(model) or Path(model).is_dir()):
                raise ModelNotInstalled(f"spaCy pipeline {model!r} for language {language!r} is not installed "
                                        "(setting NEWSMON_SPACY_LANGUAGE_MODELS); run `make install` or pip install it")
        self.extra_patterns = extra_patterns
        self._primary = LanguagePipeline.of(primary, "full")
        self._loaded: dict[str, LanguagePipeline] = {}
        if primary.lang:
            self._loaded[primary.lang] = self._primary
        self._lock = threading.Lock()

    @property
    def primary_info(self) -> ModelInfo:
        """Name and version of the primary pipeline."""
        return self._primary.info

    @property
    def loaded(self) -> list[str]:
        """The languages whose pipelines are loaded in this process."""
        return sorted(self._loaded)

    def for_language(self, language: str | None) -> LanguagePipeline:
        """The pipeline for text in ``language`` (an ISO 639-1 code; None: the primary one), loading it
        on first use. Raises ``ModelNotInstalled`` for a configured model that is not installed."""
        if language is None:
            return self._primary
        if not _LANGUAGE_CODE.fullmatch(language):  # not an ISO 639 code: no language's rules apply
            language = MULTI_LANGUAGE
        found = self._loaded.get(language)
        if found is not None:
            return found
        with self._lock:
            found = self._loaded.get(language)
            if found is None:
                found = self._loaded[language] = self._load(language)
            return found

    def _load(self, language: str) -> LanguagePipeline:
        model = self.models.get(language)
        if model is not None:
            nlp = load_pipeline(model, self.extra_patterns)
        elif language == MULTI_LANGUAGE:
            nlp = blank_pipeline(MULTI_LANGUAGE, self.extra_patterns)
        else:
            nlp = blank_pipeline(language, self.extra_patterns)
            if nlp.lang == MULTI_LANGUAGE:
                # A declared language spaCy has no rules for ("zz", a typo) shares the one multi-language
                # pipeline, so odd tags from feeds cannot make a process load pipelines without bound.
                return self._loaded.get(MULTI_LANGUAGE) or self._loaded.setdefault(
                    MULTI_LANGUAGE, LanguagePipeline.of(nlp, "patterns_only"))
        return LanguagePipeline.of(nlp, "full" if has_statistical_ner(nlp) else "patterns_only")
