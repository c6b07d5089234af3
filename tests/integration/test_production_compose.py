"""The production compose file is hardened: it validates, refuses to start without its secrets (naming
each), publishes every port only on the configured address, has no default password, and its Redis
runs with a password and an append-only file.

Debian's ``docker-compose config`` (installed by ``make install``) resolves the file exactly as
``docker-compose up`` would, without a Docker engine; each run gets only the variables a test gives
it (and an empty env file), so a developer's own ``.env`` or shell cannot change the answer.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from newsmon.embedded import free_port, spawn, wait_for_port
from services.notifier.channels.smtp import smtp_settings
from shared.settings import SERVICE_NAMES, Settings
from tests.conftest import REPO

REQUIRED = {
    "REDIS_PASSWORD": "redis-pass-from-operator",
    "GRAFANA_ADMIN_PASSWORD": "grafana-pass-from-operator",
    "NEWSMON_WEBHOOK_SECRET": "whsec_c2lnbmluZy1rZXktZnJvbS1vcGVyYXRvcg==",
}
HTTP_PORTS = {"fetcher": 8081, "dedupe": 8082, "ner": 8083, "alerter": 8084, "notifier": 8085, "prometheus": 9090,
              "grafana": 3000}
KAFKA_EXTERNAL_PORT = 9094
# Environment variables that hold a credential, and the password part of a URL.
CREDENTIAL_VARIABLE = re.compile(r"(PASSWORD|SECRET|TOKEN|_AUTH)$")
URL_PASSWORD = re.compile(r"://[^/@:]*:([^/@]*)@")


def compose_config(tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    env_file = tmp_path / "empty.env"
    env_file.write_text("")
    return subprocess.run(
        ["docker-compose", "--env-file", str(env_file), "-f", str(REPO / "docker-compose.yml"), "config"],
        env={"PATH": os.environ["PATH"], **variables}, capture_output=True, text=True, timeout=60,
    )


def resolved_services(tmp_path: Path, **variables: str) -> dict[str, Any]:
    result = compose_config(tmp_path, **{**REQUIRED, **variables})
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return services


def published(service: dict[str, Any]) -> list[tuple[str | None, int, int]]:
    """(host address, host port, container port) of each published port, in either form compose prints."""
    found = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            found.append((port.get("host_ip"), int(port["published"]), int(port["target"])))
        else:
            *address, host_port, target = str(port).split("/")[0].rsplit(":", 2)
            found.append((address[0] if address else None, int(host_port), int(target)))
    return found


def test_compose_file_is_valid(tmp_path: Path) -> None:
    services = resolved_services(tmp_path)
    assert {"kafka", "redis", "prometheus", "grafana", *SERVICE_NAMES} <= set(services)
    for name in SERVICE_NAMES:
        assert services[name]["depends_on"]["kafka"]["condition"] == "service_healthy"
        assert services[name]["environment"]["KAFKA_BOOTSTRAP"] == "kafka:9092", "the internal listener"


@pytest.mark.parametrize("variable", sorted(REQUIRED))
def test_compose_refuses_to_start_without_each_secret_and_names_it(tmp_path: Path, variable: str) -> None:
    for given in ({}, {variable: ""}):
        others = {name: value for name, value in REQUIRED.items() if name != variable}
        result = compose_config(tmp_path, **others, **given)
        assert result.returncode != 0
        assert f"set {variable} in .env" in result.stderr


def test_every_published_port_listens_on_the_configured_address(tmp_path: Path) -> None:
    def addresses(services: dict[str, Any]) -> dict[str, set[str | None]]:
        return {name: {address for address, _, _ in published(service)} for name, service in services.items()
                if published(service)}

    default = resolved_services(tmp_path)
    assert addresses(default) == {name: {"127.0.0.1"} for name in [*HTTP_PORTS, "kafka"]}
    assert {name: {port for _, port, _ in published(default[name])} for name in HTTP_PORTS} == {
        name: {port} for name, port in HTTP_PORTS.items()}

    moved = resolved_services(tmp_path, NEWSMON_PUBLISH_ADDRESS="192.0.2.10")
    assert addresses(moved) == {**{name: {"192.0.2.10"} for name in HTTP_PORTS}, "kafka": {"127.0.0.1"}}, \
        "Kafka's listener has no authentication: it moves only with its own variable"


def test_kafka_external_listener_is_published_and_advertised_on_its_address(tmp_path: Path) -> None:
    for address in ("127.0.0.1", "192.0.2.11"):
        variables = {} if address == "127.0.0.1" else {"NEWSMON_KAFKA_EXTERNAL_ADDRESS": address}
        kafka = resolved_services(tmp_path, **variables)["kafka"]
        assert published(kafka) == [(address, KAFKA_EXTERNAL_PORT, KAFKA_EXTERNAL_PORT)]
        environment = kafka["environment"]
        advertised = dict(item.split("://") for item in environment["KAFKA_ADVERTISED_LISTENERS"].split(","))
        assert advertised == {"INTERNAL": "kafka:9092", "EXTERNAL": f"{address}:{KAFKA_EXTERNAL_PORT}"}
        assert environment["KAFKA_INTER_BROKER_LISTENER_NAME"] == "INTERNAL"


def test_no_service_has_a_default_password(tmp_path: Path) -> None:
    services = resolved_services(tmp_path)
    operator_values = set(REQUIRED.values())
    for name, service in services.items():
        for variable, value in (service.get("environment") or {}).items():
            if CREDENTIAL_VARIABLE.search(variable):
                assert value in operator_values or value == "", f"{name}: {variable} has a value of its own"
            for password in URL_PASSWORD.findall(str(value)):
                assert password in operator_values, f"{name}: {variable} carries a password of its own"
    assert services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"] == REQUIRED["GRAFANA_ADMIN_PASSWORD"]
    for name in SERVICE_NAMES:
        url = services[name]["environment"]["REDIS_URL"]
        assert url == f"redis://:{REQUIRED['REDIS_PASSWORD']}@redis:6379/0"
        assert services[name]["environment"]["NEWSMON_WEBHOOK_SECRET"] == REQUIRED["NEWSMON_WEBHOOK_SECRET"]


def test_compose_redis_wants_its_password_keeps_an_append_only_file_and_its_health_check_logs_in(
    tmp_path: Path,
) -> None:
    """The compose Redis command and health check, run on Debian's redis-server (no Docker here)."""
    redis_service = resolved_services(tmp_path)["redis"]
    shell, flag, command = redis_service["command"]
    assert (shell, flag) == ("sh", "-c")
    port = free_port()
    # compose prints $ escaped as $$; the container's shell sees one. Only the port and directory are ours.
    local = command.replace("$$", "$") + f" --port {port} --bind 127.0.0.1 --dir {tmp_path}"
    server = spawn("compose-redis", ["sh", "-c", local], tmp_path, env={
        "PATH": os.environ["PATH"], **{key: str(value) for key, value in redis_service["environment"].items()}})
    try:
        wait_for_port(server, port, timeout=15)
        with redis.Redis(port=port) as anonymous, pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        url = redis_service_url(resolved_services(tmp_path)["alerter"]["environment"]["REDIS_URL"], port)
        with redis.Redis.from_url(url) as service:
            assert service.ping()
            assert service.config_get("appendonly") == {"appendonly": "yes"}

        check = redis_service["healthcheck"]["test"]
        assert check[0] == "CMD-SHELL"
        probe = check[1].replace("redis-cli", f"redis-cli -p {port}")
        env = {"PATH": os.environ["PATH"], "REDISCLI_AUTH": redis_service["environment"]["REDISCLI_AUTH"]}
        assert subprocess.run(["sh", "-c", probe], env=env, timeout=30).returncode == 0
        wrong = {**env, "REDISCLI_AUTH": "wrong"}
        assert subprocess.run(["sh", "-c", probe], env=wrong, capture_output=True, timeout=30).returncode != 0
    finally:
        server.stop()


