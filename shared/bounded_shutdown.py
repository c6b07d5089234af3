"""A service stops within ``NEWSMON_SHUTDOWN_TIMEOUT_S`` of being told to, whatever is down.

faust's own stop is the clean path: the agents stop, the consumer commits what was processed, the
producer flushes. Each of those waits for the broker, and with the broker gone or paused a wait
can last minutes (a worker was seen still stopping after 25 s), past the 10-30 s that compose,
Kubernetes and systemd give before SIGKILL. So the stop is also given a deadline: a watchdog
thread armed when the stop begins ends the process at the deadline, after logging what was
abandoned (the messages in progress, and those done whose offsets are not committed yet).
Nothing is lost by that: their offsets were not committed, so the broker delivers them again to
the next consumer, and every effect of a stage is idempotent.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import faust
from faust.worker import Worker

from shared.logs import log_event

# The process's exit status when the deadline ended it: not a clean stop, though nothing is lost.
EXIT_ABANDONED = 1
IN_FLIGHT_SHOWN = 20

logger = logging.getLogger(__name__)


class ShutdownDeadline:
    """Ends the process ``timeout_s`` after ``arm`` unless ``finished`` came first.

    ``in_flight`` says what would be abandoned (it runs on the watchdog thread, so it must only read);
    ``exit`` is ``os._exit``, which ends the process even while the event loop is stuck in a wait.
    """

    def __init__(self, service: str, timeout_s: float, in_flight: Callable[[], list[str]],
                 exit: Callable[[int], object] = os._exit) -> None:
        self.service = service
        self.timeout_s = timeout_s
        self.in_flight = in_flight
        self._exit = exit
        self._timer: threading.Timer | None = None
        self._armed_at = 0.0

    def arm(self) -> None:
        """The stop has begun: start counting (a second call changes nothing)."""
        if self._timer is not None:
            return
        self._armed_at = time.monotonic()
        self._timer = threading.Timer(self.timeout_s, self._expire)
        self._timer.daemon = True
        self._timer.start()
        log_event(logger, "service.stopping", logging.INFO, service=self.service, deadline_s=self.timeout_s)

    def finished(self) -> None:
        """The stop completed by itself: the watchdog has nothing to do."""
        if self._timer is None:
            return
        self._timer.cancel()
        log_event(logger, "service.stopped", logging.INFO, service=self.service,
                  elapsed_s=round(time.monotonic() - self._armed_at, 2))

    def _expire(self) -> None:
        try:
            abandoned = self.in_flight()
        except Exception as error:  # a report that fails must not keep the process alive
            abandoned = [f"(unknown: {type(error).__name__}: {error})"]
        log_event(logger, "service.shutdown_abandoned", logging.WARNING, service=self.service,
                  deadline_s=self.timeout_s, abandoned_messages=len(abandoned),
                  abandoned=abandoned[:IN_FLIGHT_SHOWN],
                  detail="not committed, so delivered again to the next consumer; effects are idempotent"
                  if abandoned else "no message in progress: the stop was waiting on the broker (an offset commit "
                  "or the producer's flush); an offset it could not commit is delivered again")
        for handler in logging.getLogger().handlers:
            handler.flush()
        self._exit(EXIT_ABANDONED)


def uncommitted(app: faust.App) -> list[str]:
    """What a stop cut now leaves for redelivery: each message the app's consumer took and has not
    acknowledged (``topic[partition]@offset in progress``), and per partition the offsets it
    acknowledged but has not committed yet (``topic[partition]@first-last done, not committed``).

    faust keeps these in its consumer's ``_unacked_messages`` and ``_acked`` and offers no public way
    to read them; without those attributes (another faust release) the list is empty and the log
    says so by its count. Read from the watchdog thread while the event loop may change them, so
    each copy is retried.
    """
    consumer = app.consumer
    in_progress: list[Any] = _copy(lambda: list(getattr(consumer, "_unacked_messages", ())))
    acked: list[tuple[Any, list[int]]] = _copy(
        lambda: [(tp, list(offsets)) for tp, offsets in dict(getattr(consumer, "_acked", {})).items() if offsets])
    lines = sorted(f"{message.topic}[{message.partition}]@{message.offset} in progress" for message in in_progress)
    lines += sorted(f"{tp.topic}[{tp.partition}]@{min(offsets)}-{max(offsets)} done, not committed"
                    for tp, offsets in acked)
    return lines


T = TypeVar("T")


def _copy(read: Callable[[], list[T]]) -> list[T]:
    for _ in range(3):  # the event loop may change what is read while this thread copies it
        try:
            return read()
        except RuntimeError:
            continue
    return []


def run_bounded(app: faust.App, timeout_s: float, **options: Any) -> None:
    """Run a faust ``Worker`` for ``app`` until it is stopped; once its stop begins (SIGTERM, Ctrl-C), the
    process ends within ``timeout_s``. ``options`` are the ``Worker``'s."""
    deadline = ShutdownDeadline(str(app.conf.id), timeout_s, lambda: uncommitted(app))

    class BoundedWorker(Worker):
        def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
            """No terminal spinner: at WARNING and above faust's would lower the root logger to DEBUG for
            good, and every library's debug call would then build a record that no handler prints (a
            tenth of ner's time beside spaCy on short articles)."""

        async def on_stop(self) -> None:
            deadline.arm()  # mode's hook, called first when the worker's stop begins
            await super().on_stop()

    try:
        BoundedWorker(app, **options).execute_from_commandline()
    finally:
        deadline.finished()
