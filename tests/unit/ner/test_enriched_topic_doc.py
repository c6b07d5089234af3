"""docs/enriched-topic.md stays true: its example is a valid message and the schema explains every field."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest

from shared.schemas import EnrichedArticle, Entity, Mention, UniqueArticle
from tests.conftest import REPO

DOC = REPO / "docs" / "enriched-topic.md"


def example() -> dict:  # type: ignore[type-arg]
    (block,) = re.findall(r"```json\n(.*?)```", DOC.read_text(), re.DOTALL)
    return json.loads(block)  # type: ignore[no-any-return]


def test_the_example_message_matches_the_published_schema() -> None:
    message = example()
    jsonschema.validate(message, EnrichedArticle.model_json_schema(mode="serialization"))
    article = EnrichedArticle.model_validate(message)
    for mention in article.mentions:
        assert article.text[mention.start:mention.end] == mention.text
    assert {m.canonical for m in article.mentions if "Blinken" in m.text} == {"Antony Blinken"}
    assert next(e for e in article.entities if e.name == "Rafah").label == "GPE"


def test_the_example_uses_every_field_of_the_contract() -> None:
    assert set(example()) == set(EnrichedArticle.model_fields)


@pytest.mark.parametrize("model", [Mention, Entity])
def test_every_mention_and_entity_field_is_described(model: type) -> None:
    schema = model.model_json_schema(mode="serialization")
    assert {name for name, field in schema["properties"].items() if not field.get("description")} == set()


def test_every_field_the_ner_stage_adds_is_described() -> None:
    schema = EnrichedArticle.model_json_schema(mode="serialization")["properties"]
    added = set(EnrichedArticle.model_fields) - set(UniqueArticle.model_fields)
    assert {name for name in added | {"language"} if not schema[name].get("description")} == set()


def test_the_documented_kcat_command_is_the_plain_one() -> None:
    """The embedded broker's relay makes Debian's kcat work without protocol flags."""
    assert "kcat -C -b 127.0.0.1:9092 -t articles.enriched -e\n" in DOC.read_text()
