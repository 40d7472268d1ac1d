"""Events into the webhook outbox, written in the transaction of the change that causes them.

`emit()` finds the enabled endpoints subscribed to the event type and writes one delivery row
per endpoint, all with the caller's `session=`: the rows commit or roll back with the change.
The subject's event number is taken in the same transaction (a guarded `$inc` on its
sequence row), so the numbers follow the order in which the changes committed; the worker
delivers one subject's events to one endpoint in that order. With no endpoint subscribed
nothing but the one indexed read of the endpoints is done.
"""

from __future__ import annotations

import json
from typing import Any

from bson import ObjectId
from pymongo import ReturnDocument

from app.core.clock import utcnow
from app.hooks.models import WebhookDelivery, WebhookEndpoint, WebhookSequence

ORDER_EVENTS = (
    "order.created",
    "order.paid",
    "order.status_changed",
    "order.cancelled",
    "order.refunded",
)
PRODUCT_EVENTS = ("product.stock_low", "product.out_of_stock")
EVENT_TYPES = ORDER_EVENTS + PRODUCT_EVENTS


def body(event_type: str, data: dict[str, Any], *, at: Any) -> str:
    """The JSON sent: the Standard Webhooks envelope `{type, timestamp, data}`."""
    envelope = {
        "type": event_type,
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False)


async def emit(event_type: str, data: dict[str, Any], *, subject: str, session: Any = None) -> int:
    """Queue `event_type` with `data` (already in the API's JSON shape) for every enabled
    endpoint that wants it; returns how many deliveries were written."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event {event_type!r}")
    endpoints = (
        await WebhookEndpoint.get_pymongo_collection()
        .find({"enabled": True, "events": event_type}, {"_id": 1}, session=session)
        .to_list(None)
    )
    if not endpoints:
        return 0
    sequence = await WebhookSequence.get_pymongo_collection().find_one_and_update(
        {"_id": subject},
        {"$inc": {"seq": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    assert sequence is not None  # upserted
    now = utcnow()
    text = body(event_type, data, at=now)
    message_id = f"msg_{ObjectId()}"
    rows = [
        {
            "_id": ObjectId(),
            "endpoint_id": endpoint["_id"],
            "event_type": event_type,
            "message_id": message_id,
            "subject": subject,
            "seq": sequence["seq"],
            "body": text,
            "status": "pending",
            "attempts": 0,
            "next_attempt_at": now,
            "lease_owner": None,
            "lease_expires_at": None,
            "last_status_code": None,
            "last_error": None,
            "last_duration_ms": None,
            "attempt_log": [],
            "created_at": now,
            "delivered_at": None,
        }
        for endpoint in endpoints
    ]
    await WebhookDelivery.get_pymongo_collection().insert_many(rows, session=session)
    return len(rows)
