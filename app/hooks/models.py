"""Webhook endpoints, and the outbox of their deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core.clock import utcnow

DeliveryStatus = Literal["pending", "sending", "delivered", "failed"]


class StoredSecret(BaseModel):
    """One signing secret, encrypted (secrets.py). Every secret not yet expired signs: after a
    rotation the old one keeps signing until `expires_at`, so receivers can switch over."""

    ciphertext: str
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime | None = None


class WebhookEndpoint(Document):
    if TYPE_CHECKING:
        id: PydanticObjectId

    url: str
    events: list[str]
    description: str | None = None
    enabled: bool = True
    secrets: list[StoredSecret]
    # Deliveries dead-lettered in a row (reset by a success): at the setting's limit the
    # endpoint is disabled and the admins are emailed.
    consecutive_failures: int = 0
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "webhook_endpoints"
        indexes = [
            # emit(): the enabled endpoints subscribed to an event type (multikey).
            IndexModel([("enabled", ASCENDING), ("events", ASCENDING)], name="enabled_events"),
            # The admin's list, newest first.
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)], name="newest"),
        ]


class DeliveryAttempt(BaseModel):
    at: datetime
    status_code: int | None = None
    duration_ms: int
    error: str | None = None


class WebhookDelivery(Document):
    """One event for one endpoint: the outbox row, written with the change that causes it."""

    if TYPE_CHECKING:
        id: PydanticObjectId

    endpoint_id: PydanticObjectId
    event_type: str
    # The Standard Webhooks message id (`webhook-id`): the same on every attempt and
    # redelivery, so receivers can drop duplicates (delivery is at least once).
    message_id: str
    # What the event is about (`order:<id>`, `product:<id>`) and its place among that
    # subject's events: one endpoint never gets a later event of a subject before an earlier.
    subject: str
    seq: int
    # The exact JSON that is signed and sent, fixed when the event happened.
    body: str
    status: DeliveryStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    last_duration_ms: int | None = None
    attempt_log: list[DeliveryAttempt] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    delivered_at: datetime | None = None

    class Settings:
        name = "webhook_deliveries"
        indexes = [
            # The worker's claim: due pending rows per endpoint, and lapsed leases.
            IndexModel(
                [("status", ASCENDING), ("endpoint_id", ASCENDING), ("next_attempt_at", ASCENDING)],
                name="due",
            ),
            IndexModel([("status", ASCENDING), ("lease_expires_at", ASCENDING)], name="lease"),
            # Ordering: the earlier, undelivered events of one subject for one endpoint.
            IndexModel(
                [("endpoint_id", ASCENDING), ("subject", ASCENDING), ("seq", ASCENDING)],
                name="subject_order",
            ),
            # The delivery log of an endpoint, newest first.
            IndexModel(
                [("endpoint_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="endpoint_newest",
            ),
        ]


class WebhookSequence(Document):
    """The last event number of one subject (`_id` is the subject): taken in the transaction
    of the change, so the numbers follow the order of the changes."""

    id: str  # type: ignore[assignment]  # the subject, not an ObjectId
    seq: int = 0

    class Settings:
        name = "webhook_sequences"
