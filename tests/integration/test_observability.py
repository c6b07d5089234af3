"""What operators see is true: compose validates, promtool passes, every PromQL runs on real Prometheus."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from newsmon.embedded import ManagedProcess, spawn, wait_for_port
from newsmon.shared.settings import SERVICE_NAMES
from newsmon.stack import Stack
from tests.conftest import REPO
from tests.integration.conftest import free_ports, produce, replay_cli, wait_until

DEPLOY = REPO / "deploy"


def dashboard_expressions() -> list[tuple[str, str]]:
    found = []
    for path in sorted((DEPLOY / "grafana" / "dashboards").glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            found += [(f"{path.name}: {panel['title']}", target["expr"]) for target in panel["targets"]]
    return found


def alert_rule_expressions() -> list[tuple[str, str]]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    return [(rule["alert"], rule["expr"]) for group in rules["groups"] for rule in group["rules"]]


def prometheus_config(stack: Stack, scrape_interval: str = "1s") -> dict[str, Any]:
    """The shipped config, pointed at the test stack's ports and the repo's alert rules."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = scrape_interval
    config["rule_files"] = [str(DEPLOY / "prometheus" / "alerts.yml")]
    for target in config["scrape_configs"][0]["static_configs"]:
        service = target["labels"]["service"]
        target["targets"] = [f"127.0.0.1:{stack.settings.service_port(service)}"]
    return config


def test_compose_file_is_valid() -> None:
    result = subprocess.run(["docker-compose", "config", "--quiet"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(subprocess.run(["docker-compose", "config"], cwd=REPO, capture_output=True,
                                             text=True, check=True).stdout)["services"]
    assert {"kafka", "redis", "prometheus", "grafana", *SERVICE_NAMES} <= set(services)
    assert "--appendonly" in services["redis"]["command"]
    for name in SERVICE_NAMES:
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_promtool_accepts_config_and_rules(stack: Stack, tmp_path: Path) -> None:
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump(prometheus_config(stack)))
    for command in (["promtool", "check", "config", str(config)],
                    ["promtool", "check", "rules", str(DEPLOY / "prometheus" / "alerts.yml")]):
        result = subprocess.run(command, capture_output=True, text=True)
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
    yield f"http://127.0.0.1:{port}"
    process.stop()


def query(prometheus: str, expr: str) -> dict[str, Any]:
    url = f"{prometheus}/api/v1/query?" + urllib.parse.urlencode({"query": expr})
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:  # 400 carries Prometheus's explanation
        return json.loads(error.read())


def test_every_dashboard_and_alert_expression_runs_and_dashboards_show_data(
    stack: Stack, prometheus: str, cli_env: dict[str, str], sample_dir: Path
) -> None:
    replay_cli(cli_env, sample_dir)
    produce(stack.settings, "articles.raw", [(b"observability-junk", b"not json")])
    wait_until(lambda: len(query(prometheus, 'up{job="newsmon"} == 1')["data"]["result"]) == 4, 60,
               "Prometheus to scrape all four services")

    for name, expr in alert_rule_expressions():
        answer = query(prometheus, expr)
        assert answer["status"] == "success", f"alert {name}: {answer.get('error')}"

    def missing_data() -> list[str]:
        missing = []
        for name, expr in dashboard_expressions():
            answer = query(prometheus, expr)
            assert answer["status"] == "success", f"{name}: {expr}: {answer.get('error')}"
            if not answer["data"]["result"]:
                missing.append(f"{name}: {expr}")
        return missing

    wait_until(lambda: not missing_data(), 90, lambda: f"data for every dashboard panel; missing: {missing_data()}")


def test_status_command_reports_every_service_ready(stack: Stack, cli_env: dict[str, str]) -> None:
    import sys

    result = subprocess.run([sys.executable, "-m", "newsmon", "status", "--json"], env=cli_env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    statuses = {item["service"]: item for item in json.loads(result.stdout)}
    assert set(statuses) == set(SERVICE_NAMES)
    assert all(item["reachable"] and item["ready"] and item["lag"] >= 0 for item in statuses.values())
    assert statuses["fetcher"]["last_activity_s"] is not None  # it polls the test feed


def test_readyz_reports_its_checks(stack: Stack) -> None:
    for name in SERVICE_NAMES:
        with urllib.request.urlopen(stack.url(name, "/readyz"), timeout=5) as response:
            body = json.loads(response.read())
        assert body["ready"] is True and body["checks"]["partitions_assigned"] is True
