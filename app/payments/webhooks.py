"""Provider webhooks: verify the signature, take each event on once, hand it to the handler
the orders registered at app creation (`on_event`): payments never import the orders.

An event is claimed by inserting its id (the unique `_id` of `payment_events`) with a lease,
applied, and only then marked done: a delivery that finds it done is acknowledged and does
nothing; one that finds it being applied answers 409 so the provider delivers it again
later; a worker that dies mid-way leaves a lease that runs out, so the next delivery applies
it (the orders' updates are conditional: applying twice changes nothing twice).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from quart import Quart, current_app

from app.core.clock import utcnow
from app.errors import AppError, Conflict, ErrorCode
from app.payments.gateway import gateway
from app.payments.models import PaymentEvent
from app.payments.types import (
    EventHandler,
    ProviderUnavailable,
    WebhookEvent,
    WebhookSignatureError,
)

log = logging.getLogger("app.payments.webhooks")

LEASE = timedelta(minutes=2)
KEEP = timedelta(days=30)
_HANDLER = "payment_event_handler"


@dataclass(frozen=True)
class WebhookAck:
    """What a delivery is answered: the event, whether it was applied before, what it did."""

    received: bool
    event_id: str
    duplicate: bool
    result: str


def on_event(app: Quart, handler: EventHandler) -> None:
    """Register what applies a verified event (the orders' `apply_event`, at app creation)."""
    app.extensions[_HANDLER] = handler


def _handler() -> EventHandler:
    handler: EventHandler | None = current_app.extensions.get(_HANDLER)
    if handler is None:  # create_app registers one: without it, events would be lost
        raise RuntimeError("no payment event handler registered (webhooks.on_event)")
    return handler


class InvalidWebhook(AppError):
    status, code = 400, ErrorCode.WEBHOOK_SIGNATURE_INVALID


class ProviderBusy(AppError):
    """Applying the event needs the provider, which cannot be reached. Any non-2xx makes the
    provider deliver again later; a 409 rather than a 5xx, since nothing here is broken."""

    status, code = 409, ErrorCode.PAYMENT_UNAVAILABLE


async def receive(*, payload: bytes, signature: str | None) -> WebhookAck:
    """Verify and apply one webhook delivery; returns the acknowledgement.

    Raises InvalidWebhook (400: bad or missing signature, stale timestamp, not an event, or
    a provider that sends no webhooks), Conflict (the event is being applied by another
    delivery right now), ProviderBusy (applying it needs the provider, which cannot be
    reached: the provider delivers it again later).
    """
    try:
        event = gateway().parse_webhook(payload=payload, signature=signature)
    except WebhookSignatureError as error:
        log.warning("webhook refused: %s", error)
        raise InvalidWebhook(f"The webhook was refused: {error}.") from None
    claim = await _claim(event)
    if claim == "done":
        log.info("payment event %s (%s) delivered again: already applied", event.id, event.type)
        return WebhookAck(received=True, event_id=event.id, duplicate=True, result="duplicate")
    if claim == "busy":
        raise Conflict(
            "This event is being applied by another delivery; deliver it again later.",
            headers={"Retry-After": "30"},
        )
    try:
        result = await _handler()(event)
    except ProviderUnavailable as error:
        await _release(event.id)
        log.warning("payment event %s (%s) not applied: %s", event.id, event.type, error)
        raise ProviderBusy(
            "The payment provider cannot be reached to apply this event; deliver it again.",
            headers={"Retry-After": "60"},
        ) from None
    except Exception:
        await _release(event.id)
        raise
    await PaymentEvent.get_pymongo_collection().update_one(
        {"_id": event.id}, {"$set": {"status": "done", "processed_at": utcnow()}}
    )
    log.info("payment event %s (%s) applied: %s", event.id, event.type, result)
    return WebhookAck(received=True, event_id=event.id, duplicate=False, result=result)


async def _claim(event: WebhookEvent) -> Literal["claimed", "done", "busy"]:
    collection = PaymentEvent.get_pymongo_collection()
    for _ in range(3):
        now = utcnow()
        try:
            await collection.insert_one(
                {
                    "_id": event.id,
                    "type": event.type,
                    "status": "processing",
                    "lease_until": now + LEASE,
                    "attempts": 1,
                    "received_at": now,
                    "processed_at": None,
                    "expires_at": now + KEEP,
                }
            )
            return "claimed"
        except DuplicateKeyError:
            pass
        # Seen before: take it over if the delivery that claimed it died (lease run out).
        taken = await collection.find_one_and_update(
            {"_id": event.id, "status": "processing", "lease_until": {"$lt": now}},
            {"$set": {"lease_until": now + LEASE}, "$inc": {"attempts": 1}},
            return_document=ReturnDocument.AFTER,
        )
        if taken is not None:
            log.warning("payment event %s: taking over an abandoned attempt", event.id)
            return "claimed"
        row = await collection.find_one({"_id": event.id}, {"status": 1})
        if row is not None:
            return "done" if row["status"] == "done" else "busy"
        # Released between our insert and our read: try again.
    return "busy"


async def _release(event_id: str) -> None:
    """Give up a claim after a failure, so the provider's next delivery applies the event."""
    await PaymentEvent.get_pymongo_collection().delete_one(
        {"_id": event_id, "status": "processing"}
    )
