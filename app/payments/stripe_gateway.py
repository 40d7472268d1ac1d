"""The Stripe gateway (PAYMENT_PROVIDER=stripe): PaymentIntents, Refunds and webhooks.

Every call is async (stripe-python's `*_async` methods over httpx, created without sync
support, so a blocking call cannot slip in). What Stripe answers is reduced to the gateway's
dataclasses, and its failures to three outcomes callers already handle: a decline is an
Intent with `failure_reason`; an outage (connection error, 5xx, rate limit) raises
ProviderUnavailable; anything else Stripe refuses raises ProviderError (logged as an error,
handled as unavailable), so no Stripe error becomes a 5xx.

Confirmation sets the payment method with `update`, then calls `confirm` with no parameters:
valid on Stripe, and the only form the local emulator (localstripe) implements.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import stripe

from app.payments.limits import AmountLimits, stripe_amount_limits
from app.payments.types import (
    CANCELED,
    REQUIRES_PAYMENT_METHOD,
    Dispute,
    Intent,
    ProviderError,
    ProviderUnavailable,
    RefundResult,
    WebhookEvent,
    WebhookSignatureError,
)
from config import Settings

log = logging.getLogger("app.payments.stripe")

# Stripe metadata values are limited to 500 characters.
_METADATA_VALUE_LIMIT = 500
_REFUND_STATUSES = {
    "succeeded": "succeeded",
    "pending": "pending",
    "requires_action": "pending",
    "failed": "failed",
    "canceled": "failed",
}


def _data(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if isinstance(obj, stripe.StripeObject) else dict(obj)


def _failure_reason(intent: dict[str, Any]) -> str | None:
    error = intent.get("last_payment_error") or {}
    reason = error.get("decline_code") or error.get("code")
    if reason:
        return str(reason)
    if intent.get("status") == "requires_action":
        return "authentication_required"  # 3-D Secure: needs the customer, not the server
    return None


def _amount_received(intent: dict[str, Any]) -> int:
    received = intent.get("amount_received")
    if isinstance(received, int):
        return received
    # localstripe leaves `amount_received` out: a succeeded intent received its amount.
    return int(intent.get("amount") or 0) if intent.get("status") == "succeeded" else 0


def to_intent(obj: Any) -> Intent:
    """A Stripe PaymentIntent (object or dict) as the gateway's Intent."""
    intent = _data(obj)
    return Intent(
        id=intent["id"],
        client_secret=intent.get("client_secret"),
        status=intent.get("status") or REQUIRES_PAYMENT_METHOD,
        amount=int(intent.get("amount") or 0),
        currency=str(intent.get("currency") or ""),
        failure_reason=_failure_reason(intent),
        amount_received=_amount_received(intent),
        metadata={str(k): str(v) for k, v in (intent.get("metadata") or {}).items()},
    )


def _moment(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if isinstance(timestamp, int) else None


def _id_of(value: Any) -> str | None:
    """An id field that may come expanded into its object."""
    if isinstance(value, dict):
        value = value.get("id")
    return str(value) if value else None


def to_dispute(obj: Any) -> Dispute:
    """A Stripe Dispute (object or dict) as the gateway's Dispute."""
    dispute = _data(obj)
    return Dispute(
        id=str(dispute["id"]),
        amount=int(dispute.get("amount") or 0),
        currency=str(dispute.get("currency") or ""),
        status=str(dispute.get("status") or "needs_response"),
        reason=str(dispute["reason"]) if dispute.get("reason") else None,
        charge_id=_id_of(dispute.get("charge")),
        created_at=_moment(dispute.get("created")),
    )


def to_refund(obj: Any) -> RefundResult:
    refund = _data(obj)
    metadata = refund.get("metadata") or {}
    return RefundResult(
        id=refund["id"],
        amount=int(refund.get("amount") or 0),
        status=_REFUND_STATUSES.get(refund.get("status") or "", "pending"),
        reference=metadata.get("reference"),
        failure_reason=refund.get("failure_reason") or None,
    )


def is_outage(error: stripe.StripeError) -> bool:
    """Worth trying again later: Stripe unreachable, failing, or asking us to slow down."""
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError | stripe.APIError):
        return True
    return (error.http_status or 0) >= 500


def provider_failure(error: stripe.StripeError, doing: str) -> ProviderUnavailable:
    """The exception a caller sees for a Stripe error that is not a decline."""
    if is_outage(error):
        log.warning("stripe unavailable while %s: %s", doing, error.user_message or error)
        return ProviderUnavailable(f"Stripe is unavailable ({type(error).__name__})")
    log.error(
        "stripe refused %s: %s (%s, code %s, status %s)",
        doing,
        error.user_message or error,
        type(error).__name__,
        error.code,
        error.http_status,
    )
    return ProviderError(f"Stripe refused the request ({type(error).__name__})")


