"""Webhook signatures follow the Standard Webhooks convention, checked against an independent verifier."""

from __future__ import annotations

import base64
import hashlib
import hmac

from services.notifier.webhooks.signing import sign, signed_headers

RAW_KEY = b"secret-for-tests-only"
WHSEC = "whsec_" + base64.b64encode(RAW_KEY).decode()
BODY = b'{"alert_id":"abc","title":"Rafah"}'


def expected_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(key, msg_id.encode() + b"." + str(timestamp).encode() + b"." + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """A receiver's check, written from the convention alone: any listed v1 signature may match."""
    key = base64.b64decode(secret[len("whsec_"):]) if secret.startswith("whsec_") else secret.encode()
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    wanted = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for candidate in headers.get("webhook-signature", "").split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value, wanted):
            return True
    return False


def test_known_vector_with_a_plain_secret() -> None:
    assert sign("plain-secret", "msg_1", 1_700_000_000, BODY) == expected_signature(
        b"plain-secret", "msg_1", 1_700_000_000, BODY
    )


def test_whsec_secret_uses_the_base64_decoded_key() -> None:
    signature = sign(WHSEC, "msg_2", 1_700_000_123, BODY)
    assert signature == expected_signature(RAW_KEY, "msg_2", 1_700_000_123, BODY)
    assert signature != expected_signature(WHSEC.encode(), "msg_2", 1_700_000_123, BODY)


def test_headers_carry_id_timestamp_signature_and_content_type() -> None:
    headers = signed_headers(WHSEC, "alert-1", BODY, now=1_700_000_456)
    assert headers == {
        "content-type": "application/json",
        "webhook-id": "alert-1",
        "webhook-timestamp": "1700000456",
        "webhook-signature": expected_signature(RAW_KEY, "alert-1", 1_700_000_456, BODY),
    }


def test_verifier_accepts_the_signature_and_rejects_tampering() -> None:
    headers = signed_headers(WHSEC, "alert-2", BODY)
    assert verify(WHSEC, headers, BODY)
    assert not verify(WHSEC, headers, BODY.replace(b"Rafah", b"Gaza"))
    assert not verify(WHSEC, {**headers, "webhook-id": "alert-3"}, BODY)
    assert not verify("whsec_" + base64.b64encode(b"another key").decode(), headers, BODY)


def test_without_a_secret_there_is_no_signature_header() -> None:
    headers = signed_headers(None, "alert-4", BODY, now=1)
    assert "webhook-signature" not in headers
    assert headers["webhook-id"] == "alert-4" and headers["webhook-timestamp"] == "1"
