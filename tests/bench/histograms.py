"""The services' Prometheus histograms as a benchmark reads them: snapshot, difference, quantiles.

A benchmark scrapes ``/metrics`` before and after a run and keeps the difference, so each number
covers exactly that run. Quantiles are estimated the way Prometheus's ``histogram_quantile``
does (linear within a bucket), which is what a dashboard of the same run would show.
"""

from __future__ import annotations

import math
import urllib.request
from dataclasses import dataclass

from prometheus_client.parser import text_string_to_metric_families

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Histogram:
    """Cumulative bucket counts (upper bound -> count), with the sum and count of observations."""

    buckets: tuple[tuple[float, float], ...]
    total: float
    count: float

    def __sub__(self, earlier: Histogram) -> Histogram:
        before = dict(earlier.buckets)
        return Histogram(tuple((bound, count - before.get(bound, 0.0)) for bound, count in self.buckets),
                         self.total - earlier.total, self.count - earlier.count)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan

    def quantile(self, q: float) -> float:
        """Prometheus's estimate: the bucket holding the q-th observation, interpolated linearly."""
        if not self.count:
            return math.nan
        rank = q * self.count
        lower_bound, lower_count = 0.0, 0.0
        for bound, count in self.buckets:
            if count >= rank:
                if math.isinf(bound):
                    return lower_bound  # beyond the last finite bucket: its bound is all we know
                share = (rank - lower_count) / (count - lower_count) if count > lower_count else 1.0
                return lower_bound + (bound - lower_bound) * share
            lower_bound, lower_count = bound, count
        return lower_bound


def scrape(port: int) -> dict[tuple[str, Labels], Histogram]:
    """Every histogram series on a service's ``/metrics``, by (name, labels without ``le``)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    buckets: dict[tuple[str, Labels], list[tuple[float, float]]] = {}
    totals: dict[tuple[str, Labels], float] = {}
    counts: dict[tuple[str, Labels], float] = {}
    for family in text_string_to_metric_families(text):
        if family.type != "histogram":
            continue
        for sample in family.samples:
            series = (family.name, tuple(sorted((key, value) for key, value in sample.labels.items() if key != "le")))
            if sample.name.endswith("_bucket"):
                buckets.setdefault(series, []).append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_sum"):
                totals[series] = sample.value
            elif sample.name.endswith("_count"):
                counts[series] = sample.value
    return {series: Histogram(tuple(sorted(found)), totals.get(series, 0.0), counts.get(series, 0.0))
            for series, found in buckets.items()}
