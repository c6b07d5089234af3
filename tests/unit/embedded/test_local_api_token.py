"""`newsmon up` keeps the local API token in a file only its owner can read, and keeps it across runs."""

from __future__ import annotations

import stat
from pathlib import Path

from newsmon.embedded import local_api_token


def test_the_token_is_made_once_owner_only_and_reused(tmp_path: Path) -> None:
    data_dir = tmp_path / ".newsmon"
    token = local_api_token(data_dir)
    path = data_dir / "api-token"

    assert len(token) >= 40 and path.read_text().strip() == token
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert local_api_token(data_dir) == token


def test_an_empty_token_file_gets_a_new_token(tmp_path: Path) -> None:
    (tmp_path / "api-token").write_text("\n")
    token = local_api_token(tmp_path)
    assert token and (tmp_path / "api-token").read_text().strip() == token
    assert stat.S_IMODE((tmp_path / "api-token").stat().st_mode) == 0o600
