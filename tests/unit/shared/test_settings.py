"""Settings read from the environment: an empty variable is an unset one, as compose passes them."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.notifier.channels.smtp import smtp_settings
from shared.settings import Settings, describe_settings_error

# What the notifier's environment holds under compose when .env says nothing about email.
COMPOSE_WITHOUT_EMAIL = {f"NEWSMON_SMTP_{name}": "" for name in ("HOST", "PORT", "TLS", "USER", "FROM", "CA_FILE",
                                                                  "PASSWORD_FILE")}


def test_empty_variables_leave_email_off_and_every_default_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable, value in {**COMPOSE_WITHOUT_EMAIL, "KAFKA_BOOTSTRAP": "", "NEWSMON_FEEDS": "",
                            "NEWSMON_NOTIFIER_PORT": "", "NEWSMON_FEED_POLL_SECONDS": ""}.items():
        monkeypatch.setenv(variable, value)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an empty old name is not a use of it either
        settings = Settings(_env_file=None)
    assert smtp_settings(settings) is None
    assert (settings.smtp_port, settings.smtp_tls, settings.smtp_password_file) == (None, "starttls", None)
    assert settings.bootstrap == "127.0.0.1:9092"
    assert (settings.feeds, settings.notifier_port, settings.feed_poll_s) == ([], 8085, 300.0)


def test_set_variables_still_count_and_bad_ones_are_still_named(monkeypatch: pytest.MonkeyPatch,
                                                                tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("NEWSMON_SMTP_HOST=mail.example.org\nNEWSMON_SMTP_FROM=alerts@example.org\n"
                        "NEWSMON_SMTP_USER=\n")
    monkeypatch.setenv("NEWSMON_SMTP_TLS", "tls")
    smtp = smtp_settings(Settings(_env_file=str(env_file)))
    assert smtp is not None and (smtp.host, smtp.port, smtp.tls, smtp.user) == ("mail.example.org", 465, "tls", None)

    monkeypatch.setenv("NEWSMON_SMTP_PORT", "smtp")
    with pytest.raises(ValidationError) as raised:
        Settings(_env_file=None)
    assert describe_settings_error(raised.value).startswith("NEWSMON_SMTP_PORT: ")
