"""Files of a local stack that only their owner may read: the data dir, its logs, its secrets.

The data dir holds the API token, the embedded Redis's password and append-only file, and every
process's log, so it is made owner-only (0700) and each file in it 0600, also when an older run
left them wider. Secrets are made once and kept, so every process and CLI command of the same
data dir finds the same ones.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PRIVATE_DIRECTORY_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    """``path`` created if missing (with its parents) and owner-only; returns it."""
    path.mkdir(mode=PRIVATE_DIRECTORY_MODE, parents=True, exist_ok=True)
    path.chmod(PRIVATE_DIRECTORY_MODE)
    return path


def open_private_log(path: Path) -> int:
    """A file descriptor appending to ``path``, which is created 0600 and narrowed to 0600 if it was wider."""
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE_FILE_MODE)
    os.fchmod(descriptor, PRIVATE_FILE_MODE)
    return descriptor


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (write a 0600 sibling, then rename): a reader sees
    the old content or the new one, never half of it, and never a moment of wider permissions."""
    staging = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
    os.chmod(staging, PRIVATE_FILE_MODE)
    os.replace(staging, path)


def local_secret(path: Path) -> str:
    """The secret kept in ``path``; made (URL-safe, 256 bits) and stored owner-only the first time,
    or when the file is empty. The file's permissions are narrowed to 0600 either way."""
    if path.exists():
        path.chmod(PRIVATE_FILE_MODE)
        if secret := path.read_text().strip():
            return secret
    private_directory(path.parent)
    secret = secrets.token_urlsafe(32)
    write_private_file(path, secret + "\n")
    return secret
