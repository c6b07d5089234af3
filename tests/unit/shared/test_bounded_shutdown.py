"""A service told to stop exits within its deadline even when the broker never answers, and says what it
left for redelivery; one that stops in time is left alone."""

from __future__ import annotations

import logging
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from shared.bounded_shutdown import EXIT_ABANDONED, ShutdownDeadline, uncommitted
from tests.conftest import REPO
from tests.waiting import wait_until


def test_the_deadline_ends_the_process_and_logs_what_was_abandoned(caplog: pytest.LogCaptureFixture) -> None:
    exited = threading.Event()
    codes: list[int] = []

    def record_exit(code: int) -> None:
        codes.append(code)
        exited.set()

    deadline = ShutdownDeadline("newsmon-dedupe", 0.05, lambda: ["articles.raw[1]@7", "articles.raw[2]@3"],
                                exit=record_exit)
    with caplog.at_level(logging.INFO, logger="shared.bounded_shutdown"):
        deadline.arm()
        deadline.arm()  # a second stop signal does not restart the count
        assert exited.wait(10)
    assert codes == [EXIT_ABANDONED]
    [abandoned] = [record for record in caplog.records if record.getMessage() == "service.shutdown_abandoned"]
    fields = abandoned.__dict__["fields"]
    assert fields["service"] == "newsmon-dedupe" and fields["abandoned_messages"] == 2
    assert fields["abandoned"] == ["articles.raw[1]@7", "articles.raw[2]@3"]


def test_a_stop_that_completes_in_time_is_not_cut_short(caplog: pytest.LogCaptureFixture) -> None:
    codes: list[int] = []
    deadline = ShutdownDeadline("newsmon-ner", 0.2, lambda: [], exit=codes.append)
    with caplog.at_level(logging.INFO, logger="shared.bounded_shutdown"):
        deadline.arm()
        deadline.finished()
        time.sleep(0.4)  # past the deadline: the cancelled watchdog must not fire
    assert codes == []
    assert "service.stopped" in [record.getMessage() for record in caplog.records]


TP = namedtuple("TP", "topic partition")
Message = namedtuple("Message", "topic partition offset")


def test_what_is_left_for_redelivery_names_messages_in_progress_and_offsets_not_committed() -> None:
    consumer = SimpleNamespace(  # what faust's consumer holds: messages, and acked offsets by (topic, partition)
        _unacked_messages={Message("articles.unique", 1, 41)},
        _acked={TP("articles.unique", 2): [7, 5, 6], TP("articles.unique", 3): []},
    )
    app: Any = SimpleNamespace(consumer=consumer)
    assert uncommitted(app) == ["articles.unique[1]@41 in progress", "articles.unique[2]@5-7 done, not committed"]
    assert uncommitted(SimpleNamespace(consumer=object())) == [], "another faust release: an empty list, no error"


class SilentBroker:
    """A TCP server that accepts connections and never answers: a broker paused with SIGSTOP looks so."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        for connection in self.connections:
            connection.close()
        self.server.close()


def test_a_faust_worker_whose_broker_never_answers_stops_within_its_deadline(tmp_path: Path) -> None:
    broker = SilentBroker()
    script = textwrap.dedent(f"""
        import faust
        from shared.bounded_shutdown import run_bounded
        app = faust.App("newsmon-test", broker="kafka://127.0.0.1:{broker.port}", store="memory://",
                        datadir={str(tmp_path / "faust")!r}, web_enabled=False)
        topic = app.topic("articles.raw")

        @app.agent(topic)
        async def consume(stream):
            async for _ in stream:
                pass

        run_bounded(app, 2.0, loglevel="INFO", redirect_stdouts=False, quiet=True)
    """)
    worker = subprocess.Popen([sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        wait_until(lambda: broker.connections or worker.poll() is not None, 60, "the worker to reach its broker")
        worker.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        output, _ = worker.communicate(timeout=60)
        stopped_after = time.monotonic() - signalled
    finally:
        worker.kill()
        broker.close()
    # Stopped while still joining its broker, it stops cleanly; a running one would be cut off at the
    # deadline (tests/integration/faults/test_shutdown.py pauses a real broker under a running stack).
    assert worker.returncode in (0, EXIT_ABANDONED), output
    assert "service.stopping" in output and ("service.stopped" in output or "service.shutdown_abandoned" in output)
    assert stopped_after < 2.0 + 3.0, f"stopped {stopped_after:.1f}s after SIGTERM, deadline 2s"