class StripeGateway:
    name = "stripe"

    def __init__(self, settings: Settings) -> None:
        self._webhook_secret = settings.STRIPE_WEBHOOK_SECRET
        self._client: stripe.StripeClient | None = None
        self._http: stripe.HTTPXClient | None = None
        if not settings.STRIPE_SECRET_KEY:
            log.error("PAYMENT_PROVIDER=stripe without STRIPE_SECRET_KEY: payments will fail")
            return
        self._http = stripe.HTTPXClient(timeout=settings.STRIPE_TIMEOUT_SECONDS)
        self._client = stripe.StripeClient(
            settings.STRIPE_SECRET_KEY,
            base_addresses={"api": settings.STRIPE_API_BASE} if settings.STRIPE_API_BASE else None,
            http_client=self._http,
            max_network_retries=settings.STRIPE_MAX_NETWORK_RETRIES,
        )

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close_async()  # type: ignore[no-untyped-call]  # stripe: no annotations

    def amount_limits(self, currency: str) -> AmountLimits:
        return stripe_amount_limits(currency)

    @property
    def _v1(self) -> Any:  # stripe's V1Services
        if self._client is None:
            raise ProviderError("STRIPE_SECRET_KEY is not set")
        return self._client.v1

    # -- intents ----------------------------------------------------------------------------

    async def create_intent(
        self, *, amount: int, currency: str, order_id: str, order_number: str, idempotency_key: str
    ) -> Intent:
        params = {
            "amount": amount,
            "currency": currency,
            # Cards, confirmed by the server or by Stripe.js. (Not automatic_payment_methods:
            # those may redirect, which a server-side confirmation cannot follow.)
            "payment_method_types": ["card"],
            "metadata": {"order_id": order_id, "order_number": order_number},
        }
        try:
            created = await self._v1.payment_intents.create_async(
                params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as error:
            raise provider_failure(error, f"creating the intent of order {order_number}") from None
        return to_intent(created)

    async def retrieve(self, *, intent_id: str) -> Intent:
        try:
            return to_intent(await self._v1.payment_intents.retrieve_async(intent_id))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                raise LookupError(f"no such payment intent: {intent_id}") from None
            raise provider_failure(error, f"retrieving {intent_id}") from None
        except stripe.StripeError as error:
            raise provider_failure(error, f"retrieving {intent_id}") from None

    async def confirm(self, *, intent_id: str, payment_method: str, idempotency_key: str) -> Intent:
        try:
            await self._v1.payment_intents.update_async(
                intent_id, {"payment_method": payment_method}
            )
            confirmed = await self._v1.payment_intents.confirm_async(
                intent_id, options={"idempotency_key": idempotency_key}
            )
        except stripe.CardError as error:
            return await self._declined(intent_id, error)
        except stripe.InvalidRequestError as error:
            if is_outage(error):
                raise provider_failure(error, f"confirming {intent_id}") from None
            return await self._not_confirmable(intent_id, error)
        except stripe.StripeError as error:
            raise provider_failure(error, f"confirming {intent_id}") from None
        return to_intent(confirmed)

    async def _declined(self, intent_id: str, error: stripe.CardError) -> Intent:
        body = (error.json_body or {}).get("error", {}) if isinstance(error.json_body, dict) else {}
        reason = str(body.get("decline_code") or error.code or "card_declined")
        try:
            current = await self.retrieve(intent_id=intent_id)
        except (ProviderUnavailable, LookupError):
            current = Intent(
                id=intent_id,
                client_secret=None,
                status=REQUIRES_PAYMENT_METHOD,
                amount=0,
                currency="",
            )
        return replace(current, failure_reason=reason)

    async def _not_confirmable(self, intent_id: str, error: stripe.InvalidRequestError) -> Intent:
        """Stripe refused to confirm: the intent already succeeded or was cancelled (report it
        as it is: never a second charge), or the payment method is not one it knows."""
        current = await self.retrieve(intent_id=intent_id)
        if current.succeeded or current.status == CANCELED:
            return current
        # The intent exists (we just asked about it): a missing object is the payment method.
        missing = error.code == "resource_missing" or error.http_status == 404
        unknown_method = error.param == "payment_method" or missing
        reason = "payment_method_unknown" if unknown_method else error.code
        log.warning("stripe refused to confirm %s: %s (%s)", intent_id, error.user_message, reason)
        return replace(current, failure_reason=reason or "payment_intent_unexpected_state")

    async def cancel(self, *, intent_id: str) -> Intent:
        try:
            return to_intent(await self._v1.payment_intents.cancel_async(intent_id))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                raise LookupError(f"no such payment intent: {intent_id}") from None
            if is_outage(error):
                raise provider_failure(error, f"cancelling {intent_id}") from None
            # Succeeded (or cancelled) already: nothing to cancel; say how it stands.
            return await self.retrieve(intent_id=intent_id)
        except stripe.StripeError as error:
            raise provider_failure(error, f"cancelling {intent_id}") from None

    # -- refunds ----------------------------------------------------------------------------

    async def refund(
        self, *, intent_id: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        metadata = {"reference": idempotency_key}
        if reason:
            # Free text goes in metadata: Stripe's own `reason` takes three fixed values.
            metadata["note"] = reason[:_METADATA_VALUE_LIMIT]
        try:
            made = await self._v1.refunds.create_async(
                {"payment_intent": intent_id, "amount": amount, "metadata": metadata},
                {"idempotency_key": idempotency_key},
            )
        except stripe.InvalidRequestError as error:
            if is_outage(error):
                raise provider_failure(error, f"refunding {intent_id}") from None
            # Refused for good (more than is left, a payment that failed): booked as failed.
            log.error("stripe refused refund %s of %s: %s", idempotency_key, intent_id, error)
            return RefundResult(
                id=idempotency_key,
                amount=amount,
                status="failed",
                reference=idempotency_key,
                failure_reason=str(error.code or error.user_message or "refund_refused")[:200],
            )
        except stripe.StripeError as error:
            raise provider_failure(error, f"refunding {intent_id}") from None
        return to_refund(made)

    async def list_refunds(self, *, intent_id: str) -> list[RefundResult]:
        refunds: list[RefundResult] = []
        params: dict[str, Any] = {"payment_intent": intent_id, "limit": 100}
        try:
            while True:
                page = await self._v1.refunds.list_async(params)
                refunds.extend(to_refund(refund) for refund in page.data)
                if not page.has_more or not page.data:
                    return refunds
                params["starting_after"] = page.data[-1].id
        except stripe.StripeError as error:
            raise provider_failure(error, f"listing the refunds of {intent_id}") from None

    # -- webhooks ---------------------------------------------------------------------------

    def parse_webhook(self, *, payload: bytes, signature: str | None) -> WebhookEvent:
        if not self._webhook_secret:
            raise WebhookSignatureError("STRIPE_WEBHOOK_SECRET is not set")
        return parse_signed_event(payload=payload, signature=signature, secret=self._webhook_secret)


def parse_signed_event(*, payload: bytes, signature: str | None, secret: str) -> WebhookEvent:
    """Verify a Stripe-signed event (`Stripe-Signature`, HMAC-SHA256 with `secret`, five
    minutes' tolerance) and reduce it to a WebhookEvent; raises WebhookSignatureError."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret)
        return _event(event.to_dict())
    except stripe.SignatureVerificationError as error:
        raise WebhookSignatureError(str(error.user_message or error)) from None
    except (ValueError, TypeError, KeyError, AttributeError):
        # Signed with our secret yet not a Stripe event: refuse it all the same.
        raise WebhookSignatureError("the body is not a Stripe event") from None


def _event(event: dict[str, Any]) -> WebhookEvent:
    kind = str(event["type"])
    obj = (event.get("data") or {}).get("object") or {}
    if kind.startswith("payment_intent."):
        intent = to_intent(obj)
        return WebhookEvent(
            id=str(event["id"]),
            type=kind,
            intent_id=intent.id,
            amount=intent.amount_received,
            currency=intent.currency,
            failure_reason=intent.failure_reason,
            metadata=intent.metadata,
            intent=intent,
        )
    if kind.startswith("charge.dispute."):  # a dispute: names its charge and intent
        dispute = to_dispute(obj)
        return WebhookEvent(
            id=str(event["id"]),
            type=kind,
            intent_id=_id_of(obj.get("payment_intent")),
            amount=dispute.amount,
            currency=dispute.currency,
            metadata=obj.get("metadata") or {},
            dispute=dispute,
            created_at=_moment(event.get("created")),
        )
    if kind.startswith(("charge.", "refund.")):  # a charge, or a refund: both name the intent
        intent_id = _id_of(obj.get("payment_intent"))
        return WebhookEvent(
            id=str(event["id"]),
            type=kind,
            intent_id=intent_id,
            amount=obj.get("amount"),
            currency=obj.get("currency"),
            amount_refunded=obj.get("amount_refunded"),
            metadata=obj.get("metadata") or {},
        )
    return WebhookEvent(id=str(event["id"]), type=kind)
