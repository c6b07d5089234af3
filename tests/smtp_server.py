"""A real SMTP server on 127.0.0.1 (aiosmtpd) that parses every message it accepts as MIME and keeps it.

It speaks plain SMTP, STARTTLS or TLS from the first byte with a certificate from a throwaway CA
(``trustme``), can require a login over TLS, refuses the recipients in ``refuse`` with 550 (unknown user) and
those in ``defer`` with 451 (try later), as a mail server does. It runs in aiosmtpd's own thread and
event loop, so a test's loop talks to it over a real socket.
"""

from __future__ import annotations

import email
import ssl
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any, Literal

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from newsmon.embedded import free_port

TlsMode = Literal["none", "starttls", "tls"]


@dataclass
class ReceivedMail:
    """One message as the server accepted it: the envelope and the parsed MIME message."""

    sender: str
    recipients: list[str]
    message: EmailMessage
    raw: bytes
    logged_in_as: str | None


class ThrowawayCertificates:
    """A throwaway CA and a certificate for 127.0.0.1/localhost; ``ca_file`` is what a client trusts."""

    def __init__(self, directory: Path) -> None:
        self.ca = trustme.CA()
        self.server_cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self.ca_file = directory / "smtp-test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(context)
        return context


@dataclass
class SmtpServer:
    """An SMTP server on 127.0.0.1; ``start()`` it, send to ``port``, read ``messages``."""

    tls: TlsMode = "none"
    certificates: ThrowawayCertificates | None = None
    login: tuple[str, str] | None = None
    refuse: set[str] = field(default_factory=set)
    defer: set[str] = field(default_factory=set)
    port: int = field(default_factory=free_port)
    messages: list[ReceivedMail] = field(default_factory=list)
    failed_logins: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _controller: Controller | None = None

    def start(self) -> SmtpServer:
        if self.tls != "none" and self.certificates is None:
            raise ValueError("a TLS server needs certificates")
        if self.tls == "none" and self.login is not None:
            raise ValueError("a login is asked for over TLS only (aiosmtpd warns otherwise, and so should we)")
        context = self.certificates.server_context() if self.certificates else None
        parameters: dict[str, Any] = {}
        if self.tls == "starttls":
            parameters.update(tls_context=context, require_starttls=True)
        if self.login is not None:
            # With TLS from the first byte aiosmtpd does not see the TLS layer itself: it is told not to wait for
            # it, and then (to avoid its warning) offers AUTH without insisting on it; the client logs in anyway.
            starttls = self.tls == "starttls"
            parameters.update(authenticator=self._authenticate, auth_required=starttls, auth_require_tls=starttls)
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port,
            ssl_context=context if self.tls == "tls" else None, **parameters,
        )
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def received(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self.messages)

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope, mechanism: str,
                      auth_data: Any) -> AuthResult:
        if isinstance(auth_data, LoginPassword) and self.login is not None:
            given = (auth_data.login.decode(), auth_data.password.decode())
            if given == self.login:
                return AuthResult(success=True, auth_data=auth_data)
        with self._lock:
            self.failed_logins += 1
        return AuthResult(success=False, handled=False)

    def _record(self, envelope: Envelope, session: Session) -> None:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=default_policy)
        assert isinstance(message, EmailMessage)
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        with self._lock:
            self.messages.append(ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), message, raw, login))


class _Handler:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address in self.server.refuse:
            return "550 5.1.1 No such user here"
        if address in self.server.defer:
            return "451 4.3.0 Mailbox busy, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.server._record(envelope, session)
        return "250 Message accepted for delivery"
