"""The email outbox: every email is a row written with the change that causes it."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core.clock import utcnow

EmailStatus = Literal["pending", "sending", "sent", "failed"]


class OutboxEmail(Document):
    to: str
    kind: str
    subject: str
    text: str
    html: str | None = None
    status: EmailStatus = "pending"
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    lease_owner: str | None = None
    lease_expires_at: datetime | None = None
    last_error: str | None = None
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None

    class Settings:
        name = "outbox_emails"
        indexes = [
            # The sender's claim query: due pending rows, and sending rows whose lease lapsed.
            IndexModel([("status", ASCENDING), ("next_attempt_at", ASCENDING)]),
            IndexModel([("status", ASCENDING), ("lease_expires_at", ASCENDING)]),
            # The admin outbox listing: filter by recipient / kind / status, newest first.
            IndexModel([("to", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
            IndexModel([("kind", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
            IndexModel([("status", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
            IndexModel([("created_at", DESCENDING), ("_id", DESCENDING)]),
        ]
