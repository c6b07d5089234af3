"""``newsmon stop``: stop the ``newsmon up`` of this data dir from another terminal (or script), and what an
earlier one left running; returns once every process of that stack has ended."""

from __future__ import annotations

import os
import signal
import time

import typer

from newsmon.stack_guard import stop_what_is_left
from newsmon.stack_state import read_state
from shared.settings import get_settings

# Beyond the services' own deadline: the broker and Redis after them, and the supervisor's exit.
EXTRA_WAIT_S = 20.0


def stop_command() -> None:
    """Stop the `newsmon up` of this data dir (NEWSMON_DATA_DIR) and wait until all its processes have ended.

    Exits 1 when it did not end in time.
    """
    settings = get_settings()
    data_dir = settings.data_dir.resolve()
    state = read_state(settings.data_dir)
    if state is None:
        typer.echo(f"no newsmon up has run with data dir {data_dir}")
        return
    if state.running():
        typer.echo(f"stopping newsmon up (pid {state.supervisor_pid}) of data dir {data_dir}...")
        os.kill(state.supervisor_pid, signal.SIGTERM)
        deadline = time.monotonic() + settings.shutdown_timeout_s + EXTRA_WAIT_S
        while state.running() and time.monotonic() < deadline:
            time.sleep(0.1)
        if state.running():
            typer.secho(f"error: newsmon up (pid {state.supervisor_pid}) has not ended; `kill -9 "
                        f"{state.supervisor_pid}` ends it, and its processes with it", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
    stopped = stop_what_is_left(settings.data_dir, settings.shutdown_timeout_s)
    if stopped:
        typer.echo(f"stopped what was left running: {', '.join(stopped)}")
    typer.echo("stopped.")
