"""`newsmon rules eval`: the shipped rules on the repo's labelled set, and what the command prints."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmon.cli import app
from newsmon.commands.rules_eval import RuleScore, evaluate_labels
from services.alerter.rule_engine.matching import compile_rules
from services.alerter.rule_engine.rules import load_rules
from shared.settings import get_settings

LABELS = Path(__file__).with_name("labelled") / "rules.jsonl"


@pytest.fixture(scope="module")
def scores() -> dict[str, RuleScore]:
    articles, found = evaluate_labels(LABELS, compile_rules(load_rules(None)), get_settings())
    assert articles >= 150
    return {score.rule_id: score for score in found}


def test_iran_sanctions_on_the_labelled_set(scores: dict[str, RuleScore]) -> None:
    score = scores["iran-sanctions"]
    assert score.true_positives + score.false_negatives >= 80, "the set has positives of many shapes"
    assert score.precision is not None and score.precision >= 0.95, score.misses
    assert score.recall is not None and score.recall >= 0.95, score.misses


def test_rafah_is_exact_and_ignores_look_alikes(scores: dict[str, RuleScore]) -> None:
    score = scores["rafah"]
    assert (score.precision, score.recall) == (1.0, 1.0), score.misses
    assert score.true_positives >= 12


def labels_file(tmp_path: Path, *lines: dict[str, object]) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_the_report_shows_each_miss_with_its_sentence_and_why(tmp_path: Path) -> None:
    path = labels_file(
        tmp_path,
        {"id": "hit", "rules": ["iran-sanctions"], "text": "Britain imposed new sanctions on Iran on Monday."},
        {"id": "relief", "kind": "negative/relief", "rules": ["iran-sanctions"],
         "text": "Talks on lifting the new sanctions on Iran resumed in Oman."},
        {"id": "rafah", "rules": [], "text": "Aid trucks waited at Rafah."},
    )
    result = CliRunner().invoke(app, ["rules", "eval", "--labels", str(path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "3 labelled articles"
    assert "iran-sanctions: precision 1.00 (1/1)  recall 0.50 (1/2)" in lines
    assert "  false negative: relief (negative/relief)" in lines
    assert "    should fire on: Talks on lifting the new sanctions on Iran resumed in Oman." in lines
    assert "      cue 'new': relief: 'lifting'" in lines
    assert "rafah: precision 0.00 (0/1)  recall n/a (0/0)" in lines
    assert "    fired on: Aid trucks waited at Rafah." in lines


def test_a_miss_where_the_rule_found_no_event_says_which_part_was_missing(tmp_path: Path) -> None:
    path = labels_file(
        tmp_path,
        {"id": "no-object", "rules": ["iran-sanctions"], "text": "Washington barred Iran's envoys on Monday."},
        {"id": "apart", "rules": ["iran-sanctions"],
         "text": "Iran's navy seized a tanker.\nBritain imposed new sanctions on Monday."},
        {"id": "no-action", "rules": ["iran-sanctions"], "text": "Iran's sanctions lawyers met in Geneva."},
        {"id": "rafah", "rules": ["rafah"], "text": "Aid trucks waited at Gaza's southern crossing."},
    )
    result = CliRunner().invoke(app, ["rules", "eval", "--labels", str(path)])
    assert result.exit_code == 0, result.output
    report = result.stdout
    assert "  false negative: no-object\n    should fire on: Washington barred Iran's envoys on Monday.\n" \
           "      no event: no sentence holds an object word\n" in report
    assert "  false negative: apart\n" in report and "      no event: no sentence holds an object word with the " \
           "target (nor the source), or links them through the next sentence\n" in report
    assert "      no event: in the sentences that hold an object word with the target, no action or cue word " \
           "acts on it\n" in report
    assert "  false negative: rafah\n    should fire on: Aid trucks waited at Gaza's southern crossing.\n" \
           "      no sentence satisfies the condition\n" in report


def test_json_gives_the_figures_to_scripts(tmp_path: Path) -> None:
    path = labels_file(tmp_path, {"id": "a", "rules": ["rafah"], "text": "Tanks entered Rafah."},
                       {"id": "b", "rules": [], "text": "Rafael Nadal won in Madrid."})
    result = CliRunner().invoke(app, ["rules", "eval", "--json", "--labels", str(path)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    rafah = next(rule for rule in report["rules"] if rule["rule"] == "rafah")
    assert (rafah["precision"], rafah["recall"], rafah["misses"]) == (1.0, 1.0, [])


@pytest.mark.parametrize(("line", "message"), [
    ('{"id": "a", "rules": ["nope"], "text": "x"}', ":1: field rules: no rule 'nope' in the rules evaluated"),
    ('{"id": "a", "text": "x"}', ":1: rules: Field required"),
    ("not json", ":1: "),
])
def test_a_bad_labels_file_names_the_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(line + "\n")
    result = CliRunner().invoke(app, ["rules", "eval", "--labels", str(path)])
    assert result.exit_code == 2
    assert f"error: {path}{message}" in result.output


def references(tmp_path: Path, pages: dict[str, tuple[str, dict[str, bool], str | None]]) -> tuple[Path, Path]:
    """A references file and its texts folder: per id, (text, labels, story)."""
    texts = tmp_path / "texts"
    texts.mkdir()
    lines = []
    for page_id, (text, labels, story) in pages.items():
        (texts / f"{page_id}.txt").write_text(text)
        lines.append({"id": page_id, "query": "q", "url": f"https://example.org/{page_id}", "labels": labels,
                      "category": "positive/x" if any(labels.values()) else "negative/x",
                      "reason": f"why {page_id}", **({"story": story} if story else {})})
    path = tmp_path / "references.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path, texts


def test_references_read_their_texts_and_recall_is_also_given_by_story(tmp_path: Path) -> None:
    yes, no = {"iran-sanctions": True, "rafah": False}, {"iran-sanctions": False, "rafah": False}
    path, texts = references(tmp_path, {
        "a1": ("UK sanctions Iran's generals\nBritain imposed new sanctions on Iran on Monday.", yes, "uk-monday"),
        "a2": ("Weather in London\nIt rained on Monday.", yes, "uk-monday"),
        "b1": ("Oil prices\nTraders watched the market.", yes, "eu-friday"),
        "c1": ("Cafe opens\nA cafe opened in Rafah.", no, None),
    })
    result = CliRunner().invoke(app, ["rules", "eval", "--labels", str(path), "--texts", str(texts)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "iran-sanctions: precision 1.00 (1/1)  recall 0.33 (1/3)" in lines
    assert "  recall by story: 0.50 (1/2) (1 stories with several articles)" in lines
    assert "  story missed: eu-friday" in lines
    assert "    label: why b1" in lines, "each miss shows the reason its label was given"
    assert "    label: why c1" in lines


def test_a_reference_without_its_text_names_the_missing_file(tmp_path: Path) -> None:
    path, texts = references(tmp_path, {"a1": ("Britain imposed new sanctions on Iran.", {"rafah": False}, None)})
    (texts / "a1.txt").unlink()
    result = CliRunner().invoke(app, ["rules", "eval", "--labels", str(path), "--texts", str(texts)])
    assert result.exit_code == 2
    assert f"{path}:1: no text for 'a1': cannot read {texts / 'a1.txt'}" in result.output


def test_a_reference_labelling_an_unknown_rule_is_refused(tmp_path: Path) -> None:
    path, texts = references(tmp_path, {"a1": ("Some text.", {"nope": True}, None)})
    result = CliRunner().invoke(app, ["rules", "eval", "--labels", str(path), "--texts", str(texts)])
    assert result.exit_code == 2
    assert f"{path}:1: field labels: no rule 'nope' in the rules evaluated" in result.output
