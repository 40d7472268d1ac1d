"""`/api/v1/payments`: the payment provider's webhook, and the public payment settings."""

from __future__ import annotations

from dataclasses import asdict

from quart import current_app, request
from quart_rate_limiter import rate_exempt
from quart_schema import document_headers, document_request, validate_response

from app.core.openapi import problems
from app.payments import bp, webhooks
from app.payments.schemas import (
    PaymentConfigOut,
    StripeEventDoc,
    StripeSignatureHeader,
    WebhookAckOut,
)


@bp.post("/webhook")
@rate_exempt  # Stripe retries from a few addresses: never drop its deliveries
@problems(409)
@document_request(StripeEventDoc)
@document_headers(StripeSignatureHeader)
@validate_response(WebhookAckOut)
async def stripe_webhook() -> WebhookAckOut:
    """Stripe webhook: signature-verified events, each applied once."""
    # The raw bytes Stripe signed (get_data's defaults, spelled out for the bytes overload).
    payload = await request.get_data(cache=True, as_text=False, parse_form_data=False)
    ack = await webhooks.receive(payload=payload, signature=request.headers.get("Stripe-Signature"))
    return WebhookAckOut(**asdict(ack))


@bp.get("/config")
@validate_response(PaymentConfigOut)
async def payment_config() -> PaymentConfigOut:
    """The payment provider and, for Stripe, the publishable key Stripe.js needs (public)."""
    settings = current_app.config["SETTINGS"]
    stripe = settings.PAYMENT_PROVIDER == "stripe"
    return PaymentConfigOut(
        provider=settings.PAYMENT_PROVIDER,
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY if stripe else None,
    )
