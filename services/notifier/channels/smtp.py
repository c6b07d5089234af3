"""Sending email over SMTP with aiosmtplib, each failure classified as worth retrying or not.

``NEWSMON_SMTP_TLS`` picks how the connection is protected: ``none`` (plain, for a relay on the same
host), ``starttls`` (plain, then upgraded; refused if the server does not offer it, never sent in
clear) or ``tls`` (TLS from the first byte). The server's certificate is always verified, against
``NEWSMON_SMTP_CA_FILE`` when set. The password is read from ``NEWSMON_SMTP_PASSWORD_FILE`` when the
settings are built and kept as a ``SecretStr``, so it never shows in a log line or a repr.

An SMTP 4xx answer, a refused or dropped connection, a timeout and a failed TLS handshake (a certificate
gets renewed, a CA file fixed) are ``TransientSendError`` (the delivery queue retries them); a 5xx answer
(unknown recipient, refused login, message refused) and a server lacking what the settings require are
``PermanentSendError``.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Literal

import aiosmtplib
from pydantic import SecretStr

from services.notifier.channels.errors import ChannelError, PermanentSendError, TransientSendError
from shared.settings import Settings

TlsMode = Literal["none", "starttls", "tls"]
DEFAULT_PORTS: dict[TlsMode, int] = {"none": 25, "starttls": 587, "tls": 465}


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send email; built by ``smtp_settings``."""

    host: str
    port: int
    tls: TlsMode
    sender: str
    """``NEWSMON_SMTP_FROM``, display name allowed (``newsmon <alerts@example.org>``): the ``From`` of emails."""
    user: str | None = None
    password: SecretStr | None = None
    ca_file: Path | None = None


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    """The SMTP settings, or ``None`` when ``NEWSMON_SMTP_HOST`` is unset (email off).

    Raises ``ValueError`` naming the variable when the others cannot be used: no
    ``NEWSMON_SMTP_FROM``, a password file that cannot be read, or a login without a password.
    """
    if not settings.smtp_host:
        return None
    if not settings.smtp_from:
        raise ValueError("NEWSMON_SMTP_FROM: must be set when NEWSMON_SMTP_HOST is (the From address of emails)")
    password = None
    if settings.smtp_password_file is not None:
        try:
            password = SecretStr(settings.smtp_password_file.read_text().strip())
        except OSError as error:
            raise ValueError(f"NEWSMON_SMTP_PASSWORD_FILE: cannot read {settings.smtp_password_file}: "
                             f"{error.strerror or error}") from None
    if settings.smtp_user and not (password and password.get_secret_value()):
        # Under compose the password file is always mounted, empty when .env names none: say so at start
        # rather than at the first email, with the server's 535.
        raise ValueError("NEWSMON_SMTP_PASSWORD_FILE: NEWSMON_SMTP_USER is set, so a file holding the password "
                         "is needed" + (f"; {settings.smtp_password_file} is empty" if password is not None else ""))
    if settings.smtp_ca_file is not None and not settings.smtp_ca_file.is_file():
        raise ValueError(f"NEWSMON_SMTP_CA_FILE: no such file {settings.smtp_ca_file}")
    return SmtpSettings(
        host=settings.smtp_host, port=settings.smtp_port or DEFAULT_PORTS[settings.smtp_tls], tls=settings.smtp_tls,
        sender=settings.smtp_from, user=settings.smtp_user, password=password, ca_file=settings.smtp_ca_file,
    )


async def send_email(message: EmailMessage, smtp: SmtpSettings, *, timeout_s: float) -> None:
    """Hand ``message`` to the SMTP server (envelope: the address of ``smtp.sender`` to the message's ``To``), or raise
    ``TransientSendError`` / ``PermanentSendError``; the whole exchange ends within ``timeout_s``."""
    password = smtp.password.get_secret_value() if smtp.password is not None else None
    envelope_sender = parseaddr(smtp.sender)[1]
    recipients = [address for _, address in getaddresses(message.get_all("To", [])) if address]
    # Serialized with the message's own policy (aiosmtplib would fold headers at 78 characters, turning a
    # long Message-ID in In-Reply-To into encoded words that no mail client matches).
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    try:
        async with asyncio.timeout(timeout_s):
            errors, _ = await aiosmtplib.send(
                raw, sender=envelope_sender, recipients=recipients, hostname=smtp.host, port=smtp.port,
                username=smtp.user, password=password if smtp.user else None,
                use_tls=smtp.tls == "tls", start_tls=smtp.tls == "starttls", timeout=timeout_s,
                tls_context=_tls_context(smtp.ca_file) if smtp.tls != "none" else None,
            )
    except TimeoutError:
        raise TransientSendError(f"SMTP {smtp.host}:{smtp.port}: no answer within {timeout_s:g} s") from None
    except aiosmtplib.SMTPException as error:
        raise classify_smtp_error(error, smtp) from None
    except ssl.SSLError as error:
        raise TransientSendError(f"SMTP {smtp.host}:{smtp.port}: TLS failed: {error.reason or error}") from None
    except OSError as error:
        raise TransientSendError(f"SMTP {smtp.host}:{smtp.port}: {error.strerror or error}") from None
    if errors:  # some recipients refused while others were accepted: the refused ones decide
        refused = next(iter(errors.values()))
        raise _by_code(refused.code, f"SMTP {smtp.host}:{smtp.port}: recipient refused: {refused.code} "
                                     f"{refused.message}")


def classify_smtp_error(error: aiosmtplib.SMTPException, smtp: SmtpSettings) -> ChannelError:
    """The send error for what the server answered (4xx transient, 5xx permanent) or how the exchange ended."""
    where = f"SMTP {smtp.host}:{smtp.port}"
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        first = error.recipients[0]
        return _by_code(first.code, f"{where}: recipient refused: {first.code} {first.message}")
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _by_code(error.code, f"{where}: {type(error).__name__}: {error.code} {error.message}")
    # aiosmtplib raises the base class itself (and SMTPNotSupported) when the server lacks what the settings
    # ask for (STARTTLS, AUTH, SMTPUTF8): retrying changes nothing until the settings or the server change.
    if type(error) is aiosmtplib.SMTPException or isinstance(error, aiosmtplib.SMTPNotSupported):
        return PermanentSendError(f"{where}: the server does not offer what the NEWSMON_SMTP_* settings ask: {error}")
    # Timeouts, refused connections, a server that hung up: the next attempt may well succeed.
    return TransientSendError(f"{where}: {type(error).__name__}: {error}")


def _by_code(code: int, text: str) -> ChannelError:
    return PermanentSendError(text) if 500 <= code < 600 else TransientSendError(text)


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificates verified and the host name checked, against the CA file or the system's roots."""
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
