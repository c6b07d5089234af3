"""`newsmon dedupe [--json] FILES...`: per file its story id, the article it copies and how closely."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from newsmon.cli import app as newsmon_app
from newsmon.commands.dedupe import dedupe_command
from shared.article_ids import article_id_for_content
from shared.schemas import RawArticle
from tests.unit.dedupe.conftest import COPY_HEADLINES
from tests.unit.dedupe.syndication import syndicated_copy


def newsmon_cli() -> typer.Typer:
    """The command registered the way ``newsmon/cli.py`` registers it."""
    app = typer.Typer()
    app.command("dedupe")(dedupe_command)

    @app.callback()
    def main() -> None:
        """newsmon"""

    return app


def write_copies(folder: Path, seeds: dict[str, RawArticle]) -> list[Path]:
    paths = []
    for number, seed in seeds.items():
        path = folder / f"{number}_copy.txt"
        path.write_text(syndicated_copy(seed, COPY_HEADLINES[number]).text)
        paths.append(path)
    return paths


def test_json_lines_give_copies_the_seeds_story(tmp_path: Path, sample_dir: Path,
                                                 seeds: dict[str, RawArticle]) -> None:
    copies = write_copies(tmp_path, seeds)
    result = CliRunner().invoke(newsmon_cli(), ["dedupe", "--json", str(sample_dir), *map(str, copies)])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(line) == {"file", "story_id", "duplicate_of", "similarity"} for line in lines)
    by_name = {Path(line["file"]).name: line for line in lines}
    for number, seed in seeds.items():
        first = next(line for name, line in by_name.items() if name.startswith(number) and "copy" not in name)
        copy = by_name[f"{number}_copy.txt"]
        assert (first["story_id"], first["duplicate_of"], first["similarity"]) == (seed.article_id, None, None)
        assert copy["story_id"] == copy["duplicate_of"] == seed.article_id
        assert 0.5 <= copy["similarity"] < 1
    assert len({line["story_id"] for line in lines}) == 3


def test_text_output_names_file_story_and_original(tmp_path: Path, sample_dir: Path,
                                                   seeds: dict[str, RawArticle]) -> None:
    copy = write_copies(tmp_path, {"002": seeds["002"]})[0]
    seed_file = sample_dir / "002_d327a6ada714b97a.txt"
    result = CliRunner().invoke(newsmon_cli(), ["dedupe", str(seed_file), str(copy)])
    assert result.exit_code == 0, result.output
    story = seeds["002"].article_id
    first, second = result.stdout.splitlines()
    assert first == f"{seed_file}: story {story} (first)"
    assert second.startswith(f"{copy}: story {story} duplicate_of {story} similarity 0.")
    assert second.endswith("(minhash)")


def test_files_with_nothing_left_are_reported_and_the_rest_still_judged(tmp_path: Path) -> None:
    chrome = tmp_path / "chrome.txt"
    chrome.write_text("Skip to Content\nAdvertisement\nShare on Facebook\n")
    story = tmp_path / "story.txt"
    story.write_text("Rescuers reached the last of the trapped quarry workers on Thursday, officials said.\n")
    result = CliRunner().invoke(newsmon_cli(), ["dedupe", "--json", str(chrome), str(story)])
    assert result.exit_code == 0
    assert f"{chrome}: skipped: article {article_id_for_content(chrome.read_text().strip())}: no text left" in (
        result.stderr)
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [str(story)]


def test_unreadable_files_are_errors_naming_them_and_the_rest_still_judged(tmp_path: Path) -> None:
    story = tmp_path / "story.txt"
    story.write_text("Rescuers reached the last of the trapped quarry workers on Thursday, officials said.\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "fine"}\nnot json\n')
    result = CliRunner().invoke(newsmon_cli(), ["dedupe", "--json", str(tmp_path / "nope.txt"), str(bad), str(story)])
    assert result.exit_code == 2
    assert f"{tmp_path / 'nope.txt'}: no such file or folder" in result.stderr
    assert f"{bad}:2: not JSON" in result.stderr
    assert [json.loads(line)["file"] for line in result.stdout.splitlines()] == [str(story)]


def test_duplicates_topic_has_a_published_schema() -> None:
    result = CliRunner().invoke(newsmon_app, ["schema", "articles.duplicates"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert {"story_id", "duplicate_of", "similarity", "matched_on", "story_outlets", "text"} <= set(schema["required"])
