"""`newsmon ner [--json] FILES...`: the enriched message of each file, offline."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from spacy.language import Language
from typer.testing import CliRunner

from newsmon.commands.ner import ner_command, summary
from services.ner.annotate import enrich
from shared.schemas import EnrichedArticle
from tests.unit.ner.conftest import BLINKEN_SAMPLE, unique_article


def cli() -> typer.Typer:
    """The command as ``newsmon`` registers it: a subcommand named ``ner``."""
    app = typer.Typer()
    app.command("ner")(ner_command)
    app.callback()(lambda: None)
    return app


def test_json_prints_one_enriched_message_per_article(sample_dir: Path, tmp_path: Path) -> None:
    feed = tmp_path / "two.jsonl"
    feed.write_text(json.dumps({"text": "Israeli tanks moved towards Rafah on Monday, officials in Washington "
                                        "said, as talks in Cairo stalled.", "url": "https://example.org/a"}) + "\n"
                    + json.dumps({"text": "Netanyahu dijo que su ejército entrará también en Rafah, cerca de la "
                                          "frontera con Egipto.", "language": "es"}) + "\n")
    result = CliRunner().invoke(cli(), ["ner", "--json", str(sample_dir), str(feed)])
    assert result.exit_code == 0, result.output
    messages = [EnrichedArticle.model_validate_json(line) for line in result.stdout.splitlines()]
    assert [message.source for message in messages] == [
        *(f"file:{path.name}" for path in sorted(sample_dir.glob("*.txt"))), "file:two.jsonl", "file:two.jsonl"]
    assert [message.url for message in messages[3:]] == ["https://example.org/a", None]
    blinken_article = messages[2]
    assert {m.canonical for m in blinken_article.mentions if "Blinken" in m.text} == {"Antony Blinken"}
    assert {m.label for m in blinken_article.mentions if m.text == "Rafah"} == {"GPE"}
    assert all(message.story_id == message.article_id for message in messages), "each file is its own story"
    assert [(messages[-1].language, messages[-1].ner_mode)] == [("es", "patterns_only")]


def test_text_output_is_a_readable_summary(sample_dir: Path) -> None:
    result = CliRunner().invoke(cli(), ["ner", str(sample_dir / BLINKEN_SAMPLE)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    title = "US Secretary of State Blinken to travel again to Israel for talks"
    assert lines[0] == f"{sample_dir / BLINKEN_SAMPLE}: {title}"
    assert lines[1].startswith("  language en, full NER, ")
    blinken = next(line for line in lines if "Antony Blinken" in line)
    assert blinken.split()[:2] == ["PERSON", "Antony"] and blinken.endswith("(Blinken)")


def test_summary_says_when_the_text_was_cut(nlp: Language, sample_dir: Path) -> None:
    article = unique_article(sample_dir / BLINKEN_SAMPLE)
    (enriched,) = enrich(nlp, [article], max_chars=1_000)
    assert f"text truncated at {enriched.annotated_chars} of {len(article.text)} characters" in summary(
        Path("a.txt"), enriched)


def test_a_missing_file_is_an_error_naming_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli(), ["ner", str(tmp_path / "nope.txt")])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.txt'}: no such file or folder" in result.output
