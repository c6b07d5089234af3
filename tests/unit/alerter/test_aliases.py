"""Alias sets: the shipped ones, a user's file that extends them, and readable mistakes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.alerter.rule_engine.aliases import AliasFileError, load_aliases, parse_aliases
from services.alerter.rule_engine.matching import compile_rules, evaluate
from services.alerter.rule_engine.rules import parse_rules
from tests.unit.alerter.conftest import Enrich
from tests.unit.alerter.test_rule_language import article

IRAN_EVENT = """rules:
  - id: iran-sanctions
    name: New sanctions on Iran
    sentence:
      event:
        action: [impose]
        object: [sanction]
        target: {aliases: iran}
"""


def test_the_shipped_iran_set_names_it_in_other_ways() -> None:
    iran = load_aliases(None)["iran"]
    assert {"Iran", "Iranian", "Tehran", "Islamic Republic", "IRGC"} <= {entry for entry in iran if isinstance(entry,
                                                                                                             str)}


def test_a_users_file_adds_names_to_a_shipped_set_and_new_sets(tmp_path: Path, enrich: Enrich) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text("aliases:\n  iran: [Persia]\n  houthis: [Houthi, Ansar Allah]\n")
    table = load_aliases(path)
    assert "Persia" in table["iran"] and "Tehran" in table["iran"], "added to, not replacing, the shipped set"
    rules = compile_rules(parse_rules(IRAN_EVENT, "watch.yaml"), aliases=table)
    [match] = evaluate(rules, enrich("Britain imposed sanctions on Persia on Tuesday."))
    assert match.events and match.events[0].target and match.events[0].target.text == "Persia"
    assert not evaluate(compile_rules(parse_rules(IRAN_EVENT, "watch.yaml")),
                        enrich("Britain imposed sanctions on Persia on Tuesday."))


def test_an_alias_set_is_a_condition_anywhere() -> None:
    yaml_text = "rules:\n  - id: r\n    name: R\n    sentence: {all: [{aliases: iran}, earthquake]}\n"
    rules = compile_rules(parse_rules(yaml_text, "watch.yaml"))
    assert evaluate(rules, article("An earthquake hit the Islamic Republic."))
    assert not evaluate(rules, article("An earthquake hit Turkey."))


def test_case_sensitive_entries_match_as_written() -> None:
    yaml_text = "rules:\n  - id: r\n    name: R\n    sentence: {all: [{aliases: united-states}, visit]}\n"
    rules = compile_rules(parse_rules(yaml_text, "watch.yaml"))
    assert evaluate(rules, article("The US will visit."))
    assert not evaluate(rules, article("Let us visit."))


@pytest.mark.parametrize(("text", "message"), [
    ("aliases: {Iran: [Tehran]}", "my.yaml: alias set name 'Iran': String should match pattern"),
    ("aliases: {iran: ['--']}", "my.yaml: alias set 'iran': entry #1: term '--' has no word characters"),
    ("aliases: {iran: []}", "my.yaml: alias set 'iran': has no entries"),
    ("aliases: {iran: [{term: US, case: upper}]}", "my.yaml: alias set 'iran': entry #1: Input should be"),
    ("names: {}", "my.yaml: field aliases: Field required"),
    ("aliases: [", "my.yaml: not valid YAML"),
])
def test_mistakes_name_the_file_the_set_and_the_entry(text: str, message: str) -> None:
    with pytest.raises(AliasFileError) as raised:
        parse_aliases(text, "my.yaml")
    assert str(raised.value).startswith(message), str(raised.value)


def test_the_setting_names_the_users_file_for_every_command(tmp_path: Path) -> None:
    aliases = tmp_path / "aliases.yaml"
    aliases.write_text("aliases:\n  persia: [Persia]\n")
    rules = tmp_path / "watch.yaml"
    rules.write_text(IRAN_EVENT.replace("aliases: iran", "aliases: persia"))
    story = tmp_path / "story.txt"
    story.write_text("Britain imposed sanctions on Persia on Tuesday.\n")
    run = [sys.executable, "-m", "newsmon", "rules", "test", "--json", "--rules", str(rules), str(story)]
    found = subprocess.run(run, env={**os.environ, "NEWSMON_ALIASES_PATH": str(aliases)}, capture_output=True,
                           text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    [line] = found.stdout.splitlines()
    assert json.loads(line)["event"]["target"]["text"] == "Persia"
    missing = subprocess.run(run, env={**os.environ, "NEWSMON_ALIASES_PATH": str(tmp_path / "nope.yaml")},
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2
    assert f"{tmp_path / 'nope.yaml'}: cannot read alias file (NEWSMON_ALIASES_PATH)" in missing.stderr
