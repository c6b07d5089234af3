"""``newsmon up``: the whole pipeline on this machine until Ctrl-C (or SIGTERM, or systemd's stop)."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import SecretStr

from newsmon.systemd_notify import notify
from shared.settings import get_settings


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


def up_command(
    replay: Annotated[Optional[list[Path]], typer.Option(help="Publish these files once the stack is ready.")] = None,
    tail: Annotated[bool, typer.Option(help="Print each alert as it fires.")] = True,
) -> None:
    """Start the whole pipeline locally (embedded broker and Redis unless configured) until Ctrl-C.

    A process that dies is started again, with a backoff, and the console says which, why and the
    last line of its log; ``newsmon status`` counts the restarts. Under systemd (``Type=notify``) it
    reports ready once every service is, and stops on SIGTERM within NEWSMON_SHUTDOWN_TIMEOUT_S and a
    few seconds for the broker and Redis.
    """
    import asyncio

    from newsmon.alert_console import watch_alerts
    from newsmon.commands.replay import publish_files
    from newsmon.embedded import EmbeddedError, local_api_token
    from newsmon.stack import Stack
    from shared.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.log_format, "WARNING")
    # The alert follower's connection errors while the supervisor restarts the broker are noise
    # beside the restart line that explains them.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    token_file = None
    if settings.api_token is None:
        token_file = settings.data_dir / "api-token"
        settings = settings.model_copy(update={"api_token": SecretStr(local_api_token(settings.data_dir))})
    stack = Stack(settings, report=_print_restart)
    for stop_signal in STOP_SIGNALS:  # a closed terminal stops it too, in order
        signal.signal(stop_signal, _stop_once)
    typer.echo("starting newsmon (the first consumer-group join can take a few seconds)...")
    try:
        stack.start()
        typer.echo("newsmon is up:\n" + stack.describe())
        if token_file is not None:
            typer.echo(f"  api       {stack.url('notifier', '/api/subscriptions')} and "
                       f"{stack.url('alerter', '/api/rules')}  (bearer token in {token_file})")
        notify("READY=1", f"STATUS=every service is ready; logs in {stack.log_dir}")
        if replay:
            count = asyncio.run(publish_files(replay, show_progress=False))
            typer.echo(f"replayed {count} articles")
        typer.echo("watching alerts (Ctrl-C stops everything)..." if tail else "running (Ctrl-C stops everything)...")
        asyncio.run(watch_alerts(stack, tail))
    except EmbeddedError as error:
        raise _fail(str(error)) from None
    except KeyboardInterrupt:
        typer.echo("\nstopping newsmon...")
    finally:
        notify("STOPPING=1", "STATUS=stopping the services, then the broker and Redis")
        stack.stop()
    typer.echo("stopped.")


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop_once(signum: int, frame: object) -> None:
    """The first stop signal interrupts what runs; later ones are ignored, so they cannot cut the stop
    short (it is bounded by itself, and ``kill -9`` still ends everything: see ``newsmon.stack_guard``)."""
    for stop_signal in STOP_SIGNALS:
        signal.signal(stop_signal, signal.SIG_IGN)
    raise KeyboardInterrupt


def _print_restart(line: str) -> None:
    typer.secho(line, fg=typer.colors.YELLOW, err=True)
    notify(f"STATUS={line}")
