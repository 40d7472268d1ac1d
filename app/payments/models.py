"""Payments' documents: the dev gateway's intents, and the provider events we took on."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from app.core.clock import utcnow


class DevPaymentIntent(Document):
    id: str  # type: ignore[assignment]  # "pi_dev_…", as the provider would name it
    client_secret: str
    amount: int
    currency: str
    status: str = "requires_payment_method"
    payment_method: str | None = None
    failure_reason: str | None = None
    amount_refunded: int = 0
    refunds: list[dict[str, Any]] = Field(default_factory=list)  # {id, amount, reference}
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "dev_payment_intents"


class PaymentEvent(Document):
    """A provider event (webhook) we have taken on: its id is the document's `_id`, so the
    unique `_id` index lets one delivery at a time claim it. `processing` with a live lease:
    being applied; `done`: applied, later deliveries are acknowledged and ignored. A worker
    that dies mid-way leaves the lease to run out, and the provider's next delivery claims
    the event again (applying an event twice is harmless: every change it makes is
    conditional; marking it done only after it applied is what guarantees it is not lost)."""

    id: str  # type: ignore[assignment]  # the provider's event id, e.g. "evt_…"
    type: str
    status: Literal["processing", "done"] = "processing"
    lease_until: datetime
    attempts: int = 1
    received_at: datetime = Field(default_factory=utcnow)
    processed_at: datetime | None = None
    # Stripe retries a delivery for 3 days; kept well past that, then removed by TTL.
    expires_at: datetime

    class Settings:
        name = "payment_events"
        indexes = [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry")]
