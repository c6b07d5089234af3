"""``newsmon silences list|add|end``: the notifier's silence API from the shell.

The commands talk to a running notifier over HTTP (``NEWSMON_NOTIFIER_PORT`` on ``--host``, or
``--api``), with ``NEWSMON_API_TOKEN``, or the token ``newsmon up`` keeps in the data dir. They
import httpx only when they run (httpx loads rich and pygments with its own command line), so they
start at once.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    import httpx

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNIT_S = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}

HostOption = Annotated[str, typer.Option(help="Where the notifier runs (its port is NEWSMON_NOTIFIER_PORT).")]
ApiOption = Annotated[Optional[str], typer.Option("--api", help="The notifier's base URL, instead of --host.")]


def parse_duration(value: str) -> float:
    """Seconds in ``90``, ``90s``, ``30m``, ``2h`` or ``1d``; ``typer.BadParameter`` otherwise."""
    match = _DURATION.match(value.strip().lower())
    if not match:
        raise typer.BadParameter(f"{value!r}: write a duration like 90s, 30m, 2h or 1d")
    return float(match.group(1)) * _UNIT_S[match.group(2)]


def _token(settings: Settings) -> str | None:
    if settings.api_token is not None:
        return settings.api_token.get_secret_value()
    token_file = settings.data_dir / "api-token"  # made by `newsmon up` when NEWSMON_API_TOKEN is unset
    if not token_file.exists():
        return None
    return token_file.read_text().strip() or None


def _call(method: str, path: str, host: str, api: str | None, body: dict[str, Any] | None = None) -> httpx.Response:
    """One request to the silence API; exits 2 with a readable line when the notifier cannot be reached."""
    import httpx

    settings = get_settings()
    base = (api or f"http://{host}:{settings.notifier_port}").rstrip("/")
    token = _token(settings)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        return httpx.request(method, base + path, json=body, headers=headers, timeout=15)
    except httpx.HTTPError as error:
        typer.secho(f"error: cannot reach the notifier at {base}: {error}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None


def _answer(response: httpx.Response, expected: int) -> Any:
    """The JSON answer of a request that went as expected; otherwise print the API's error and exit 1."""
    if response.status_code != expected:
        try:
            message = response.json().get("error", response.text)
        except ValueError:
            message = response.text
        typer.secho(f"error: HTTP {response.status_code}: {message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    return response.json() if response.content else None


def _line(silence: dict[str, Any]) -> str:
    matchers = " ".join(f"{name}={value}" for name, value in silence["matchers"].items() if value is not None)
    comment = f"  # {silence['comment']}" if silence.get("comment") else ""
    return f"{silence['id']}  until {silence['ends_at']}  {matchers}{comment}"


def silences_list_command(
    host: HostOption = "127.0.0.1", api: ApiOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per silence.")] = False,
) -> None:
    """Print the silences in force, ending soonest first."""
    silences = _answer(_call("GET", "/api/silences", host, api), 200)["silences"]
    for silence in silences:
        typer.echo(json.dumps(silence) if as_json else _line(silence))
    if not as_json:
        typer.echo(f"{len(silences)} active silences")


def silences_add_command(
    rule: Annotated[Optional[str], typer.Option(help="Hold back alerts of this rule id.")] = None,
    story: Annotated[Optional[str], typer.Option(help="Hold back alerts of this story id.")] = None,
    subscription: Annotated[Optional[str], typer.Option(help="Hold back alerts to this subscription id.")] = None,
    duration: Annotated[Optional[str], typer.Option(help="How long: 90s, 30m, 2h, 1d.")] = None,
    until: Annotated[Optional[datetime], typer.Option(
        help="When it ends, with a time zone (2026-12-08T08:00:00+01:00); instead of --duration.",
        formats=["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"])] = None,
    comment: Annotated[str, typer.Option(help="Why, for whoever reads the list.")] = "",
    host: HostOption = "127.0.0.1", api: ApiOption = None,
) -> None:
    """Silence the alerts that match every option given (at least one of --rule, --story, --subscription)."""
    matchers = {name: value for name, value in (("rule", rule), ("story_id", story), ("subscription", subscription))
                if value is not None}
    body: dict[str, Any] = {"matchers": matchers, "comment": comment}
    if duration is not None:
        body["duration_s"] = parse_duration(duration)
    if until is not None:
        body["ends_at"] = until.isoformat()
    silence = _answer(_call("POST", "/api/silences", host, api, body), 201)
    typer.echo(f"silenced: {_line(silence)}")


def silences_end_command(
    silence_id: Annotated[str, typer.Argument(help="The id `silences add` or `silences list` printed.")],
    host: HostOption = "127.0.0.1", api: ApiOption = None,
) -> None:
    """End a silence now; alerts it held back stay undelivered."""
    _answer(_call("DELETE", f"/api/silences/{silence_id}", host, api), 204)
    typer.echo(f"ended {silence_id}")
