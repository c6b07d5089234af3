"""The guard of a ``newsmon up``: a small process that stops the stack in order when its supervisor ends
without stopping it (SIGKILL, the OOM killer, a crash).

The services die with the supervisor by themselves (their parent-death signal, see
``newsmon.embedded.spawn``), but the broker and Redis must outlive them: a service that is
stopping still commits its offsets and finishes its Redis writes. So these carry no parent-death
signal; instead ``newsmon up`` starts this guard with a pipe on its standard input and never
writes to it. When the supervisor ends, however it ends, the pipe closes, and the guard stops
whatever of the stack still runs, found in the state file by pid and start time: the services
first (they are usually gone already), then the relay, the broker and Redis (SIGTERM, so Redis
flushes its append-only file). After a clean stop the supervisor has removed the state file first,
and the guard exits with nothing to do.

Run as ``python -m newsmon.stack_guard DATA_DIR GRACE_S``; ``start_guard`` does that.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from newsmon.private_files import open_private_log, private_directory
from newsmon.process_identity import stop_in_order
from newsmon.stack_state import INFRASTRUCTURE, STACK_MARKER, read_state

LOG_NAME = "stack-guard"


def start_guard(data_dir: Path, grace_s: float) -> subprocess.Popen[bytes]:
    """The guard of the stack of ``data_dir``; closing its ``stdin`` (or ending) tells it the supervisor is gone.

    ``grace_s`` is how long a service may take to stop before it is killed.
    """
    log_path = private_directory(data_dir / "logs") / f"{LOG_NAME}.log"
    descriptor = open_private_log(log_path)
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "newsmon.stack_guard", str(data_dir.resolve()), str(grace_s)],
            stdin=subprocess.PIPE, stdout=descriptor, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, STACK_MARKER: str(data_dir.resolve())},
        )
    finally:
        os.close(descriptor)


def stop_what_is_left(data_dir: Path, grace_s: float) -> list[str]:
    """Stop every process the state file of ``data_dir`` lists that still runs, services first; their
    descriptions (``redis (pid 12)``). Nothing is stopped while the ``newsmon up`` that wrote it runs."""
    state = read_state(data_dir)
    if state is None or state.running():
        return []
    stopped = stop_in_order(state.leftovers(), frozenset(INFRASTRUCTURE), grace_s)
    return [process.describe() for process in stopped]


def main(argv: list[str]) -> int:
    data_dir, grace_s = Path(argv[1]), float(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only the pipe tells it when to act
    sys.stdin.buffer.read()  # returns at end of file: the supervisor closed the pipe or ended
    started = time.monotonic()
    stopped = stop_what_is_left(data_dir, grace_s)
    if stopped:
        print(f"newsmon up ended without stopping its processes; stopped {', '.join(stopped)} "
              f"in {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
