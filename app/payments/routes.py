"""`/api/v1/payments`: the payment provider's webhook."""

from __future__ import annotations

from dataclasses import asdict

from quart import request
from quart_rate_limiter import rate_exempt
from quart_schema import document_headers, document_request, validate_response

from app.core.openapi import problems
from app.payments import bp, webhooks
from app.payments.schemas import StripeEventDoc, StripeSignatureHeader, WebhookAckOut


@bp.post("/webhook")
@rate_exempt  # Stripe retries from a few addresses: never drop its deliveries
@problems(409)
@document_request(StripeEventDoc)
@document_headers(StripeSignatureHeader)
@validate_response(WebhookAckOut)
async def stripe_webhook() -> WebhookAckOut:
    """Stripe webhook: signature-verified events, each applied once."""
    ack = await webhooks.receive(
        payload=await request.get_data(), signature=request.headers.get("Stripe-Signature")
    )
    return WebhookAckOut(**asdict(ack))
