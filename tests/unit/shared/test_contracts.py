"""Contracts: ids, canonical URLs, schema versions and the published JSON Schemas."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from newsmon.cli import app
from shared.article_ids import alert_id, article_id_for_url, canonical_url
from shared.schemas import RawArticle


def test_canonical_url_drops_tracking_and_fragment_and_lowercases_host() -> None:
    assert canonical_url("HTTPS://News.Example.COM/World/Story?id=7&utm_medium=rss&fbclid=x#comments") == (
        "https://news.example.com/World/Story?id=7"
    )
    assert article_id_for_url("https://a.example/x?utm_source=y") == article_id_for_url("https://a.example/x")


def test_alert_id_is_stable_per_rule_and_story() -> None:
    assert alert_id("rafah", "s1") == alert_id("rafah", "s1")
    assert alert_id("rafah", "s1") != alert_id("rafah", "s2") != alert_id("iran-sanctions", "s1")


def test_unknown_schema_version_is_rejected() -> None:
    with pytest.raises(ValidationError, match="schema_version"):
        RawArticle.model_validate({"schema_version": 2, "article_id": "a", "text": "t", "source": "s"})


@pytest.mark.parametrize("topic", ["articles.enriched", "alerts"])
def test_schema_command_prints_json_schema(topic: str) -> None:
    result = CliRunner().invoke(app, ["schema", topic])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert "schema_version" in schema["properties"]
    assert "article_id" in schema["required"]


def test_schema_command_names_known_topics_on_error() -> None:
    result = CliRunner().invoke(app, ["schema", "nope"])
    assert result.exit_code == 2
    assert "articles.enriched" in result.output
