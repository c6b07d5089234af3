"""faust's Prometheus sensor at ``/metrics``, without the sampler that wakes every service each second.

faust's ``Monitor`` wakes once a second to turn its counters into averages and per-second rates for
faust's own ``/stats`` page. The Prometheus sensor (``PrometheusMonitor``) exports counters and
histograms, from which Prometheus computes rates itself, and newsmon serves no ``/stats``: the
sampled values are never read. On an idle stack that wake was half of each consumer service's
event-loop wakes (timers counted by call site over 30 s: 30 of about 60).
"""

from __future__ import annotations

from typing import Any

import faust
from aiohttp.web import Response
from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from mode import Service
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


class PrometheusSensor(PrometheusMonitor):
    """faust's Prometheus sensor, minus the once-a-second sampling of rates nothing reads."""

    @Service.task
    async def _sampler(self) -> None:
        """Replaces ``Monitor``'s sampling loop with none (see the module docstring)."""


def serve_faust_metrics(app: faust.App, name_prefix: str) -> None:
    """Install ``PrometheusSensor`` as the app's monitor and serve the default registry at ``/metrics``:
    newsmon's prometheus-client metrics and faust's (offsets per topic and partition, from which lag is derived)."""
    app.monitor = PrometheusSensor(metrics=FaustMetrics.create(REGISTRY, name_prefix))

    @app.page("/metrics")
    async def metrics(web: Any, request: Any) -> Any:
        return Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})
