"""``newsmon status``: each service's health, consumer lag and last activity, read from its endpoints."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

from shared.settings import SERVICE_NAMES, Settings


@dataclass(frozen=True)
class ServiceStatus:
    """What one service reports about itself; ``reachable`` False means nothing answered."""

    service: str
    url: str
    reachable: bool
    ready: bool = False
    lag: int = 0
    last_activity_s: float | None = None

    def line(self) -> str:
        if not self.reachable:
            return f"{self.service:<8} DOWN      {self.url}"
        state = "ready" if self.ready else "NOT READY"
        idle = "never" if self.last_activity_s is None else f"{self.last_activity_s:.0f}s ago"
        return f"{self.service:<8} {state:<9} lag={self.lag:<6} last activity {idle:<10} {self.url}"


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def service_status(service: str, base_url: str) -> ServiceStatus:
    """Query ``/readyz`` and ``/metrics`` of one service."""
    try:
        ready_code, _ = _get(f"{base_url}/readyz")
        _, metrics_text = _get(f"{base_url}/metrics")
    except (urllib.error.URLError, OSError):
        return ServiceStatus(service, base_url, reachable=False)
    end_offsets: dict[tuple[str, str], float] = {}
    committed: dict[tuple[str, str], float] = {}
    last_activity = None
    for family in text_string_to_metric_families(metrics_text.decode()):
        for sample in family.samples:
            key = (sample.labels.get("topic", ""), sample.labels.get("partition", ""))
            if sample.name == "newsmon_faust_topic_partition_end_offset":
                end_offsets[key] = sample.value
            elif sample.name == "newsmon_faust_topic_partition_offset_commited":
                committed[key] = sample.value
            elif sample.name == "newsmon_last_activity_timestamp_seconds":
                last_activity = time.time() - sample.value
    lag = int(sum(max(end - committed.get(key, 0), 0) for key, end in end_offsets.items()))
    return ServiceStatus(service, base_url, reachable=True, ready=ready_code == 200, lag=lag,
                         last_activity_s=last_activity)


def stack_status(settings: Settings, host: str = "127.0.0.1") -> list[ServiceStatus]:
    """Status of every service at its configured port."""
    return [service_status(name, f"http://{host}:{settings.service_port(name)}") for name in SERVICE_NAMES]


def as_json(statuses: list[ServiceStatus]) -> str:
    return json.dumps([status.__dict__ for status in statuses])
