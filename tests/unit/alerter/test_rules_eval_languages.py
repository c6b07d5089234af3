"""`newsmon rules eval` over both labelled files, with the figures of each language."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from newsmon.cli import app
from newsmon.commands.rules_eval import Evaluation, LabelFileError, RuleScore, evaluate_languages
from services.alerter.rule_engine.matching import compile_rules
from services.alerter.rule_engine.rules import load_rules
from shared.settings import get_settings

LABELLED = Path(__file__).with_name("labelled")
FILES = [LABELLED / "rules.jsonl", LABELLED / "languages.jsonl"]


@pytest.fixture(scope="module")
def evaluation() -> Evaluation:
    return evaluate_languages(FILES, compile_rules(load_rules(None)), get_settings())


def score(evaluation: Evaluation, language: str, rule: str) -> RuleScore:
    return next(found for found in evaluation.by_language[language] if found.rule_id == rule)


def test_every_language_of_the_set_is_scored(evaluation: Evaluation) -> None:
    assert {"en", "fr", "es", "de", "ar"} <= set(evaluation.by_language)


def test_english_figures_hold_beside_the_other_languages(evaluation: Evaluation) -> None:
    english = score(evaluation, "en", "iran-sanctions")
    assert english.precision is not None and english.precision >= 0.95, english.misses
    assert english.recall is not None and english.recall >= 0.95, english.misses


def test_new_sanctions_on_iran_in_french(evaluation: Evaluation) -> None:
    french = score(evaluation, "fr", "iran-sanctions")
    assert french.true_positives + french.false_negatives >= 12
    assert french.precision is not None and french.precision >= 0.95, french.misses
    assert french.recall is not None and french.recall >= 0.85, french.misses


@pytest.mark.parametrize("language", ["es", "de", "ar"])
def test_without_a_parser_the_event_rule_never_fires_wrongly(evaluation: Evaluation, language: str) -> None:
    found = score(evaluation, language, "iran-sanctions")
    assert found.false_positives == 0 and found.true_positives == 0, "no parser: the event condition never holds"


@pytest.mark.parametrize("language", ["en", "fr", "es", "de", "ar"])
def test_rafah_is_exact_in_every_language(evaluation: Evaluation, language: str) -> None:
    found = score(evaluation, language, "rafah")
    assert (found.precision, found.recall) == (1.0, 1.0), found.misses


def test_the_report_prints_figures_per_language() -> None:
    result = CliRunner().invoke(app, ["rules", "eval", "--labels", str(FILES[1])])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "by language:" in lines
    assert "  es rafah: precision 1.00 (3/3)  recall 1.00 (3/3)" in lines
    assert any(line.startswith("  fr iran-sanctions: precision 1.00") for line in lines)


def test_an_id_used_in_two_files_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "copy.jsonl"
    copy.write_text(FILES[1].read_text(encoding="utf-8").splitlines()[0] + "\n", encoding="utf-8")
    with pytest.raises(LabelFileError, match="copy.jsonl: id 'fr-announced-001' is used in an earlier labels file"):
        evaluate_languages([FILES[1], copy], compile_rules(load_rules(None)), get_settings())
