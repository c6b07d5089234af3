"""What operators see is true: promtool passes, every panel shows real data on a
real Prometheus scraping the test stack, and the alerts fire on what they describe."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsmon.embedded import ManagedProcess, spawn, wait_for_port
from newsmon.stack import Stack
from shared.settings import SERVICE_NAMES, Settings
from tests.conftest import REPO
from tests.integration.conftest import free_ports, metric, produce, replay_cli
from tests.integration.receiver import Receiver
from tests.integration.test_notifier_api import call, rafah_story, subscribe
from tests.waiting import wait_until

DEPLOY = REPO / "deploy"
ALERT_RULES = DEPLOY / "prometheus" / "alerts.yml"
# A panel's fallback for "no series", which would show a value even when its metric is missing.
FALLBACK = re.compile(r"\s+or\s+vector\(0\)\s*$")


def dashboard_expressions() -> list[tuple[str, str]]:
    found = []
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            found += [(f"{path.name}: {panel['title']}", target["expr"]) for target in panel["targets"]]
    return found


def alert_rule_expressions() -> dict[str, str]:
    rules = yaml.safe_load(ALERT_RULES.read_text())
    return {rule["alert"]: rule["expr"] for group in rules["groups"] for rule in group["rules"]}


def shipped_config() -> dict[str, Any]:
    """The compose deployment's Prometheus config, with the repo's alert rules."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["rule_files"] = [str(ALERT_RULES)]
    return config


def prometheus_config(stack: Stack, scrape_interval: str = "1s") -> dict[str, Any]:
    """The shipped config, with each name it looks up in DNS answered by the test stack's service.

    The answer is a static target carrying the ``__meta_dns_name`` label DNS discovery would set,
    so the shipped relabelling, which names the ``service``, runs unchanged.
    """
    config = shipped_config()
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = scrape_interval
    job = config["scrape_configs"][0]
    job["static_configs"] = [
        {"targets": [f"127.0.0.1:{stack.settings.service_port(name)}"], "labels": {"__meta_dns_name": name}}
        for lookup in job.pop("dns_sd_configs") for name in lookup["names"]
    ]
    return config


