"""What `/api/v1/payments/webhook` takes and answers (documentation: the body is verified
against its signature as raw bytes, never parsed into these models first)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.schemas import OutModel


class StripeEventDoc(BaseModel):
    """A Stripe event, as Stripe sends it (`payment_intent.succeeded`,
    `payment_intent.payment_failed`, `charge.refunded`, `charge.refund.updated`,
    `refund.updated` and `refund.failed` are acted on; others are acknowledged)."""

    model_config = ConfigDict(extra="allow", title="StripeEvent")

    id: str = Field(examples=["evt_1Q2w3E4r5T6y7U8i"])
    object: str = Field(examples=["event"])
    type: str = Field(examples=["payment_intent.succeeded"])
    created: int = Field(ge=0, le=2**63 - 1, description="Unix time")
    data: dict[str, Any] = Field(description="`{object: <the PaymentIntent or Charge>}`")


class StripeSignatureHeader(BaseModel):
    stripe_signature: str = Field(
        description="`t=<unix time>,v1=<HMAC-SHA256 of '<t>.<body>' with the webhook secret>`"
    )


class WebhookAckOut(OutModel):
    received: bool
    event_id: str
    duplicate: bool = Field(description="The event was applied before; nothing was done again")
    result: str = Field(description="What the event did, e.g. `paid`, `ignored`, `unknown_order`")


class PaymentConfigOut(OutModel):
    """What a frontend needs to take payments (public: no login)."""

    provider: Literal["dev", "stripe"] = Field(
        description="`dev`: `POST /orders/{id}/pay` with a Stripe test payment method id; "
        "`stripe`: confirm the order's `payment.client_secret` with Stripe.js"
    )
    publishable_key: str | None = Field(
        description="Stripe's publishable key (`pk_...`) for Stripe.js; null with the dev "
        "provider, or when the shop has not set one (then only the API can pay)",
        examples=["pk_live_51H..."],
    )
