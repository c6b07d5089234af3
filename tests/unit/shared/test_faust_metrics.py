"""The services' faust sensor exports what faust's Prometheus sensor does, without its once-a-second wake."""

from __future__ import annotations

import asyncio

from faust.sensors.prometheus import FaustMetrics, PrometheusMonitor
from faust.types.tuples import TP
from prometheus_client import CollectorRegistry

from shared.faust_metrics import PrometheusSensor


async def started_tasks(sensor: PrometheusMonitor) -> list[str]:
    """The names of the tasks running once ``sensor`` has started."""
    await sensor.start()
    try:
        await asyncio.sleep(0.05)
        return [task.get_name() for task in asyncio.all_tasks()]
    finally:
        await sensor.stop()


async def test_the_sensor_starts_no_sampling_loop_where_fausts_own_starts_one() -> None:
    fausts = PrometheusMonitor(metrics=FaustMetrics.create(CollectorRegistry(), "faust"))
    ours = PrometheusSensor(metrics=FaustMetrics.create(CollectorRegistry(), "ours"))

    assert any("_sampler" in name for name in await started_tasks(fausts))
    assert not any("_sampler" in name for name in await started_tasks(ours))


def test_the_sensor_still_exports_partition_offsets_for_the_lag_alerts() -> None:
    registry = CollectorRegistry()
    sensor = PrometheusSensor(metrics=FaustMetrics.create(registry, "newsmon_faust"))

    sensor.track_tp_end_offset(TP("articles.unique", 2), 41)

    labels = {"topic": "articles.unique", "partition": "2"}
    assert registry.get_sample_value("newsmon_faust_topic_partition_end_offset", labels) == 41
