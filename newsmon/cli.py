"""The ``newsmon`` command: run the stack, replay articles, inspect contracts, test rules offline."""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import signal
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from pydantic import SecretStr, ValidationError
from pydantic_settings import SettingsError

from newsmon.alert_console import print_alerts, watch_alerts
from newsmon.commands.dead_letters import dead_letters_list_command, dead_letters_replay_command
from newsmon.commands.dedupe import dedupe_command
from newsmon.commands.deliveries import deliveries_list_command, deliveries_replay_command
from newsmon.commands.ner import ner_command
from newsmon.commands.rules_eval import rules_eval_command
from newsmon.commands.silences import silences_add_command, silences_end_command, silences_list_command
from newsmon.commands.status import processes_command, status_command
from newsmon.embedded import EmbeddedError, local_api_token
from newsmon.stack import Stack
from shared import topics
from shared.logs import configure_logging
from shared.schemas import PUBLIC_SCHEMAS
from shared.settings import SERVICE_NAMES, RenamedSettingWarning, describe_settings_error, get_settings

if TYPE_CHECKING:
    from services.fetcher.errors import SourceError

app = typer.Typer(help="newsmon: a self-hosted streaming news monitor.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
rules_app = typer.Typer(help="Work with watch rules.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
deliveries_app = typer.Typer(help="Webhook deliveries that were given up on.", no_args_is_help=True)
app.add_typer(deliveries_app, name="deliveries")
app.command("dedupe")(dedupe_command)
app.command("ner")(ner_command)
app.command("status")(status_command)
app.command("processes")(processes_command)
deliveries_app.command("replay")(deliveries_replay_command)
deliveries_app.command("list")(deliveries_list_command)
dead_letters_app = typer.Typer(help="Messages a stage could not handle, and replaying them.", no_args_is_help=True)
app.add_typer(dead_letters_app, name="dead-letters")
dead_letters_app.command("list")(dead_letters_list_command)
dead_letters_app.command("replay")(dead_letters_replay_command)
rules_app.command("eval")(rules_eval_command)
silences_app = typer.Typer(help="Silences: hold back matching alerts for a while.", no_args_is_help=True)
app.add_typer(silences_app, name="silences")
silences_app.command("list")(silences_list_command)
silences_app.command("add")(silences_add_command)
silences_app.command("end")(silences_end_command)

PathsArgument = Annotated[list[Path], typer.Argument(help="Article files or folders (.txt, .html, .jsonl).")]


def fail(message: str) -> typer.Exit:
    """Print an error for a person and return the exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(2)


@app.callback()
def check_settings() -> None:
    """Read the settings before any command runs, so a bad NEWSMON_* value is one line naming it, and a
    variable under its old name one warning line."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RenamedSettingWarning)
        try:
            get_settings()
        except (SettingsError, ValidationError) as error:
            raise fail(describe_settings_error(error)) from None
    for warning in caught:
        typer.secho(f"warning: {warning.message}", fg=typer.colors.YELLOW, err=True)


@app.command()
def up(
    replay: Annotated[Optional[list[Path]], typer.Option(help="Publish these files once the stack is ready.")] = None,
    tail: Annotated[bool, typer.Option(help="Print each alert as it fires.")] = True,
) -> None:
    """Start the whole pipeline locally (embedded broker and Redis unless configured) until Ctrl-C.

    A process that dies is started again, with a backoff, and the console says which, why and the
    last line of its log; ``newsmon status`` counts the restarts.
    """
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
    for stop_signal in (signal.SIGTERM, signal.SIGHUP):  # a closed terminal stops it too, in order
        signal.signal(stop_signal, _raise_keyboard_interrupt)
    typer.echo("starting newsmon (the first consumer-group join can take a few seconds)...")
    try:
        stack.start()
        typer.echo("newsmon is up:\n" + stack.describe())
        if token_file is not None:
            typer.echo(f"  api       {stack.url('notifier', '/api/subscriptions')} and "
                       f"{stack.url('alerter', '/api/rules')}  (bearer token in {token_file})")
        if replay:
            count = asyncio.run(_replay(replay, show_progress=False))
            typer.echo(f"replayed {count} articles")
        typer.echo("watching alerts (Ctrl-C stops everything)..." if tail else "running (Ctrl-C stops everything)...")
        asyncio.run(watch_alerts(stack, tail))
    except EmbeddedError as error:
        raise fail(str(error)) from None
    except KeyboardInterrupt:
        typer.echo("\nstopping newsmon...")
    finally:
        stack.stop()
    typer.echo("stopped.")


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _print_restart(line: str) -> None:
    typer.secho(line, fg=typer.colors.YELLOW, err=True)


@app.command()
def alerts(follow: Annotated[bool, typer.Option(help="Keep watching for new alerts.")] = False) -> None:
    """Print the alerts on the ``alerts`` topic of a running stack."""
    try:
        asyncio.run(print_alerts(get_settings(), follow))
    except KeyboardInterrupt:
        pass


@app.command()
def service(name: Annotated[str, typer.Argument(help="fetcher, dedupe, ner, alerter or notifier")]) -> None:
    """Run one service in the foreground (what ``newsmon up`` and the containers start)."""
    if name not in SERVICE_NAMES:
        raise fail(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")
    from services.alerter.rule_engine.aliases import AliasFileError
    from services.alerter.rule_engine.events.sentence_parse import ParserNotInstalled
    from services.alerter.rule_engine.rules import RuleFileError
    from services.fetcher.errors import SourceError
    from services.ner.pipeline import ModelNotInstalled, PatternFileError
    from services.notifier.bootstrap import NotifierConfigError
    from shared.kafka_clients import ensure_topics
    from shared.stream_app import run_worker

    settings = get_settings()
    # Creating the topics here (idempotent) gives them the configured partition count on any
    # broker, instead of whatever the broker's auto-creation would choose.
    asyncio.run(ensure_topics(settings))
    module = importlib.import_module(f"services.{name}.app")
    try:
        service_app = module.create_service(settings)
    except (RuleFileError, AliasFileError, SourceError, ModelNotInstalled, PatternFileError,
            ParserNotInstalled, NotifierConfigError) as error:
        raise fail(str(error)) from None
    sys.argv = [sys.argv[0]]  # the faust worker parses argv; ours are not its options
    run_worker(service_app, settings)


@app.command()
def fetch(
    once: Annotated[bool, typer.Option("--once", help="Poll each source one time, then exit.")] = False,
    feed: Annotated[Optional[list[str]], typer.Option("--feed", help="Poll this feed instead of the sources.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print, do not publish; no broker or Redis.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --dry-run: one JSON object per article.")] = False,
) -> None:
    """One fetch cycle over the configured sources or the given feeds.

    A source that cannot be read is logged with the reason and the others go on; the exit status
    is then 1.
    """
    from newsmon.fetch_once import DRY_RUN_FIELDS, publish_new, show_all, sources_for
    from services.fetcher.errors import SourceError
    from shared.schemas import RawArticle

    if not once:
        raise fail("continuous polling is the fetcher service (`newsmon up`); use --once for one cycle")
    settings = get_settings()
    configure_logging(settings.log_format, "WARNING")
    try:
        sources = sources_for(settings, feed or [])
    except SourceError as error:
        raise fail(str(error)) from None

    def show(article: RawArticle) -> None:
        if as_json:
            typer.echo(article.model_dump_json(include=set(DRY_RUN_FIELDS)))
        else:
            typer.echo(f"{article.published_at or '-'}  {article.title}\n"
                       f"    {article.url}  ({len(article.text)} chars)")

    if dry_run:
        outcome = asyncio.run(show_all(settings, sources, show))
    else:
        outcome = asyncio.run(publish_new(settings, sources))
        typer.echo(f"published {outcome.articles} new articles to {topics.ARTICLES_RAW}")
    if outcome.failed_sources:
        typer.secho(f"{len(outcome.failed_sources)} of {len(sources)} sources failed (reasons logged above): "
                    + ", ".join(outcome.failed_sources), fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command()
def replay(paths: PathsArgument) -> None:
    """Publish article files to ``articles.raw`` (backfill), with progress.

    A file that cannot be read is skipped with its name and the reason, and the other files are
    still published; the exit status is then 1.
    """
    from services.fetcher.errors import SourceError

    skipped: list[SourceError] = []

    def skip(error: SourceError) -> None:
        skipped.append(error)
        typer.secho(f"skipped {error}", fg=typer.colors.YELLOW, err=True)

    try:
        count = asyncio.run(_replay(paths, show_progress=True, on_skip=skip))
    except SourceError as error:
        raise fail(str(error)) from None
    typer.echo(f"published {count} articles to {topics.ARTICLES_RAW}")
    if skipped:
        typer.secho(f"skipped {len(skipped)} unreadable file(s); see above", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


async def _replay(
    paths: list[Path], show_progress: bool, on_skip: Optional[Callable[[SourceError], None]] = None
) -> int:
    """Publish the articles of ``paths``; a bad file raises, or with ``on_skip`` is reported there and skipped."""
    from services.fetcher.errors import SourceError
    from services.fetcher.files import iter_article_files, read_articles
    from shared.kafka_clients import producer

    files = list(iter_article_files(paths))
    client = producer(get_settings())
    await client.start()
    count = 0
    try:
        with typer.progressbar(files, label="replaying", hidden=not show_progress) as progress:
            for path in progress:
                try:
                    articles = read_articles(path)
                except SourceError as error:
                    if on_skip is None:
                        raise
                    on_skip(error)
                    continue
                for article in articles:
                    await client.send_and_wait(
                        topics.ARTICLES_RAW, article.model_dump_json().encode(), key=article.article_id.encode()
                    )
                    count += 1
    finally:
        await client.stop()
    return count


@app.command()
def schema(name: Annotated[str, typer.Argument(help="Topic name, e.g. articles.enriched or alerts.")]) -> None:
    """Print the JSON Schema of a topic's messages."""
    model = PUBLIC_SCHEMAS.get(name)
    if model is None:
        raise fail(f"no schema for {name!r}; known: {', '.join(PUBLIC_SCHEMAS)}")
    typer.echo(json.dumps(model.model_json_schema(mode="validation"), indent=2))


@rules_app.command("test")
def rules_test(
    files: Annotated[Optional[list[Path]], typer.Argument(help="Article files or folders.")] = None,
    rules: Annotated[Optional[Path], typer.Option("--rules", help="Rule file (default: the configured one).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per match.")] = False,
    from_topic: Annotated[Optional[str], typer.Option(help="Backtest on a topic, e.g. articles.enriched.")] = None,
    last: Annotated[int, typer.Option(help="With --from-topic: messages per partition.")] = 100,
    api_rules: Annotated[bool, typer.Option(
        "--api-rules", help="Also the rules added through the API (read from Redis), as the alerter runs them.",
    )] = False,
) -> None:
    """Evaluate rules offline on files (through the same NER and rule code as the alerter) or on a topic."""
    from redis.exceptions import RedisError

    from newsmon.commands.deliveries import redis_unreachable
    from newsmon.commands.rules_backtest import backtest_from_topic, hit_lines
    from newsmon.offline import enrich_files, fired_rules, match_lines, rules_to_test
    from services.alerter.rule_engine.aliases import AliasFileError
    from services.alerter.rule_engine.rules import RuleFileError
    from services.dedupe.cleanup import EmptyArticle
    from services.fetcher.errors import SourceError
    from shared.kafka_clients import TopicReadError

    settings = get_settings()
    rules_path = rules or settings.rules_path
    if bool(files) == bool(from_topic):
        raise fail("give article FILES or --from-topic TOPIC (one of the two)")
    try:
        compiled = rules_to_test(settings, rules_path, api_rules)
    except (RuleFileError, AliasFileError) as error:
        raise fail(str(error)) from None
    except (RedisError, OSError) as error:
        raise redis_unreachable(settings, error) from None
    try:
        if from_topic:
            def skipped(reason: str) -> None:
                typer.echo(f"skipped {reason}", err=True)

            for hit in backtest_from_topic(settings, from_topic, last, compiled, on_skip=skipped):
                for line in hit_lines(hit, as_json):
                    typer.echo(line)
            return
        results = list(fired_rules(enrich_files(files or [], settings), compiled))
    except (SourceError, TopicReadError, EmptyArticle) as error:
        raise fail(str(error)) from None
    for path, match in results:
        for line in match_lines("file", str(path), match, as_json):
            typer.echo(line)


def main() -> None:
    """Console-script entry point."""
    app()
