"""Sending through a real SMTP server on loopback in each NEWSMON_SMTP_TLS mode (TLS with a certificate from a
throwaway CA made here), and each way a send can fail, classified as the delivery queue needs it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from newsmon.embedded import free_port
from services.notifier.channels import (
    AlertNotice,
    PermanentSendError,
    SmtpSettings,
    TransientSendError,
    email_message,
    send_email,
    smtp_settings,
)
from shared.settings import Settings, describe_settings_error
from tests.smtp_server import SmtpServer, ThrowawayCertificates, TlsMode
from tests.unit.notifier.channels.conftest import make_alert

PASSWORD = "correct horse battery staple"
SENDER = "alerts@newsmon.example.org"


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCertificates:
    return ThrowawayCertificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def password_file(tmp_path: Path) -> Path:
    path = tmp_path / "smtp-password"
    path.write_text(PASSWORD + "\n")
    return path


@pytest.fixture
def plain_server() -> Iterator[SmtpServer]:
    server = SmtpServer(refuse={"gone@example.org"}, defer={"busy@example.org"}).start()
    yield server
    server.stop()


def settings_for(server: SmtpServer, tls: TlsMode, **fields: object) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=server.port, smtp_tls=tls, smtp_from=f"newsmon <{SENDER}>",
                    **fields)


def alert_email(recipient: str = "desk@example.org") -> EmailMessage:
    return email_message(AlertNotice("alert.fired", make_alert()), sender=SENDER, recipient=recipient,
                         unsubscribe="https://newsmon.example.org/unsubscribe")


def plain(server: SmtpServer) -> SmtpSettings:
    return SmtpSettings(host="127.0.0.1", port=server.port, tls="none", sender=SENDER)


@pytest.mark.parametrize("tls", ["none", "starttls", "tls"])
async def test_each_tls_mode_delivers_and_logs_in_with_the_password_file(
        tls: TlsMode, certificates: ThrowawayCertificates, password_file: Path) -> None:
    login = None if tls == "none" else ("newsmon", PASSWORD)
    server = SmtpServer(tls=tls, certificates=certificates, login=login).start()
    try:
        fields: dict[str, object] = {"smtp_ca_file": certificates.ca_file}
        if login:
            fields.update(smtp_user="newsmon", smtp_password_file=password_file)
        smtp = smtp_settings(settings_for(server, tls, **fields))
        assert smtp is not None
        await send_email(email_message(AlertNotice("alert.fired", make_alert()), sender=SENDER,
                                       recipient="desk@example.org", unsubscribe="mailto:u@newsmon.example.org"),
                         smtp, timeout_s=10)
        [received] = server.received()
        assert (received.sender, received.recipients) == (SENDER, ["desk@example.org"])
        assert received.logged_in_as == (login[0] if login else None)
        assert received.message["Subject"].startswith("[newsmon] New alert: Aid convoy")
    finally:
        server.stop()


async def test_a_wrong_password_is_permanent_and_never_shown(
        certificates: ThrowawayCertificates, tmp_path: Path) -> None:
    server = SmtpServer(tls="starttls", certificates=certificates, login=("newsmon", PASSWORD)).start()
    wrong = tmp_path / "wrong"
    wrong.write_text("hunter2-not-it")
    try:
        smtp = smtp_settings(settings_for(server, "starttls", smtp_user="newsmon", smtp_password_file=wrong,
                                          smtp_ca_file=certificates.ca_file))
        assert smtp is not None and "hunter2" not in repr(smtp)
        with pytest.raises(PermanentSendError, match="535") as raised:
            await send_email(alert_email(), smtp, timeout_s=10)
        assert "hunter2" not in str(raised.value) and server.failed_logins >= 1 and not server.received()
    finally:
        server.stop()


async def test_an_unknown_recipient_is_permanent_and_a_busy_mailbox_transient(plain_server: SmtpServer) -> None:
    with pytest.raises(PermanentSendError, match="550"):
        await send_email(alert_email("gone@example.org"), plain(plain_server), timeout_s=10)
    with pytest.raises(TransientSendError, match="451"):
        await send_email(alert_email("busy@example.org"), plain(plain_server), timeout_s=10)
    assert not plain_server.received()


async def test_a_refused_connection_is_transient() -> None:
    smtp = SmtpSettings(host="127.0.0.1", port=free_port(), tls="none", sender=SENDER)
    with pytest.raises(TransientSendError, match=f"127.0.0.1:{smtp.port}"):
        await send_email(alert_email(), smtp, timeout_s=5)


@pytest.fixture
async def silent_server() -> AsyncIterator[int]:
    """A server that accepts connections and never says a word (no SMTP greeting)."""
    held: list[asyncio.StreamWriter] = []

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_a_server_that_never_answers_is_a_transient_timeout(silent_server: int) -> None:
    smtp = SmtpSettings(host="127.0.0.1", port=silent_server, tls="none", sender=SENDER)
    with pytest.raises(TransientSendError):
        await send_email(alert_email(), smtp, timeout_s=0.5)


async def test_an_untrusted_certificate_is_refused(certificates: ThrowawayCertificates) -> None:
    server = SmtpServer(tls="tls", certificates=certificates).start()
    try:
        smtp = SmtpSettings(host="127.0.0.1", port=server.port, tls="tls", sender=SENDER)  # system CAs only
        with pytest.raises(TransientSendError, match="CERTIFICATE_VERIFY_FAILED|certificate"):
            await send_email(alert_email(), smtp, timeout_s=10)
        assert not server.received()
    finally:
        server.stop()


async def test_starttls_asked_of_a_server_without_it_is_permanent_not_sent_in_clear(plain_server: SmtpServer) -> None:
    smtp = SmtpSettings(host="127.0.0.1", port=plain_server.port, tls="starttls", sender=SENDER)
    with pytest.raises(PermanentSendError, match="STARTTLS"):
        await send_email(alert_email(), smtp, timeout_s=10)
    assert not plain_server.received()


def test_no_host_means_email_is_off_and_ports_follow_the_tls_mode(tmp_path: Path) -> None:
    assert smtp_settings(Settings()) is None
    ports = {tls: smtp_settings(Settings(smtp_host="mail.example.org", smtp_tls=tls, smtp_from=SENDER))
             for tls in ("none", "starttls", "tls")}
    assert {tls: smtp.port for tls, smtp in ports.items() if smtp} == {"none": 25, "starttls": 587, "tls": 465}


def test_settings_errors_name_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="NEWSMON_SMTP_FROM"):
        smtp_settings(Settings(smtp_host="mail.example.org"))
    with pytest.raises(ValueError, match="NEWSMON_SMTP_PASSWORD_FILE: cannot read"):
        smtp_settings(Settings(smtp_host="mail.example.org", smtp_from=SENDER, smtp_user="newsmon",
                               smtp_password_file=tmp_path / "missing"))
    empty = tmp_path / "empty"
    empty.write_text("\n")
    for password_file in (None, empty):
        with pytest.raises(ValueError, match="NEWSMON_SMTP_PASSWORD_FILE: NEWSMON_SMTP_USER is set"):
            smtp_settings(Settings(smtp_host="mail.example.org", smtp_from=SENDER, smtp_user="newsmon",
                                   smtp_password_file=password_file))
    assert smtp_settings(Settings(smtp_host="mail.example.org", smtp_from=SENDER, smtp_password_file=empty))
    with pytest.raises(ValueError, match="NEWSMON_SMTP_CA_FILE"):
        smtp_settings(Settings(smtp_host="mail.example.org", smtp_from=SENDER, smtp_ca_file=tmp_path / "missing.pem"))
    for fields, variable in (({"smtp_port": 0}, "NEWSMON_SMTP_PORT"), ({"smtp_port": 70_000}, "NEWSMON_SMTP_PORT"),
                             ({"smtp_tls": "ssl"}, "NEWSMON_SMTP_TLS"), ({"smtp_from": "nobody"}, "NEWSMON_SMTP_FROM"),
                             ({"smtp_from": "a@example.org\r\nBcc: b@example.org"}, "NEWSMON_SMTP_FROM")):
        with pytest.raises(ValidationError) as raised:
            Settings(**fields)
        assert describe_settings_error(raised.value).startswith(f"{variable}: ")


def test_the_password_never_shows_in_the_settings_repr(password_file: Path) -> None:
    smtp = smtp_settings(Settings(smtp_host="mail.example.org", smtp_from=SENDER, smtp_user="newsmon",
                                  smtp_password_file=password_file))
    assert smtp is not None and smtp.password == SecretStr(PASSWORD)
    assert PASSWORD not in repr(smtp) and PASSWORD not in str(smtp)
