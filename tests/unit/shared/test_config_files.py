"""Rule and sources files are read within bounds: a YAML bomb, a deep or huge file, bytes that are not
UTF-8 or a directory in the file's place are refused at once, with a message naming the file."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from services.alerter.rule_engine.rules import RuleFileError, load_rules
from services.fetcher.errors import SourceError
from services.fetcher.sources import load_sources
from shared.config_errors import MAX_ALIASES, MAX_CONFIG_BYTES, MAX_DEPTH, MAX_EXPANDED_NODES


def billion_laughs(collection: str) -> str:
    """Nine levels of nine aliases: a few hundred bytes that expand to 9**9 strings."""
    lines = [f'{collection}:', '  - a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for level in range(8):
        name, previous = chr(ord("b") + level), chr(ord("a") + level)
        lines.append(f"    {name}: &{name} [{','.join([f'*{previous}'] * 9)}]")
    return "\n".join(lines) + "\n"


RULE = "  - id: rafah\n    name: Rafah\n    sentence: {any: [Rafah]}\n"


@pytest.mark.parametrize(("load", "error", "collection"), [
    (load_rules, RuleFileError, "rules"), (load_sources, SourceError, "sources"),
], ids=["rules", "sources"])
def test_a_billion_laughs_bomb_is_refused_at_once_naming_the_file(
    tmp_path: Path, load: Callable[[Path], object], error: type[Exception], collection: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(billion_laughs(collection))
    started = time.process_time()
    with pytest.raises(error) as refused:
        load(path)
    assert time.process_time() - started < 1.0, "refused before expanding anything"
    assert str(refused.value) == f"{path}: refused: aliases expand to more than {MAX_EXPANDED_NODES} values"


@pytest.mark.parametrize(("text", "expected"), [
    ("rules: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", f"nested deeper than {MAX_DEPTH} levels"),
    ("rules: &loop [*loop]\n", "an alias refers to the collection that holds it"),
    ("x: &x 1\nrules: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n", f"more than {MAX_ALIASES} aliases (*name)"),
], ids=["deep", "recursive", "many-aliases"])
def test_yaml_past_its_bounds_is_refused(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text(text)
    with pytest.raises(RuleFileError, match=f"^{re.escape(f'{path}: refused: {expected}')}$"):
        load_rules(path)


def test_a_few_anchors_and_merge_keys_still_load(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    path.write_text("common: &common {name: Rafah, sentence: {any: [Rafah]}}\n"
                    "rules:\n  - <<: *common\n    id: rafah\n  - <<: *common\n    id: rafah-2\n")
    with pytest.raises(RuleFileError, match="field common: Extra inputs are not permitted"):
        load_rules(path)  # anchors load fine; the unknown top-level key is what the validation names
    path.write_text("rules:\n  - &rule {id: rafah, name: Rafah, sentence: {any: [Rafah]}, tags: &tags [a, b]}\n"
                    "  - {id: gaza, name: Gaza, sentence: {any: [Gaza]}, tags: *tags}\n")
    assert [(rule.id, rule.tags) for rule in load_rules(path)] == [("rafah", ["a", "b"]), ("gaza", ["a", "b"])]


def test_a_byte_that_is_not_utf8_is_named_with_its_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "watch.yaml"
    path.write_bytes(b"rules:\n  - id: rafah\n    name: Raf\xffah\n")
    with pytest.raises(RuleFileError, match=f"^{path}: not UTF-8 text: byte 0xff at line 3, column 14$"):
        load_rules(path)


def test_a_directory_a_fifo_or_a_huge_file_in_the_files_place_is_refused_without_reading_it(tmp_path: Path) -> None:
    directory = tmp_path / "watch.yaml"
    directory.mkdir()
    with pytest.raises(RuleFileError, match=f"^{directory}: cannot read rule file: it is a directory$"):
        load_rules(directory)
    fifo = tmp_path / "sources.yaml"
    os.mkfifo(fifo)  # opening it would block until a writer came
    with pytest.raises(SourceError, match=f"^{fifo}: cannot read sources file: not a regular file$"):
        load_sources(fifo)
    huge = tmp_path / "big.yaml"
    huge.write_text("rules:\n" + RULE + "# " + "x" * MAX_CONFIG_BYTES + "\n")
    with pytest.raises(RuleFileError, match=f"^{huge}: rule file is larger than {MAX_CONFIG_BYTES} bytes$"):
        load_rules(huge)
