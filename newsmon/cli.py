"""The ``newsmon`` command: run the stack, replay articles, inspect contracts, test rules offline.

Starting the CLI imports only typer, the settings and what the light commands (``status``,
``processes``, ``alerts``, ``stop``, ``--help``) need, so they answer at once; a command that needs
the pipeline's code imports it in its body, or is registered as a ``Deferred`` (see
``newsmon.deferred_commands``). ``tests/unit/test_cli_imports.py`` keeps it that way.
"""

from __future__ import annotations

import importlib
import json
import sys
import warnings
from pathlib import Path
from typing import Annotated, Optional

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from newsmon.commands.replay import publish_files
from newsmon.commands.silences import silences_add_command, silences_end_command, silences_list_command
from newsmon.commands.status import processes_command, status_command
from newsmon.commands.stop import stop_command
from newsmon.commands.up import up_command
from newsmon.deferred_commands import Deferred, command_group
from shared import topics
from shared.renamed_settings import RenamedSettingWarning
from shared.settings import SERVICE_NAMES, describe_settings_error, get_settings

app = command_group("newsmon: a self-hosted streaming news monitor.", {
    "dedupe": Deferred("newsmon.commands.dedupe:dedupe_command",
                       "Story id, duplicate_of and similarity of each article, through the same code as the "
                       "dedupe service."),
    "ner": Deferred("newsmon.commands.ner:ner_command",
                    "Print the enriched message of each article: sentences, canonical entities, language, timings."),
})
rules_app = command_group("Work with watch rules.", {
    "eval": Deferred("newsmon.commands.rules_eval:rules_eval_command",
                     "Precision, recall and misses of each rule on labelled articles, through the same NER and "
                     "matching as the alerter."),
})
app.add_typer(rules_app, name="rules")
deliveries_app = command_group("Webhook deliveries that were given up on.", {
    "list": Deferred("newsmon.commands.deliveries:deliveries_list_command",
                     "Print the webhook deliveries that were given up on (or held back by a silence), oldest first."),
    "replay": Deferred("newsmon.commands.deliveries:deliveries_replay_command",
                       "Queue every failed webhook delivery again; the running notifier sends them."),
})
app.add_typer(deliveries_app, name="deliveries")
dead_letters_app = command_group("Messages a stage could not handle, and replaying them.", {
    "list": Deferred("newsmon.commands.dead_letters:dead_letters_list_command",
                     "Show the dead letters, oldest first: service, reason, key, time, size, and whether it can be "
                     "replayed."),
    "replay": Deferred("newsmon.commands.dead_letters:dead_letters_replay_command",
                       "Send the originals of the selected dead letters back to their stage, each once; say why "
                       "for the others."),
})
app.add_typer(dead_letters_app, name="dead-letters")
# Light commands: their modules import nothing heavy at the top (add a new one to LIGHT_COMMANDS in
# tests/unit/test_cli_imports.py).
app.command("up")(up_command)
app.command("stop")(stop_command)
app.command("status")(status_command)
app.command("processes")(processes_command)
silences_app = command_group("Silences: hold back matching alerts for a while.")
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
def alerts(follow: Annotated[bool, typer.Option(help="Keep watching for new alerts.")] = False) -> None:
    """Print the alerts on the ``alerts`` topic of a running stack."""
    import asyncio
    import logging

    from aiokafka.errors import KafkaError

    from newsmon.alert_console import print_alerts

    settings = get_settings()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # the one line below says it
    try:
        asyncio.run(print_alerts(settings, follow))
    except KeyboardInterrupt:
        pass
    except KafkaError as error:
        raise fail(f"cannot read the alerts from {settings.bootstrap}: {error}") from None


@app.command()
def service(name: Annotated[str, typer.Argument(help="fetcher, dedupe, ner, alerter or notifier")]) -> None:
    """Run one service in the foreground (what ``newsmon up`` and the containers start)."""
    if name not in SERVICE_NAMES:
        raise fail(f"unknown service {name!r}; choose one of {', '.join(SERVICE_NAMES)}")
    import asyncio

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
    import asyncio

    from newsmon.fetch_once import DRY_RUN_FIELDS, publish_new, show_all, sources_for
    from services.fetcher.errors import SourceError
    from shared.logs import configure_logging
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
    import asyncio

    from services.fetcher.errors import SourceError

    skipped: list[SourceError] = []

    def skip(error: SourceError) -> None:
        skipped.append(error)
        typer.secho(f"skipped {error}", fg=typer.colors.YELLOW, err=True)

    try:
        count = asyncio.run(publish_files(paths, show_progress=True, on_skip=skip))
    except SourceError as error:
        raise fail(str(error)) from None
    typer.echo(f"published {count} articles to {topics.ARTICLES_RAW}")
    if skipped:
        typer.secho(f"skipped {len(skipped)} unreadable file(s); see above", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)


@app.command()
def schema(name: Annotated[str, typer.Argument(help="Topic name, e.g. articles.enriched or alerts.")]) -> None:
    """Print the JSON Schema of a topic's messages."""
    from shared.schemas import PUBLIC_SCHEMAS

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
