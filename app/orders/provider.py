"""Every call the orders make to the payment provider, in one place (through the app's
gateway, app/payments/gateway.py). Never called inside a database transaction: the callers
book what they ask for first and apply the answer after, with conditional updates.

Each function raises what the gateway raises: ProviderUnavailable (unreachable, or
ProviderError: it refused the request), LookupError (an intent it does not know).
"""

from __future__ import annotations

from app.orders.models import Order
from app.payments.gateway import gateway
from app.payments.limits import AmountLimits
from app.payments.types import Intent, RefundResult


def name() -> str:
    """The provider's name, recorded on each order's payment."""
    return gateway().name


def amount_limits(currency: str) -> AmountLimits:
    """What the provider charges in `currency` (checkout refuses totals outside)."""
    return gateway().amount_limits(currency)


async def create_intent(order: Order) -> Intent:
    """The order's intent; asking twice gives the same one (the key is the order's id)."""
    return await gateway().create_intent(
        amount=order.total,
        currency=order.currency,
        order_id=str(order.id),
        order_number=order.number,
        idempotency_key=f"order-{order.id}",
    )


async def confirm(*, intent_id: str, payment_method: str, idempotency_key: str) -> Intent:
    """A decline comes back as an intent with `failure_reason` set."""
    return await gateway().confirm(
        intent_id=intent_id, payment_method=payment_method, idempotency_key=idempotency_key
    )


async def retrieve(intent_id: str) -> Intent:
    return await gateway().retrieve(intent_id=intent_id)


async def cancel_intent(intent_id: str) -> Intent:
    return await gateway().cancel(intent_id=intent_id)


async def refund(*, intent_id: str, amount: int, key: str, reason: str | None) -> RefundResult:
    """Ask for a refund; `key` is its idempotency key (`refund-<our refund id>`), so asking
    again after a time-out can never refund twice."""
    return await gateway().refund(
        intent_id=intent_id, amount=amount, idempotency_key=key, reason=reason
    )


async def list_refunds(intent_id: str) -> list[RefundResult]:
    """Every refund of the intent's payment, whoever asked for it."""
    return await gateway().list_refunds(intent_id=intent_id)
