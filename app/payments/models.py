"""The dev gateway's own intents (PAYMENT_PROVIDER=dev): a stand-in for the provider's side."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field

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
    metadata: dict[str, str] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "dev_payment_intents"