def test_promtool_accepts_config_and_rules(tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(shipped_config()))
    for command in (["promtool", "check", "config", str(config)], ["promtool", "check", "rules", str(ALERT_RULES)]):
        result = subprocess.run(command, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_prometheus_looks_for_each_service_on_its_port() -> None:
    job = shipped_config()["scrape_configs"][0]
    ports = {name: lookup["port"] for lookup in job["dns_sd_configs"] for name in lookup["names"]}
    assert ports == {name: Settings.model_fields[f"{name}_port"].default for name in SERVICE_NAMES}


def test_alerts_fire_for_a_failing_source_and_for_a_service_down_or_gone(tmp_path: Path) -> None:
    """promtool's rule tests: series in, the alerts that must (not) fire at given times out."""
    fetcher = {"job": "newsmon", "service": "fetcher", "instance": "fetcher:8081"}

    def series(name: str, values: str, **labels: str) -> dict[str, str]:
        selector = ", ".join(f'{key}="{value}"' for key, value in {**fetcher, **labels}.items())
        return {"series": f"{name}{{{selector}}}", "values": values}

    def service_down(service: str, **labels: str) -> dict[str, Any]:
        return {"exp_labels": {"severity": "critical", "job": "newsmon", "service": service, **labels},
                "exp_annotations": {
                    "summary": f"newsmon {service} is down",
                    "description": f"A replica of {service} did not answer Prometheus, or none runs, for 1 minute."}}

    bad, good = "https://bad.example/rss", "https://good.example/rss"
    source_failing = {"exp_labels": {"severity": "warning", "source": bad}, "exp_annotations": {
        "summary": f"{bad} has failed 3 polls in a row",
        "description": "The fetcher logs each failure as fetch.source_failed with the reason."}}
    tests = {"rule_files": [str(ALERT_RULES)], "evaluation_interval": "1m", "tests": [{
        "interval": "1m",
        "input_series": [
            series("newsmon_source_consecutive_errors", "1 2 3x20 0x10", source=bad),  # failing from 2m to 22m
            series("newsmon_source_consecutive_errors", "0x32", source=good),
            series("up", "1x32"),
            series("up", "1 0x31", service="dedupe", instance="dedupe:8082"),
            series("up", "1x32", service="alerter", instance="alerter:8084"),  # and no replica of ner at all
            series("up", "1x32", service="notifier", instance="notifier:8085"),
        ],
        "alert_rule_test": [
            {"eval_time": "10m", "alertname": "NewsmonSourceFailing", "exp_alerts": []},
            {"eval_time": "20m", "alertname": "NewsmonSourceFailing", "exp_alerts": [source_failing]},
            {"eval_time": "30m", "alertname": "NewsmonSourceFailing", "exp_alerts": []},
            {"eval_time": "5m", "alertname": "NewsmonServiceDown",
             "exp_alerts": [service_down("dedupe", instance="dedupe:8082"), service_down("ner")]},
        ],
    }]}
    path = tmp_path / "alerts_test.yml"
    path.write_text(yaml.safe_dump(tests))
    result = subprocess.run(["promtool", "test", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("prometheus")
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(prometheus_config(stack)))
    (port,) = free_ports(1)
    binary = shutil.which("prometheus")
    assert binary, "Debian's prometheus is installed by `make install`"
    process: ManagedProcess = spawn("prometheus", [
        binary, f"--config.file={workdir / 'prometheus.yml'}", f"--storage.tsdb.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ], workdir)
    wait_for_port(process, port, timeout=30)
    url = f"http://127.0.0.1:{port}"
    # The port opens before the TSDB is loaded; queries answer 503 until /-/ready does.
    wait_until(lambda: answers_ok(f"{url}/-/ready"), 60, "Prometheus to be ready")
    yield url
    process.stop()


def answers_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def query(prometheus: str, expr: str) -> dict[str, Any]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:  # 400 carries Prometheus's explanation as JSON
        body = error.read().decode(errors="replace")
        try:
            return json.loads(body)
        except json.JSONDecodeError:
            return {"status": "error", "error": f"HTTP {error.code}: {body}"}


def samples(prometheus: str, expr: str) -> list[tuple[dict[str, str], float]]:
    """The instant vector of ``expr`` as (labels, value), without NaN: a quantile of nothing is no data."""
    answer = query(prometheus, expr)
    assert answer["status"] == "success", f"{expr}: {answer.get('error')}"
    found = [(item["metric"], float(item["value"][1])) for item in answer["data"]["result"]]
    return [(labels, value) for labels, value in found if not math.isnan(value)]


def produce_failed_retried_and_dead_lettered_messages(stack: Stack) -> None:
    """An alert whose webhook is retried (503) then fails (400), and a message dedupe dead-letters.

    Made here, not left to other tests, so the panels and alerts for them are checked whatever
    ran before; the subscription goes at the end so it receives nothing more.
    """
    produce(stack.settings, "articles.raw", [(b"observability-junk", b"not json")])
    subscriber = Receiver(status=503).start()
    created = subscribe(stack, subscriber.url(), rules=["rafah"])
    try:
        produce(stack.settings, "articles.enriched", [rafah_story(uuid.uuid4().hex[:8])])
        wait_until(subscriber.snapshot, 60, "the first attempt (answered 503, so retried)")
        subscriber.status = 400
        attempts = len(subscriber.snapshot())
        wait_until(lambda: len(subscriber.snapshot()) > attempts, 60, "an attempt answered 400 (failed)")
    finally:
        subscriber.stop()
        assert call(stack, "DELETE", f"/api/subscriptions/{created['id']}")[0] == 204


def test_every_dashboard_and_alert_expression_runs_and_dashboards_show_data(
    stack: Stack, prometheus: str, cli_env: dict[str, str], sample_dir: Path
) -> None:
    def scraped() -> set[str]:
        return {labels["service"] for labels, _ in samples(prometheus, 'up{job="newsmon"} == 1')}

    # Scraped once before the traffic, so rates and quantiles see it as an increase.
    wait_until(lambda: scraped() == set(SERVICE_NAMES), 60, "Prometheus to scrape every service, named by DNS")
    replay_cli(cli_env, sample_dir)
    produce_failed_retried_and_dead_lettered_messages(stack)

    alerts = alert_rule_expressions()
    for expr in alerts.values():
        samples(prometheus, expr)

    def missing_data() -> list[str]:
        """Panels with no finite value, judged without a trailing ``or vector(0)``, which always has one."""
        return [f"{name}: {expr}" for name, expr in dashboard_expressions()
                if not samples(prometheus, FALLBACK.sub("", expr))]

    wait_until(lambda: not missing_data(), 90, lambda: f"data for every dashboard panel; missing: {missing_data()}")

    def failure_alerted() -> bool:
        return any(labels["outcome"] == "failed" for labels, _ in samples(prometheus, alerts["NewsmonWebhookFailures"]))

    retries = 'sum(increase(newsmon_webhook_deliveries_total{outcome="retry"}[1h]))'
    assert any(retries == expr for _, expr in dashboard_expressions()), "the retries panel this test reads"
    wait_until(failure_alerted, 60, "the failed delivery to raise NewsmonWebhookFailures")
    wait_until(lambda: any(value > 0 for _, value in samples(prometheus, retries)), 60,
               "the retried delivery on the retries panel")


def test_delivered_alerts_record_the_latency_from_fetch_to_webhook(stack: Stack, receiver: Receiver) -> None:
    name = "newsmon_webhook_delivered_latency_seconds"
    count, total = metric(stack, "notifier", f"{name}_count"), metric(stack, "notifier", f"{name}_sum")
    key, value = rafah_story(uuid.uuid4().hex[:8])
    produce(stack.settings, "articles.enriched", [(key, value)])
    wait_until(lambda: any(hit.json.get("article_id") == key.decode() for hit in receiver.snapshot()), 30,
               "the alert at the receiver")

    wait_until(lambda: metric(stack, "notifier", f"{name}_count") > count, 30, "a delivered-latency observation")
    observed = metric(stack, "notifier", f"{name}_count") - count
    assert 0 < (metric(stack, "notifier", f"{name}_sum") - total) / observed < 60, "seconds, from a fetch just now"


def test_status_command_reports_every_service_ready_and_caught_up(stack: Stack, cli_env: dict[str, str]) -> None:
    def status() -> dict[str, dict[str, Any]]:
        result = subprocess.run([sys.executable, "-m", "newsmon", "status", "--json"], env=cli_env,
                                capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr
        return {item["service"]: item for item in json.loads(result.stdout)}

    def caught_up() -> dict[str, dict[str, Any]] | None:
        found = status()
        return found if all(item["lag"] == 0 for item in found.values()) else None

    statuses = wait_until(caught_up, 60, lambda: f"every consumer to catch up (lag 0): {status()}")
    assert set(statuses) == set(SERVICE_NAMES)
    assert all(item["reachable"] and item["ready"] and type(item["lag"]) is int for item in statuses.values())
    assert statuses["fetcher"]["last_activity_s"] is not None  # it polls the test feed


def test_readyz_reports_its_checks(stack: Stack) -> None:
    for name in SERVICE_NAMES:
        with urllib.request.urlopen(stack.url(name, "/readyz"), timeout=5) as response:
            body = json.loads(response.read())
        assert body["ready"] is True and all(body["checks"].values()) and body["reasons"] == {}
        assert {"partitions_assigned", "broker_reachable"} <= set(body["checks"]), name


def test_services_keep_faust_files_under_the_data_dir(stack: Stack) -> None:
    for name in SERVICE_NAMES:
        assert (stack.settings.data_dir / "faust" / name).is_dir(), name
