"""`newsmon rules test` on the samples fires exactly what the seed materials expect."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from typer.testing import CliRunner

from newsmon.cli import app
from newsmon.embedded import free_port


def test_samples_fire_the_expected_rules(sample_dir: Path, expected_rules: dict[str, list[str]]) -> None:
    result = CliRunner().invoke(app, ["rules", "test", "--json", str(sample_dir)])
    assert result.exit_code == 0, result.output
    fired: dict[str, set[str]] = defaultdict(set)
    for line in result.stdout.splitlines():
        match = json.loads(line)
        fired[Path(match["file"]).name].add(match["rule"])
        if match["rule"] == "rafah":
            assert set(match) == {"file", "rule", "sentence"}
            assert "Rafah" in match["sentence"]
        else:  # an event rule says why: the action, the object, the target
            assert set(match) == {"file", "rule", "sentence", "event"}
            event = match["event"]
            assert event["object"]["text"].lower().startswith("sanction")
            assert event["target"]["text"] in match["sentence"]
    assert {name: sorted(fired[name]) for name in expected_rules} == {
        name: sorted(rules) for name, rules in expected_rules.items()
    }


def test_text_output_names_file_rule_and_sentence(sample_dir: Path) -> None:
    result = CliRunner().invoke(app, ["rules", "test", str(sample_dir / "002_d327a6ada714b97a.txt")])
    assert result.exit_code == 0
    assert any(line.endswith("near the border with Egypt, where Israel believes there are terrorists "
                             "responsible for the October 7 massacre which killed around 1,200 people inside "
                             "the Jewish state and took some 240 hostages.") and ": rafah: " in line
               for line in result.stdout.splitlines())


def test_text_output_explains_an_event_under_its_sentence(sample_dir: Path) -> None:
    result = CliRunner().invoke(app, ["rules", "test", str(sample_dir / "000_1a88f4a49be5f51d.txt")])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    fired = next(index for index, line in enumerate(lines) if "they were imposing a new round of sanctions" in line)
    assert lines[fired + 1] == "  event: action 'round', object 'sanctions', target 'Iran' (noun, anchored)"


def test_bad_rule_file_is_reported_with_its_name(tmp_path: Path, sample_dir: Path) -> None:
    rules = tmp_path / "watch.yaml"
    rules.write_text("rules:\n  - id: x\n    name: X\n")
    result = CliRunner().invoke(app, ["rules", "test", "--rules", str(rules), str(sample_dir)])
    assert result.exit_code == 2
    assert f"{rules}: rule 'x': field sentence: Field required" in result.output


def test_api_rules_from_an_unreachable_redis_is_one_line_without_the_password(sample_dir: Path) -> None:
    port = free_port()
    closed = f"redis://newsmon:s3cret-pass@127.0.0.1:{port}/0"
    result = subprocess.run([sys.executable, "-m", "newsmon", "rules", "test", "--api-rules", str(sample_dir)],
                            env={**os.environ, "NEWSMON_REDIS_URL": closed}, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: cannot reach Redis at redis://127.0.0.1:{port}/0: "), result.stderr
    assert "s3cret-pass" not in result.stderr + result.stdout
