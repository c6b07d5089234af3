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

The pipe closes a moment before the supervisor counts as ended: the kernel releases a dying process's
files before it turns it into a zombie, and a process with many threads takes a while to get there.
So the guard first waits for the supervisor to be gone (``SUPERVISOR_EXIT_S`` at most); acting on the
end of file alone would find it "still running" and leave the whole stack behind.

The guard waits for the services only briefly (``SERVICES_STOP_S``), not for their own deadline
(``NEWSMON_SHUTDOWN_TIMEOUT_S`` and a margin, what ``newsmon up`` gives them on a stop it leads):
they got their SIGTERM from the kernel the moment the supervisor died, and a clean stop commits
within about a second. One still running after that has nothing left to wait for that matters
(no supervisor restarts it, and what it has not committed is delivered again to the next
consumer; every effect is idempotent), while each second of waiting is a second the broker and
Redis outlive ``newsmon up``: a user who finds them still running after a few seconds (and a
supervisor such as systemd, whose stop timeout is about 10 s) takes the stack for leaking.

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
# How long the services, then each of Redis, the relay and the broker, get after SIGTERM before SIGKILL.
# Each usually ends well within its bound, so the whole stop stays within the 10 s a user (or systemd)
# waits even on a loaded machine; Redis, at ``hz 1``, acts on SIGTERM at its next tick (up to 1 s).
SERVICES_STOP_S = 3.0
INFRASTRUCTURE_STOP_S = 3.0
# How long the supervisor may take to end once its end of the pipe is closed (its files are released
# first); one that still runs after this closed the pipe on purpose and is still in charge.
SUPERVISOR_EXIT_S = 5.0


def start_guard(data_dir: Path, grace_s: float) -> subprocess.Popen[bytes]:
    """The guard of the stack of ``data_dir``; closing its ``stdin`` (or ending) tells it the supervisor is gone.

    ``grace_s`` bounds how long a process may take to stop before it is killed (the guard's own bounds,
    ``SERVICES_STOP_S`` and ``INFRASTRUCTURE_STOP_S``, are shorter).
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


def stop_what_is_left(data_dir: Path, grace_s: float, infrastructure_grace_s: float | None = None) -> list[str]:
    """Stop every process the state file of ``data_dir`` lists that still runs, services first (``grace_s``
    before SIGKILL), then the infrastructure (each ``infrastructure_grace_s``, by default ``grace_s``);
    their descriptions (``redis (pid 12)``). Nothing is stopped while the ``newsmon up`` that wrote it runs."""
    state = read_state(data_dir)
    if state is None or state.running():
        return []
    stopped = stop_in_order(state.leftovers(), frozenset(INFRASTRUCTURE), grace_s, infrastructure_grace_s)
    return [process.describe() for process in stopped]


def wait_supervisor_ended(data_dir: Path, timeout_s: float) -> None:
    """Until the ``newsmon up`` of ``data_dir``'s state file has ended (or there is no state), ``timeout_s`` at most."""
    deadline = time.monotonic() + timeout_s
    while (state := read_state(data_dir)) is not None and state.running() and time.monotonic() < deadline:
        time.sleep(0.02)


def main(argv: list[str]) -> int:
    data_dir, grace_s = Path(argv[1]), float(argv[2])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # only the pipe tells it when to act
    sys.stdin.buffer.read()  # returns at end of file: the supervisor closed the pipe or ended
    started = time.monotonic()
    wait_supervisor_ended(data_dir, SUPERVISOR_EXIT_S)
    stopped = stop_what_is_left(data_dir, min(grace_s, SERVICES_STOP_S), min(grace_s, INFRASTRUCTURE_STOP_S))
    if stopped:
        print(f"newsmon up ended without stopping its processes; stopped {', '.join(stopped)} "
              f"in {time.monotonic() - started:.1f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
