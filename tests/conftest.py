"""Fixtures shared by all tests: where the repo's sample articles are."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples" / "articles"


@pytest.fixture(scope="session")
def sample_dir() -> Path:
    return SAMPLES


@pytest.fixture(scope="session")
def expected_rules() -> dict[str, list[str]]:
    """File name -> rule ids it must fire (copied from the project's seed materials)."""
    data = json.loads((REPO / "samples" / "expected.json").read_text())
    return {Path(key).name: value for key, value in data.items() if key != "about"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/integration needs the embedded stack: ``-m "not integration"`` leaves it out."""
    integration = REPO / "tests" / "integration"
    for item in items:
        if integration in item.path.parents:
            item.add_marker(pytest.mark.integration)
