"""``newsmon status`` and ``newsmon processes``: how the services are doing, and what ``newsmon up``
supervises (pids, restarts, how each process last ended)."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Annotated

import typer

from newsmon.stack_state import read_state, state_lines
from shared.settings import get_settings


def status_command(
    host: Annotated[str, typer.Option(help="Where the services run.")] = "127.0.0.1",
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of lines.")] = False,
) -> None:
    """Readiness, consumer lag and last activity per service, and restarts per process; exit 1 if one is not ready.

    The processes are those `newsmon up` supervises with this data dir (see `newsmon processes`).
    """
    from newsmon.status import as_json as statuses_json  # prometheus_client's parser: only this command needs it
    from newsmon.status import stack_status

    settings = get_settings()
    statuses = stack_status(settings, host)
    if as_json:
        typer.echo(statuses_json(statuses))
    else:
        typer.echo("\n".join(status.line() for status in statuses))
        typer.echo("\n".join(state_lines(read_state(settings.data_dir), settings.data_dir)))
    if not all(status.ready for status in statuses):
        raise typer.Exit(1)


def processes_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON array instead of lines.")] = False,
) -> None:
    """What `newsmon up` supervises: pid, uptime, restarts and last exit of each process.

    Exits 1 when no `newsmon up` runs with this data dir.
    """
    settings = get_settings()
    state = read_state(settings.data_dir)
    if state is None or not state.running():
        typer.echo("\n".join(state_lines(state, settings.data_dir)), err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps([asdict(process) | {"alive": process.alive()} for process in state.processes]))
    else:
        typer.echo("\n".join(state_lines(state, settings.data_dir)))
