"""A local stack's data dir is its owner's alone: the dir 0700, logs and secrets 0600 (also when an
earlier run left them wider), and the embedded Redis's password is what every process connects with."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

from newsmon.embedded import local_redis_password, spawn
from newsmon.private_files import private_directory, write_private_file
from shared.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_data_dir_and_its_logs_are_owner_only_even_after_a_wider_run(tmp_path: Path) -> None:
    logs = tmp_path / "data" / "logs"
    logs.mkdir(parents=True, mode=0o755)
    (logs / "ner.log").write_text("an earlier run\n")
    (logs / "ner.log").chmod(0o644)

    private_directory(tmp_path / "data")
    spawn("ner", [sys.executable, "-c", "print('hello')"], logs).process.wait(30)

    assert mode(tmp_path / "data") == 0o700 and mode(logs) == 0o700
    assert mode(logs / "ner.log") == 0o600
    assert (logs / "ner.log").read_text() == "an earlier run\nhello\n", "appended, not replaced"


def test_a_private_file_is_replaced_whole_and_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "stack.json"
    target.write_text("old")
    target.chmod(0o644)
    write_private_file(target, "new")
    assert target.read_text() == "new" and mode(target) == 0o600
    assert [path.name for path in tmp_path.iterdir()] == ["stack.json"], "no staging file left behind"


def test_the_redis_password_is_made_once_and_is_in_the_url_everything_connects_with(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", embedded_redis_port=6390)
    assert settings.redis == "redis://127.0.0.1:6390/0", "before `newsmon up` made one, no password"

    password = local_redis_password(settings.data_dir)
    assert len(password) >= 40 and local_redis_password(settings.data_dir) == password
    assert mode(settings.embedded_redis_password_path) == 0o600 and mode(settings.data_dir) == 0o700
    assert settings.redis == f"redis://:{password}@127.0.0.1:6390/0"


def test_a_configured_redis_url_is_used_as_given(tmp_path: Path) -> None:
    local_redis_password(tmp_path)
    settings = Settings(_env_file=None, data_dir=tmp_path, redis_url="redis://redis.internal:6379/2")
    assert settings.redis == "redis://redis.internal:6379/2"
