"""The commands a person runs to look at a stack start at once: `newsmon --help`, `status`, `processes`,
`stop` and `alerts` import none of spaCy, faust and the rule engine (which take seconds), checked by
the modules loaded in a fresh interpreter, not by timing.

A new light command (one that only talks to the services) joins ``LIGHT_COMMANDS`` here.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from newsmon.cli import app
from newsmon.deferred_commands import Deferred
from tests.conftest import REPO

# What makes a command slow to start, and what only the stack and the offline commands need.
HEAVY = ("spacy", "thinc", "faust", "mode", "aiokafka", "services.alerter.rule_engine", "services.ner",
         "datasketch", "trafilatura", "rich")
# Run to the end in a fresh interpreter (no stack runs on the test's ports, so `status` says DOWN).
LIGHT_COMMANDS = [["--help"], ["status"], ["status", "--json"], ["processes"], ["stop"], ["rules", "--help"],
                  ["deliveries", "--help"], ["dead-letters", "--help"], ["silences", "--help"]]
# Resolved only: running them reads a topic, and reading a topic needs aiokafka, but nothing else heavy.
LIGHT_TO_RESOLVE = ["alerts", "status", "processes", "stop", "schema"]

_RUN = """
import atexit, json, sys
out = sys.argv[1]
atexit.register(lambda: open(out, "w").write(json.dumps(sorted(sys.modules))))
sys.argv = ["newsmon", *sys.argv[2:]]
from newsmon.cli import main
main()
"""
_RESOLVE = """
import json, sys
import typer
from newsmon.cli import app
group = typer.main.get_command(app)
context = group.make_context("newsmon", [sys.argv[2]])
command = group.get_command(context, sys.argv[2])
command.make_context(sys.argv[2], [], parent=context, resilient_parsing=True)
open(sys.argv[1], "w").write(json.dumps(sorted(sys.modules)))
"""


def heavy_modules(script: str, arguments: list[str], tmp_path: Path) -> list[str]:
    """The heavy modules a fresh interpreter has loaded after ``script`` with ``arguments``."""
    return run_fresh(script, arguments, tmp_path)[0]


def run_fresh(script: str, arguments: list[str], tmp_path: Path) -> tuple[list[str], subprocess.CompletedProcess[str]]:
    """Run ``script`` with ``arguments`` in a fresh interpreter: the heavy modules it loaded, and how it ended."""
    loaded = tmp_path / "modules.json"
    env = {"PATH": "/usr/bin:/bin", "NEWSMON_DATA_DIR": str(tmp_path / "data"),
           "NEWSMON_EMBEDDED_KAFKA_PORT": "1", "NEWSMON_FETCHER_PORT": "1", "NEWSMON_DEDUPE_PORT": "1",
           "NEWSMON_NER_PORT": "1", "NEWSMON_ALERTER_PORT": "1"}
    result = subprocess.run([sys.executable, "-c", script, str(loaded), *arguments], env=env, cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert loaded.exists(), result.stderr
    modules = json.loads(loaded.read_text())
    heavy = sorted(name for name in modules if any(name == heavy or name.startswith(heavy + ".") for heavy in HEAVY))
    return heavy, result


@pytest.mark.parametrize("arguments", LIGHT_COMMANDS, ids=" ".join)
def test_a_light_command_runs_without_the_pipeline(arguments: list[str], tmp_path: Path) -> None:
    assert heavy_modules(_RUN, arguments, tmp_path) == []


@pytest.mark.parametrize("name", LIGHT_TO_RESOLVE)
def test_a_light_command_is_built_without_the_pipeline(name: str, tmp_path: Path) -> None:
    assert heavy_modules(_RESOLVE, [name], tmp_path) == []


def test_alerts_without_a_broker_says_so_in_one_line_having_loaded_only_the_kafka_client(tmp_path: Path) -> None:
    heavy, result = run_fresh(_RUN, ["alerts"], tmp_path)
    assert {name.split(".")[0] for name in heavy} == {"aiokafka"}
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: cannot read the alerts from 127.0.0.1:1: ")
    assert result.stderr.count("\n") == 1, "one line, no traceback"


def deferred_commands() -> list[tuple[str, Deferred]]:
    """Every deferred command of the CLI, by its path (``dead-letters list``)."""
    found = []
    groups = [("", app), *((info.name or "", info.typer_instance) for info in app.registered_groups)]
    for prefix, typer_app in groups:
        deferred = getattr(typer.main.get_group(typer_app), "deferred", {})
        found += [(f"{prefix} {name}".strip(), entry) for name, entry in deferred.items()]
    return found


def test_every_deferred_command_is_found() -> None:
    assert {path for path, _ in deferred_commands()} == {
        "dedupe", "ner", "rules eval", "deliveries list", "deliveries replay", "dead-letters list",
        "dead-letters replay"}


@pytest.mark.parametrize(("path", "deferred"), deferred_commands(), ids=[path for path, _ in deferred_commands()])
def test_a_deferred_command_loads_and_its_listed_help_is_its_docstring(path: str, deferred: Deferred) -> None:
    command = deferred.load(path.split()[-1])
    assert command.name == path.split()[-1] and command.params, "the real command, with its options"
    module_name, attribute = deferred.target.split(":")
    __import__(module_name)
    docstring = inspect.getdoc(getattr(sys.modules[module_name], attribute)) or ""
    first_paragraph = " ".join(docstring.split("\n\n")[0].split())
    assert deferred.help == first_paragraph
