"""``newsmon silences``: durations as people write them, and a command light enough to start at once."""

from __future__ import annotations

import subprocess
import sys

import pytest
import typer

from newsmon.commands.silences import parse_duration


@pytest.mark.parametrize(("written", "seconds"), [("90", 90), ("90s", 90), ("30m", 1800), ("2h", 7200),
                                                  ("1.5h", 5400), ("1d", 86400), (" 2H ", 7200)])
def test_durations_are_read_as_people_write_them(written: str, seconds: float) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize("written", ["", "soon", "2 hours", "-5m", "1w"])
def test_other_durations_are_refused_with_an_example(written: str) -> None:
    with pytest.raises(typer.BadParameter, match="like 90s, 30m, 2h or 1d"):
        parse_duration(written)


def test_the_command_imports_neither_faust_nor_the_notifier() -> None:
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, newsmon.commands.silences; "
                               "print(sorted(m for m in ('faust', 'spacy', 'redis', 'services') if m in sys.modules))"],
        capture_output=True, text=True, check=True, timeout=60)
    assert loaded.stdout.strip() == "[]"
