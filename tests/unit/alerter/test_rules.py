"""Rule files: the shipped defaults load, and every mistake is named by file, rule and field."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

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


def reload_errors() -> float:
    return REGISTRY.get_sample_value("newsmon_rule_reloads_total", {"outcome": "error"}) or 0.0


def replace_with_directory(path: Path) -> None:
    path.unlink()
    path.mkdir()


BROKEN_EDITS = {
    "not-utf8": lambda path: path.write_bytes(b"rules:\n  - id: b\n    name: B\xff\n    sentence: {any: [y]}\n"),
    "alias-bomb": lambda path: path.write_text(
        'x: &a ["l","l","l","l","l","l","l","l","l"]\n' + "".join(
            f"y{n}: &{chr(98 + n)} [{','.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(8))),
    "too-deep": lambda path: path.write_text("rules: " + "[" * 200 + "]" * 200 + "\n"),
    "invalid-rule": lambda path: path.write_text("rules:\n  - id: b\n    name: B\n"),
    "a-directory": replace_with_directory,
    "deleted": lambda path: path.unlink(),
}


@pytest.mark.parametrize("edit", BROKEN_EDITS.values(), ids=BROKEN_EDITS.keys())
def test_no_broken_edit_can_take_the_rulebook_down(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                                   edit: Callable[[Path], object]) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text("rules:\n  - id: a\n    name: A\n    sentence: {all: [{any: [x]}]}\n")
    book = RuleBook(path)
    errors = reload_errors()

    edit(path)
    with caplog.at_level(logging.ERROR, logger="services.alerter.rule_engine.rulebook"):
        assert book.reload_if_changed() is False
        assert book.reload_if_changed() is False, "a broken file is reported once, not on every check"
    assert book.rule_ids() == ["a"], "the previous rules stay active"
    assert reload_errors() == errors + 1
    [logged] = [record for record in caplog.records if record.getMessage() == "rules.reload_failed"]
    assert str(path) in logged.fields["error"]

    if path.is_dir():
        path.rmdir()
    path.write_text("rules:\n  - id: b\n    name: B\n    sentence: {all: [{any: [y]}]}\n")
    assert book.reload_if_changed() is True and book.rule_ids() == ["b"], "the fixed file is taken at once"
