"""A notice as it waits in the delivery queue: the standard-format JSON body, and back.

The queue stores one body per message for all its targets. That body is the ``standard`` format
itself (the signed JSON a plain webhook receives): an alert with ``type``, ``update_sequence`` and
``outlets`` set, or a digest listing such alerts. A chat or email target reads the notice back from
it (``notice_from_body``) and renders its own format when it is sent, so one queued message serves
every format, and a message queued before a restart is rendered the same after it.

Message ids are the ``webhook-id`` receivers dedupe on: the alert id for ``alert.fired`` (as
before updates existed), ``<alert id>-u<sequence>`` for an update (a digest's is
``digests.digest_message_id``); so each (alert, sequence) and each digest period is one message.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from services.notifier.channels.notice import AlertNotice, DigestNotice, Notice, NoticeType
from shared.schemas import Alert

DIGEST_TYPE = "digest"
TEST_TYPE = "test"
# Fields the body adds to the alert as published; read back, they belong to the notice, not the alert.
_NOTICE_FIELDS = frozenset({"type", "update_sequence", "outlets", "update_reason", "silence_id", "first_seen"})
_NOTICE_TYPES: dict[str, NoticeType] = {"alert.fired": "alert.fired", "alert.updated": "alert.updated",
                                        TEST_TYPE: "test"}


def message_id(notice: AlertNotice) -> str:
    """The id of the queued message, sent as ``webhook-id``; stable across redeliveries and instances."""
    if notice.type == "alert.updated":
        return f"{notice.alert.alert_id}-u{notice.update_sequence}"
    return notice.alert.alert_id


def notice_body(notice: Notice) -> str:
    """The standard-format body of ``notice`` (what the queue stores)."""
    return json.dumps(_as_json(notice), separators=(",", ":"))


def _as_json(notice: Notice) -> dict[str, Any]:
    if isinstance(notice, DigestNotice):
        return {"type": DIGEST_TYPE, "subscription_id": notice.subscription_id,
                "period_start": notice.period_start.isoformat(), "period_end": notice.period_end.isoformat(),
                "items": [_as_json(item) for item in notice.items]}
    fields: dict[str, Any] = json.loads(notice.alert.model_dump_json())
    fields.update(type=notice.type, update_sequence=notice.update_sequence, outlets=notice.outlets)
    if notice.update_reason is not None:
        fields["update_reason"] = notice.update_reason
    if notice.silence_id is not None:
        fields["silence_id"] = notice.silence_id
    if notice.first_seen is not None:
        fields["first_seen"] = notice.first_seen.isoformat()
    return fields


def notice_from_body(body: bytes | str) -> Notice:
    """The notice a queued body stands for; raises ``ValueError`` when it is neither an alert nor a digest.

    A body queued before ``type`` existed (a bare alert) reads as ``alert.fired``.
    """
    fields = json.loads(body)
    if not isinstance(fields, dict):
        raise ValueError("a queued message must be a JSON object")
    if fields.get("type") == DIGEST_TYPE:
        return DigestNotice(subscription_id=str(fields["subscription_id"]),
                            period_start=datetime.fromisoformat(fields["period_start"]),
                            period_end=datetime.fromisoformat(fields["period_end"]),
                            items=tuple(_alert_notice(item) for item in fields["items"]))
    return _alert_notice(fields)


def _alert_notice(fields: dict[str, Any]) -> AlertNotice:
    kind = _NOTICE_TYPES.get(str(fields.get("type") or "alert.fired"))
    if kind is None:
        raise ValueError(f"type: {fields.get('type')!r} is not an alert notice")
    alert = Alert.model_validate({name: value for name, value in fields.items() if name not in _NOTICE_FIELDS})
    first_seen = fields.get("first_seen")
    return AlertNotice(type=kind, alert=alert, outlets=int(fields.get("outlets") or 1),
                       update_sequence=int(fields.get("update_sequence") or 0),
                       update_reason=fields.get("update_reason"), silence_id=fields.get("silence_id"),
                       first_seen=datetime.fromisoformat(first_seen) if first_seen else None)
