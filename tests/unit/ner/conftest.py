"""One spaCy pipeline for all ner unit tests: loading it takes seconds."""

from __future__ import annotations

from pathlib import Path

import pytest
from spacy.language import Language

from services.dedupe.fingerprint import first_of_story
from services.fetcher.files import read_articles
from services.ner.pipeline import load_pipeline
from services.ner.pipelines import Pipelines
from shared.schemas import UniqueArticle
from shared.settings import Settings

BLINKEN_SAMPLE = "002_d327a6ada714b97a.txt"


@pytest.fixture(scope="session")
def nlp() -> Language:
    return load_pipeline(Settings(_env_file=None).spacy_model)


def unique_article(path: Path) -> UniqueArticle:
    """The first article of a sample file, as dedupe would publish it."""
    return first_of_story(read_articles(path)[0])


@pytest.fixture(scope="session")
def pipelines(nlp: Language) -> Pipelines:
    """The English pipeline, with the configured French one and the blank ones loaded on demand."""
    settings = Settings(_env_file=None)
    return Pipelines(nlp, settings.spacy_language_models)