def redis_service_url(url: str, port: int) -> str:
    """The services' REDIS_URL pointed at the local server instead of the ``redis`` container."""
    return url.replace("@redis:6379/", f"@127.0.0.1:{port}/")


def test_docker_waits_out_a_services_bounded_stop_before_its_sigkill(tmp_path: Path) -> None:
    services = resolved_services(tmp_path)
    shutdown_timeout_s = Settings(_env_file=None).shutdown_timeout_s
    for name in SERVICE_NAMES:
        grace = str(services[name]["stop_grace_period"])
        assert grace.endswith("s") and float(grace[:-1]) > shutdown_timeout_s, (name, grace)


def compose_document(tmp_path: Path, **variables: str) -> dict[str, Any]:
    result = compose_config(tmp_path, **{**REQUIRED, **variables})
    assert result.returncode == 0, result.stderr
    document: dict[str, Any] = yaml.safe_load(result.stdout)
    return document


def notifier_settings(document: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings the notifier's container would read, its password secret read from where compose takes it."""
    environment = {key: str(value) for key, value in document["services"]["notifier"]["environment"].items()}
    assert environment["NEWSMON_SMTP_PASSWORD_FILE"] == "/run/secrets/smtp_password"
    assert [secret["source"] for secret in document["services"]["notifier"]["secrets"]] == ["smtp_password"]
    environment["NEWSMON_SMTP_PASSWORD_FILE"] = document["secrets"]["smtp_password"]["file"]
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    return Settings(_env_file=None)


def test_email_settings_reach_the_notifier_and_their_absence_leaves_email_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    password_file = tmp_path / "smtp-password"
    password_file.write_text("mail-pass-from-operator\n")
    email = {"NEWSMON_SMTP_HOST": "mail.example.org", "NEWSMON_SMTP_PORT": "2525", "NEWSMON_SMTP_TLS": "tls",
             "NEWSMON_SMTP_USER": "newsmon", "NEWSMON_SMTP_FROM": "newsmon <alerts@example.org>",
             "NEWSMON_SMTP_PASSWORD_FILE": str(password_file), "NEWSMON_PUBLIC_URL": "https://news.example.org"}
    with monkeypatch.context() as scoped:
        settings = notifier_settings(compose_document(tmp_path, **email), scoped)
        smtp = smtp_settings(settings)
    assert settings.public_url == "https://news.example.org"
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.tls, smtp.user, smtp.sender) == (
        "mail.example.org", 2525, "tls", "newsmon", "newsmon <alerts@example.org>")
    assert smtp.password is not None and smtp.password.get_secret_value() == "mail-pass-from-operator"

    # Nothing about email in .env: every SMTP variable is passed empty, which counts as unset.
    without = notifier_settings(compose_document(tmp_path), monkeypatch)
    assert smtp_settings(without) is None and without.public_url is None
    services = compose_document(tmp_path, **email)["services"]
    assert not [name for name in SERVICE_NAMES if name != "notifier" and "NEWSMON_SMTP_HOST" in
                services[name]["environment"]], "only the notifier sends email"
