"""Structured logging: one line per event, ``key=value`` text or JSON, carrying ids.

Call ``log_event(logger, "alert.fired", alert_id=..., rule_id=...)``; the ids ride in the record's
``fields`` so the formatter can render them either way and log search can find them.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

_RESERVED = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, **fields: object) -> None:
    """Log one event with structured fields (article_id, story_id, alert_id, ...)."""
    logger.log(level, event, extra={"fields": fields})


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, event, then the event's fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        payload.update(getattr(record, "fields", {}))
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


class KeyValueFormatter(logging.Formatter):
    """Human-readable line with the event's fields appended as ``key=value``."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", {})
        if fields:
            line += " " + " ".join(f"{key}={value}" for key, value in fields.items())
        return line


def make_handler(log_format: str) -> logging.Handler:
    """A stderr handler with the formatter the settings ask for."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == "json" else KeyValueFormatter())
    return handler


# httpx logs every request with its full URL at INFO, and a webhook URL is a credential (the
# token is in its path or query); newsmon logs its own requests with the URL redacted instead.
QUIET_LOGGERS = {"httpx": "WARNING"}


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` with the structured handler as the only root handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"structured": {"()": make_handler, "log_format": log_format}},
        "root": {"level": level, "handlers": ["structured"]},
        "loggers": {name: {"level": quiet_level} for name, quiet_level in QUIET_LOGGERS.items()},
    }


def configure_logging(log_format: str, level: str) -> None:
    """Route the root logger through one structured handler (CLI commands; faust workers get theirs)."""
    root = logging.getLogger()
    root.handlers[:] = [make_handler(log_format)]
    root.setLevel(level)
    for name, quiet_level in QUIET_LOGGERS.items():
        logging.getLogger(name).setLevel(quiet_level)
