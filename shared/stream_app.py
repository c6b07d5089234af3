"""The faust application every service runs, and the consume loop they share.

``create_app`` gives each service the same broker settings, HTTP endpoints (``/healthz``,
``/readyz``, ``/metrics``) and raw-bytes topics; ``Stage`` turns raw messages into validated
models, sends what cannot be parsed or processed to the service's dead-letter topic with the
reason, and retries transient Redis/Kafka failures so no message is dropped. Everything a stage
sends, dead letters included, is acknowledged by the broker before the input offset moves on.

A broker outage is a wait: faust's producer keeps unsent messages and retries them until its
``producer_request_timeout`` (20 minutes), so a send simply takes longer; a send that fails
anyway (that timeout, a refused request) is sent again by ``publish`` with capped backoff. An
output larger than ``NEWSMON_KAFKA_MAX_MESSAGE_BYTES`` is refused before it is sent, as a
``too_large`` rejection the stage dead-letters, and a dead letter is cut to fit that limit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

import faust
from pydantic import ValidationError

from shared import metrics, topics
from shared.dead_letters import build_dead_letter
from shared.failure_policy import TOO_LARGE, Backoff, Rejected, as_rejected, classify, describe_error, retry_transient
from shared.faust_metrics import serve_faust_metrics
from shared.kafka_transport import FetchWaitTransport
from shared.logs import log_event, logging_config
from shared.message_size import record_size
from shared.readiness import ReadinessCheck, broker_answers, run_checks
from shared.schemas import Message, describe_validation_error
from shared.settings import ServiceName, Settings

M = TypeVar("M", bound=Message)

logger = logging.getLogger(__name__)


def broker_urls(bootstrap: str) -> list[str]:
    """``host1:9092,host2:9092`` as the URL list faust expects."""
    return [f"kafka://{host.strip()}" for host in bootstrap.split(",") if host.strip()]


def create_app(service: ServiceName, settings: Settings, readiness: list[ReadinessCheck]) -> faust.App:
    """A faust app for one service, with health, readiness and Prometheus endpoints.

    ``readiness`` are extra checks (e.g. Redis ping) that ``/readyz`` runs besides its own two:
    partitions assigned (for a service that consumes) and a broker answering. faust keeps its
    working files under ``settings.data_dir``, not in the current directory. Consumers wait at most
    ``Settings.fetch_max_wait_s`` on an empty fetch (``kafka_transport``); producers send at once.
    """
    datadir = settings.data_dir / "faust" / service
    datadir.parent.mkdir(parents=True, exist_ok=True)  # faust makes only the last level
    app = faust.App(
        f"newsmon-{service}",
        broker=broker_urls(settings.bootstrap),
        store="memory://",
        datadir=datadir,
        autodiscover=False,
        web_port=settings.service_port(service),
        web_bind=settings.http_bind,
        web_host=settings.http_bind,
        topic_partitions=settings.topic_partitions,
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=settings.kafka_session_timeout_s,
        broker_rebalance_timeout=settings.kafka_rebalance_timeout_s,
        broker_heartbeat_interval=settings.kafka_heartbeat_interval_s,
        producer_acks=-1,
        producer_max_request_size=settings.kafka_max_message_bytes,
        # Every send waits for its acknowledgement before the input moves on, so lingering to fill
        # a batch would only add its time to each hop.
        producer_linger=0.0,
        logging_config=logging_config(settings.log_format, settings.log_level),
    )
    # Before anything declares a topic, which builds the transport.
    app.transport = FetchWaitTransport(app.conf.broker_consumer, app, settings.fetch_max_wait_s)

    @app.page("/healthz")
    async def healthz(web: Any, request: Any) -> Any:
        return web.json({"service": service, "status": "ok"})

    async def partitions_assigned() -> bool:
        return _consumes_nothing(app) or bool(app.consumer.assignment())

    async def broker_reachable() -> bool:
        # A service without agents (the fetcher) has no assignment to lose when Kafka goes away.
        return await broker_answers(settings.bootstrap)

    @app.page("/readyz")
    async def readyz(web: Any, request: Any) -> Any:
        report = await run_checks([partitions_assigned, broker_reachable, *readiness])
        return web.json({"service": service, "ready": report.ready, "checks": report.checks, "reasons": report.reasons},
                        status=200 if report.ready else 503)

    serve_faust_metrics(app, name_prefix="newsmon_faust")
    return app


def _consumes_nothing(app: faust.App) -> bool:
    return not app.agents


def raw_topic(app: faust.App, name: str, produced_by: ServiceName | None = None) -> faust.TopicT:
    """A topic of raw bytes: parsing is ours, so a bad message is dead-lettered, not fatal.

    ``produced_by`` makes the service's output counter exist at zero from the start, so a
    dashboard shows "0 per second" rather than "no data" for a quiet stage.
    """
    if produced_by is not None:
        metrics.MESSAGES_OUT.labels(produced_by, name)
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")


async def publish(topic: faust.TopicT, service: str, key: str, message: Message) -> None:
    """Send a message and wait for the broker's acknowledgement, however long the broker is away.

    Waiting means the source offset is committed only after the output is safely stored, so a
    crash in between redelivers the input instead of losing the output. A failed send is retried
    with capped backoff (see ``failure_policy``); a message over the size limit raises
    ``Rejected`` (kind ``too_large``) without being sent, for the stage to dead-letter.
    """
    name = topic.get_topic_name()
    key_bytes, value = key.encode(), message.model_dump_json().encode()
    limit = int(topic.app.conf.producer_max_request_size)
    if (size := record_size(key_bytes, value)) > limit:
        raise Rejected(TOO_LARGE, f"the {name} message would be {size} bytes, over the {limit}-byte limit "
                                  "(NEWSMON_KAFKA_MAX_MESSAGE_BYTES)")
    await retry_transient(lambda: _send_acknowledged(topic, key_bytes, value), "publish",
                          on_retry=lambda _: metrics.TRANSIENT_ERRORS.labels(service).inc(), topic=name, key=key)
    metrics.MESSAGES_OUT.labels(service, name).inc()
    metrics.LAST_ACTIVITY.labels(service).set_to_current_time()


async def _send_acknowledged(topic: faust.TopicT, key: bytes | None, value: bytes) -> None:
    """Send, then wait until the broker has stored the message (``producer_acks=-1``: all replicas)."""
    pending = await topic.send(key=key, value=value)
    await pending


def run_worker(app: faust.App, settings: Settings) -> None:
    """Run one service until SIGINT/SIGTERM, logging through the structured handler; once told to stop,
    it exits within ``NEWSMON_SHUTDOWN_TIMEOUT_S`` whatever is down (``shared.bounded_shutdown``)."""
    from shared.bounded_shutdown import run_bounded

    run_bounded(app, settings.shutdown_timeout_s, loglevel=settings.log_level, redirect_stdouts=False, quiet=True)


class Stage(Generic[M]):
    """Parsing, dead-lettering and retrying around one service's pure logic."""

    def __init__(self, app: faust.App, service: ServiceName, source: str, model: type[M],
                 dead_letter_kinds: tuple[str, ...] = ()) -> None:
        """``dead_letter_kinds``: the service's own reasons to dead-letter, besides the common ones."""
        self.service = service
        self.source = source
        self.model = model
        self.dead_letters = raw_topic(app, topics.dead_letter_topic(service))
        self.max_message_bytes = int(app.conf.producer_max_request_size)
        # At 0 from the start: Prometheus's increase() cannot see the first error of a series born at 1.
        metrics.TRANSIENT_ERRORS.labels(service)
        for kind in ("empty", "invalid_json", "schema", "processing_error", TOO_LARGE, *dead_letter_kinds):
            metrics.DEAD_LETTERS.labels(service, kind)

    async def parse(self, key: bytes | None, value: bytes | None) -> M | None:
        """The message as ``model``, or None after dead-lettering it with the reason."""
        metrics.MESSAGES_IN.labels(self.service, self.source).inc()
        metrics.LAST_ACTIVITY.labels(self.service).set_to_current_time()
        if not value:
            await self.dead_letter(key, value, "empty", "empty message")
            return None
        try:
            return self.model.model_validate_json(value)
        except ValidationError as error:
            kind = "invalid_json" if _is_json_error(error) else "schema"
            await self.dead_letter(key, value, kind, describe_validation_error(error))
            return None

    async def dead_letter(self, key: bytes | None, value: bytes | None, kind: str, reason: str) -> None:
        """Keep a message the service cannot handle, with a readable reason; this never raises.

        Returns once the broker has stored the dead letter, like ``publish``: the caller's offset
        moves on after this, so a crash must redeliver the message rather than lose it. The letter
        is cut to fit the broker's size limit (``shared.dead_letters``), and a failed write is
        retried with capped backoff until it is stored, so the stage waits instead of losing it.
        """
        record = build_dead_letter(self.service, self.source, f"{kind}: {reason}", key, value,
                                   self.max_message_bytes)
        backoff = Backoff()
        while True:
            try:
                await _send_acknowledged(self.dead_letters, record.key, record.value)
                break
            except Exception as error:  # whatever it is, dropping the letter would lose the message
                metrics.TRANSIENT_ERRORS.labels(self.service).inc()
                delay = backoff.next_delay()
                log_event(logger, "dead_letter.retrying", logging.WARNING if classify(error) == "transient"
                          else logging.ERROR, service=self.service, key=record.letter.key,
                          error=describe_error(error), delay_s=round(delay, 2))
                await asyncio.sleep(delay)
        metrics.DEAD_LETTERS.labels(self.service, kind).inc()
        log_event(logger, "message.dead_lettered", logging.WARNING, service=self.service, key=record.letter.key,
                  reason=record.letter.reason, payload_bytes=record.letter.payload_bytes,
                  payload_truncated=record.letter.payload_truncated)

    async def run(self, key: bytes | None, value: bytes | None, handle: Callable[[M], Awaitable[object]]) -> None:
        """Parse one message and handle it; see ``handle_parsed`` for the failure policy."""
        item = await self.parse(key, value)
        if item is not None:
            await self.handle_parsed(key, value, item, handle)

    async def handle_parsed(
        self, key: bytes | None, value: bytes | None, item: M, handle: Callable[[M], Awaitable[object]]
    ) -> None:
        """Handle a parsed message under ``failure_policy``: retry transient failures until they pass,
        dead-letter rejected messages with their kind and bugs as ``processing_error``.

        The offset is not committed while a transient failure is retried, so an outage loses nothing.
        """
        backoff = Backoff()
        while True:
            try:
                with metrics.PROCESSING_SECONDS.labels(self.service).time():
                    await handle(item)
                return
            except Exception as error:
                kind = classify(error)
                if kind == "transient":
                    metrics.TRANSIENT_ERRORS.labels(self.service).inc()
                    delay = backoff.next_delay()
                    log_event(logger, "message.retrying", logging.WARNING, service=self.service,
                              key=key.decode("utf-8", "replace") if key else None, error=describe_error(error),
                              delay_s=round(delay, 2))
                    await asyncio.sleep(delay)
                    continue
                rejected = as_rejected(error)
                if rejected is not None:
                    await self.dead_letter(key, value, rejected.kind, rejected.reason)
                else:
                    logger.exception("processing failed")
                    await self.dead_letter(key, value, "processing_error", f"{type(error).__name__}: {error}")
                return


def _is_json_error(error: ValidationError) -> bool:
    return any(item["type"] == "json_invalid" for item in error.errors())
