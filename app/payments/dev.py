"""The dev gateway: Stripe's flow and test payment methods, without Stripe.

`pm_card_visa` (and the other plain test cards) succeed, `pm_card_chargeDeclined…` decline
with Stripe's decline codes, so a frontend built against it behaves the same with Stripe.
Intents live in the database, so confirmations and refunds are checked as a provider would
(no second charge, no refund beyond what was paid) and several workers agree.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

from pymongo import ReturnDocument

from app.payments.limits import AmountLimits, stripe_amount_limits
from app.payments.models import DevPaymentIntent
from app.payments.stripe_gateway import parse_signed_event
from app.payments.types import (
    CANCELED,
    REQUIRES_PAYMENT_METHOD,
    SUCCEEDED,
    Intent,
    ProviderError,
    RefundResult,
    WebhookEvent,
    WebhookSignatureError,
)
from config import Settings

# Stripe's test PaymentMethods that decline, with the decline code Stripe reports.
DECLINES = {
    "pm_card_chargeDeclined": "card_declined",
    "pm_card_chargeCustomerFail": "card_declined",
    "pm_card_chargeDeclinedInsufficientFunds": "insufficient_funds",
    "pm_card_chargeDeclinedLostCard": "lost_card",
    "pm_card_chargeDeclinedStolenCard": "stolen_card",
    "pm_card_chargeDeclinedExpiredCard": "expired_card",
    "pm_card_chargeDeclinedIncorrectCvc": "incorrect_cvc",
    "pm_card_chargeDeclinedProcessingError": "processing_error",
    "pm_card_chargeDeclinedFraudulent": "fraudulent",
}
SUCCEEDS = {
    "pm_card_visa",
    "pm_card_visa_debit",
    "pm_card_mastercard",
    "pm_card_mastercard_debit",
    "pm_card_amex",
    "pm_card_discover",
    "pm_card_jcb",
    "pm_card_unionpay",
}


def _intent(row: dict[str, Any]) -> Intent:
    return Intent(
        id=row["_id"],
        client_secret=row["client_secret"],
        status=row["status"],
        amount=row["amount"],
        currency=row["currency"],
        failure_reason=row.get("failure_reason"),
        amount_received=row["amount"] if row["status"] == SUCCEEDED else 0,
        metadata=row.get("metadata") or {},
    )


class DevGateway:
    name = "dev"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @staticmethod
    def _collection() -> Any:  # the driver's collection, or the embedded engine's
        return DevPaymentIntent.get_pymongo_collection()

    def amount_limits(self, currency: str) -> AmountLimits:
        # Stripe's: what development accepts, production accepts too.
        return stripe_amount_limits(currency)

    async def create_intent(
        self, *, amount: int, currency: str, order_id: str, order_number: str, idempotency_key: str
    ) -> Intent:
        limits = self.amount_limits(currency)
        if not limits.allows(amount):
            # As Stripe answers (`amount_too_small` / `amount_too_large`): a refusal, not an outage.
            raise ProviderError(
                f"the amount {amount} {currency} is outside {limits.minimum}..{limits.maximum}"
            )
        # The idempotency key names the intent: asking twice gives the same intent, as
        # Stripe's idempotency keys do.
        intent_id = "pi_dev_" + idempotency_key.replace("-", "_")
        row = await self._collection().find_one_and_update(
            {"_id": intent_id},
            {
                "$setOnInsert": {
                    "client_secret": f"{intent_id}_secret_{secrets.token_urlsafe(16)}",
                    "amount": amount,
                    "currency": currency,
                    "status": REQUIRES_PAYMENT_METHOD,
                    "amount_refunded": 0,
                    "metadata": {"order_id": order_id, "order_number": order_number},
                }
            },
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return _intent(row)

    async def _get(self, intent_id: str) -> dict[str, Any]:
        row: dict[str, Any] | None = await self._collection().find_one({"_id": intent_id})
        if row is None:
            raise LookupError(f"no such payment intent: {intent_id}")
        return row

    async def retrieve(self, *, intent_id: str) -> Intent:
        return _intent(await self._get(intent_id))

    async def confirm(self, *, intent_id: str, payment_method: str, idempotency_key: str) -> Intent:
        del idempotency_key  # the conditional update below is what stops a second charge
        if payment_method in SUCCEEDS:
            outcome = {"status": SUCCEEDED, "failure_reason": None}
        else:
            reason = DECLINES.get(payment_method, "payment_method_unknown")
            outcome = {"status": REQUIRES_PAYMENT_METHOD, "failure_reason": reason}
        row = await self._collection().find_one_and_update(
            {"_id": intent_id, "status": REQUIRES_PAYMENT_METHOD},
            {"$set": {**outcome, "payment_method": payment_method}},
            return_document=ReturnDocument.AFTER,
        )
        # Already succeeded or cancelled: report it as it is (never charge twice).
        return _intent(row if row is not None else await self._get(intent_id))

    async def cancel(self, *, intent_id: str) -> Intent:
        row = await self._collection().find_one_and_update(
            {"_id": intent_id, "status": REQUIRES_PAYMENT_METHOD},
            {"$set": {"status": CANCELED}},
            return_document=ReturnDocument.AFTER,
        )
        return _intent(row if row is not None else await self._get(intent_id))

    async def refund(
        self, *, intent_id: str, amount: int, idempotency_key: str, reason: str | None = None
    ) -> RefundResult:
        del reason
        refund_id = "re_dev_" + idempotency_key.replace("-", "_")
        done = await self._collection().find_one({"_id": intent_id, "refund_ids": refund_id})
        if done is not None:  # the same refund asked again: answer as before
            return RefundResult(
                id=refund_id, amount=amount, status="succeeded", reference=idempotency_key
            )
        paid = (await self._get(intent_id))["amount"]  # fixed for the intent's lifetime
        made = {"id": refund_id, "amount": amount, "reference": idempotency_key}
        row = await self._collection().find_one_and_update(
            {
                "_id": intent_id,
                "status": SUCCEEDED,
                "amount_refunded": {"$lte": paid - amount},
                "refund_ids": {"$ne": refund_id},  # never the same refund twice
            },
            {
                "$inc": {"amount_refunded": amount},
                "$push": {"refund_ids": refund_id, "refunds": made},
            },
            return_document=ReturnDocument.AFTER,
        )
        if row is None:
            # A request with the same key (another worker's retry) made it meanwhile: that
            # refund is this one, as with Stripe's idempotency keys; not a refusal.
            made_meanwhile = await self._collection().find_one(
                {"_id": intent_id, "refund_ids": refund_id}
            )
            if made_meanwhile is not None:
                return RefundResult(
                    id=refund_id, amount=amount, status="succeeded", reference=idempotency_key
                )
            current = await self._get(intent_id)
            reason = (
                "payment_not_succeeded" if current["status"] != SUCCEEDED else "amount_too_large"
            )
            return RefundResult(id=refund_id, amount=amount, status="failed", failure_reason=reason)
        return RefundResult(
            id=refund_id, amount=amount, status="succeeded", reference=idempotency_key
        )

    async def list_refunds(self, *, intent_id: str) -> list[RefundResult]:
        row = await self._get(intent_id)
        return [
            RefundResult(
                id=made["id"],
                amount=made["amount"],
                # A refund can fail after it succeeded (Stripe: `pm_card_refundFail`).
                status=made.get("status", "succeeded"),
                reference=made["reference"],
                failure_reason=made.get("failure_reason"),
            )
            for made in row.get("refunds", [])
        ]

    def parse_webhook(self, *, payload: bytes, signature: str | None) -> WebhookEvent:
        """With DEV_WEBHOOK_SECRET set, events in Stripe's format signed with it (as a load
        test or a frontend playing the provider sends them). The intent is never taken from
        the body: the handlers read it from this provider's own records."""
        secret = self.settings.DEV_WEBHOOK_SECRET
        if not secret:
            raise WebhookSignatureError("the dev payment provider sends no webhooks")
        event = parse_signed_event(payload=payload, signature=signature, secret=secret)
        return replace(event, intent=None)
