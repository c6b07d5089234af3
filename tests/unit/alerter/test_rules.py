"""Rule files: the shipped defaults load, and every mistake is named by file, rule and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.alerter.rule_engine.rulebook import RuleBook
from services.alerter.rule_engine.rules import RuleFileError, load_rules


def test_default_watchlist_has_the_two_documented_rules() -> None:
    assert [rule.id for rule in load_rules(None)] == ["iran-sanctions", "rafah"]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        ("rules:\n  - id: rafah\n    name: R\n    sentence: {all: [{any: []}]}\n",
         "rule 'rafah': field sentence.all.0.any"),
        ("rules:\n  - id: rafah\n    name: R\n    sentence: {all: [{anny: [x]}]}\n",
         "rule 'rafah': field sentence.all.0.anny: Extra inputs are not permitted"),
        ("rules:\n  - name: R\n    sentence: {all: [{any: [x]}]}\n", "rule 'R': field id: Field required"),
        ("rules:\n  - id: Bad Id\n    name: R\n    sentence: {all: [{any: [x]}]}\n", "rule 'Bad Id': field id"),
        ("rules: [\n", "not valid YAML"),
    ],
)
def test_invalid_rule_files_name_file_rule_and_field(tmp_path: Path, yaml_text: str, expected: str) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text(yaml_text)
    with pytest.raises(RuleFileError) as error:
        load_rules(path)
    assert str(error.value).startswith(str(path))
    assert expected in str(error.value)


def test_duplicate_rule_ids_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    rule = "  - id: a\n    name: A\n    sentence: {all: [{any: [x]}]}\n"
    path.write_text("rules:\n" + rule + rule)
    with pytest.raises(RuleFileError, match="rule id 'a' is used twice"):
        load_rules(path)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(RuleFileError, match="watch.yaml: cannot read rule file"):
        load_rules(tmp_path / "watch.yaml")


def test_broken_edit_keeps_previous_rules_active(tmp_path: Path) -> None:
    import os

    path = tmp_path / "watch.yaml"
    path.write_text("rules:\n  - id: a\n    name: A\n    sentence: {all: [{any: [x]}]}\n")
    book = RuleBook(path)
    path.write_text("rules:\n  - id: a\n    name: A\n")
    os.utime(path, (1, 1))
    assert book.reload_if_changed() is False
    assert [compiled.rule.id for compiled in book.rules] == ["a"]
    path.write_text("rules:\n  - id: b\n    name: B\n    sentence: {all: [{any: [y]}]}\n")
    os.utime(path, (2, 2))
    assert book.reload_if_changed() is True
    assert [compiled.rule.id for compiled in book.rules] == ["b"]


def test_an_edit_that_keeps_the_modification_time_is_still_seen(tmp_path: Path) -> None:
    import os

    path = tmp_path / "watch.yaml"
    path.write_text("rules:\n  - id: a\n    name: A\n    sentence: {all: [{any: [x]}]}\n")
    os.utime(path, (5, 5))
    book = RuleBook(path)
    assert book.reload_if_changed() is False, "nothing changed"
    path.write_text("rules:\n  - id: b\n    name: B\n    sentence: {all: [{any: [y]}]}\n")
    os.utime(path, (5, 5))
    assert book.reload_if_changed() is True
    assert book.rule_ids() == ["b"]
