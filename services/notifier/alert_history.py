"""Recent alerts, read back from the ``alerts`` topic: what a new subscription can ask to be sent.

The topic is the record of every alert fired (one per rule and story), so replaying to a late
subscriber needs no second store. Reading is bounded: the last ``SCAN_PER_PARTITION`` messages
of each partition, filtered on ``fired_at``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pydantic import ValidationError

from shared import topics
from shared.kafka_clients import read_last
from shared.logs import log_event
from shared.schemas import Alert
from shared.settings import Settings

logger = logging.getLogger(__name__)
SCAN_PER_PARTITION = 10_000


async def alerts_since(settings: Settings, since: datetime) -> list[Alert]:
    """Alerts fired at or after ``since``, oldest first, each once; raises ``TopicReadError``."""
    found: dict[str, Alert] = {}
    for record in await read_last(settings, topics.ALERTS, SCAN_PER_PARTITION):
        try:
            alert = Alert.model_validate_json(record.value)
        except ValidationError:
            log_event(logger, "alert_history.unreadable", logging.WARNING, partition=record.partition,
                      offset=record.offset)
            continue
        if alert.fired_at >= since:
            found.setdefault(alert.alert_id, alert)
    return sorted(found.values(), key=lambda alert: alert.fired_at)
