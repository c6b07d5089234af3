"""The layout a newcomer relies on: every project import is the file its path names, from the repo root,
importing a service's app opens nothing and reads no settings (wiring happens when it starts), and the
three layers only look down: ``newsmon/`` over ``services/`` over ``shared/``, no service importing another."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import REPO

PACKAGES = ("newsmon", "shared", "services")
# Only `make bench` runs the benchmarks; importing them here catches one a refactor broke.
BENCHMARKS = "tests/bench"


def project_modules() -> list[str]:
    """Every module of the product and of the benchmarks, named from its path below the repo root."""
    names = []
    for package in (*PACKAGES, BENCHMARKS):
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


@pytest.mark.parametrize("name", [name for name in project_modules() if not name.endswith("__main__")])
def test_every_module_is_the_file_its_import_names(name: str) -> None:
    module = importlib.import_module(name)
    expected = REPO.joinpath(*name.split("."))
    assert module.__file__ is not None
    assert Path(module.__file__) in (expected.with_suffix(".py"), expected / "__init__.py")


@pytest.mark.parametrize("service", ["fetcher", "dedupe", "ner", "alerter", "notifier"])
def test_importing_a_service_app_needs_no_broker_no_redis_and_no_model(service: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "KAFKA_BOOTSTRAP": "127.0.0.1:1", "REDIS_URL": "redis://127.0.0.1:1/0",
           "NEWSMON_SPACY_MODEL": "no_such_model", "NEWSMON_RULES_PATH": str(tmp_path / "missing.yaml"),
           "NEWSMON_DATA_DIR": str(tmp_path / "data")}
    result = subprocess.run([sys.executable, "-c", f"import services.{service}.app"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "data").exists(), "importing wrote nothing"


def test_the_image_copies_what_the_package_declares() -> None:
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["hatch"]["build"]["targets"]["wheel"]
    copied = {line.split()[1] for line in (REPO / "deploy" / "Dockerfile").read_text().splitlines()
              if line.startswith("COPY ") and "--from" not in line}
    assert set(declared["packages"]) == set(PACKAGES)
    assert set(PACKAGES) <= copied, "the Docker image would build without a package pyproject ships"


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function (a deferred import is still a dependency)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def layer_violations(package: str, allowed: tuple[str, ...]) -> list[str]:
    """``file imports module`` for each project import of ``package``'s files outside ``allowed``."""
    found = []
    for path in sorted((REPO / package).rglob("*.py")):
        own = ".".join(path.relative_to(REPO).parts[:2]).removesuffix(".py")
        for name in sorted(imported_modules(path)):
            inside = any(name == layer or name.startswith(layer + ".") for layer in (*allowed, own))
            if name.split(".")[0] in PACKAGES and not inside:
                found.append(f"{path.relative_to(REPO)} imports {name}")
    return found


def test_shared_imports_no_service_and_no_cli() -> None:
    assert layer_violations("shared", ("shared",)) == []


def test_a_service_imports_only_itself_and_shared() -> None:
    # ``own`` is services.<stage>: a stage may import its own modules, never another stage's nor newsmon's.
    assert layer_violations("services", ("shared",)) == []


def test_a_layer_violation_is_seen(tmp_path: Path) -> None:
    module = tmp_path / "probe.py"
    module.write_text("def later() -> None:\n    from services.alerter.firing import Firing\nimport newsmon.cli\n")
    assert imported_modules(module) == {"services.alerter.firing", "newsmon.cli"}
