"""The systemd unit in deploy/systemd/ is one systemd accepts without a warning, and its stop timeout covers
the stack's own bounded stop, so systemd never kills a stack that is still stopping in order."""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from newsmon.stack import INFRASTRUCTURE_STOP_S, SERVICE_STOP_MARGIN_S
from newsmon.stack_state import INFRASTRUCTURE
from shared.settings import Settings
from tests.conftest import REPO

UNIT = REPO / "deploy" / "systemd" / "newsmon.service"
INSTALLED_COMMAND = "/opt/newsmon/.venv/bin/newsmon"


def service_section() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys keep their case, as systemd reads them
    parser.read_string(UNIT.read_text())
    return parser["Service"]


def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")
    # verify also checks that ExecStart= names an executable: this checkout's newsmon stands in for
    # the installed one.
    newsmon = Path(sys.executable).with_name("newsmon")
    assert newsmon.exists(), "make install puts newsmon beside the interpreter"
    unit = tmp_path / "newsmon.service"
    text = UNIT.read_text()
    assert f"ExecStart={INSTALLED_COMMAND} up\n" in text
    unit.write_text(text.replace(INSTALLED_COMMAND, str(newsmon)))
    result = subprocess.run([analyze, "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout + result.stderr == "", result.stdout + result.stderr


def test_the_unit_runs_up_as_a_notify_service_in_its_state_directory() -> None:
    service = service_section()
    assert service["Type"] == "notify" and service["ExecStart"].endswith("newsmon up")
    assert service["User"] == "newsmon" and service["StateDirectory"] == "newsmon"
    assert "NEWSMON_DATA_DIR=%S/newsmon" in service["Environment"].split()
    assert service["KillMode"] == "mixed", "SIGTERM to newsmon up alone, which stops the rest in order"


def test_systemds_stop_timeout_covers_the_stacks_bounded_stop() -> None:
    timeout = re.fullmatch(r"(\d+)s?", service_section()["TimeoutStopSec"])
    assert timeout is not None, "TimeoutStopSec in seconds"
    seconds = int(timeout.group(1))
    stack_stop_s = (Settings(_env_file=None).shutdown_timeout_s + SERVICE_STOP_MARGIN_S
                    + len(INFRASTRUCTURE) * INFRASTRUCTURE_STOP_S)
    assert seconds >= stack_stop_s
