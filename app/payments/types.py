"""What payments are made of, and the protocol every provider implements.

The bottom of the payments package: the provider modules (`dev.py`, `stripe_gateway.py`), the
factory (`gateway.py`), the webhook (`webhooks.py`) and the orders all import from here, and
this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from app.payments.limits import AmountLimits

# Intent statuses, as Stripe names them.
SUCCEEDED = "succeeded"
REQUIRES_PAYMENT_METHOD = "requires_payment_method"
CANCELED = "canceled"


@dataclass(frozen=True)
class Intent:
    """A payment intent as the provider sees it."""

    id: str
    client_secret: str | None
    status: str
    amount: int
    currency: str
    # Why the last attempt failed (a decline code or message), when it did.
    failure_reason: str | None = None
    amount_received: int = 0
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return self.status == SUCCEEDED


@dataclass(frozen=True)
class RefundResult:
    id: str
    amount: int
    status: str  # "succeeded", "pending" or "failed"
    # The idempotency key we asked for it with (`refund-<our refund id>`); None for a refund
    # made elsewhere (the provider's dashboard).
    reference: str | None = None
    # Why a failed refund failed, as the provider says it (a code, or its message).
    failure_reason: str | None = None


# A dispute's statuses that end it (Stripe's: `won`, `lost`; an inquiry that went no further,
# `warning_closed`; one a card network resolved before it became one, `prevented`).
DISPUTE_CLOSED_STATUSES = frozenset({"won", "lost", "warning_closed", "prevented"})


@dataclass(frozen=True)
class Dispute:
    """A chargeback (or an inquiry) a customer's bank opened against a payment."""

    id: str
    amount: int
    currency: str
    status: str  # the provider's: needs_response, under_review, won, lost, ...
    reason: str | None = None  # the provider's: fraudulent, product_not_received, ...
    charge_id: str | None = None
    created_at: datetime | None = None

    @property
    def closed(self) -> bool:
        return self.status in DISPUTE_CLOSED_STATUSES


@dataclass(frozen=True)
class WebhookEvent:
    """A verified provider event, reduced to what orders act on."""

    id: str
    type: str
    intent_id: str | None = None
    amount: int | None = None
    currency: str | None = None
    failure_reason: str | None = None
    amount_refunded: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    # The intent as the event describes it (payment_intent.* events).
    intent: Intent | None = None
    # The dispute as the event describes it (charge.dispute.* events).
    dispute: Dispute | None = None
    # When the provider made the event (orders the events of one dispute).
    created_at: datetime | None = None


class ProviderUnavailable(Exception):
    """The provider could not be reached or answered with a server error: try again later."""


class ProviderError(ProviderUnavailable):
    """The provider refused the request (credentials, a parameter it does not accept): nothing
    happened. Logged as an error; callers handle it as unavailable, so no client sees a 5xx."""


class WebhookSignatureError(Exception):
    """A webhook whose signature, secret or timestamp does not check out."""


class PaymentGateway(Protocol):
    name: str

    def amount_limits(self, currency: str) -> AmountLimits:
        """The smallest and largest amount the provider charges in `currency` (minor units):
        checkout refuses totals outside them, and `create_intent` raises ProviderError."""
        ...

    async def create_intent(
        self, *, amount: int, currency: str, order_id: str, order_number: str, idempotency_key: str
    ) -> Intent:
        """A new intent for `amount`; metadata carries the order id and number. An amount
        outside `amount_limits` raises ProviderError."""
        ...

    async def confirm(self, *, intent_id: str, payment_method: str, idempotency_key: str) -> Intent:
        """Confirm with a payment method. A decline comes back as an intent with
        `failure_reason` set (not an exception); an outage raises ProviderUnavailable."""
        ...

    async def retrieve(self, *, intent_id: str) -> Intent: ...

    async def cancel(self, *, intent_id: str) -> Intent: ...

    async def refund(
        self, *, intent_id: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult: ...

    async def list_refunds(self, *, intent_id: str) -> list[RefundResult]:
        """Every refund of the intent's payment, whoever asked for it."""
        ...

    def parse_webhook(self, *, payload: bytes, signature: str | None) -> WebhookEvent:
        """Verify and decode a webhook; raises WebhookSignatureError."""
        ...


# What the domain that owns the payments (the orders) does with a verified event: apply it and
# say what it did, in a word (`paid`, `ignored`, `unknown_order`...). Registered at app
# creation (`webhooks.on_event`), so payments never import the orders.
EventHandler = Callable[[WebhookEvent], Awaitable[str]]
