"""What the payment provider tells us unasked: webhook events, and reconciliation for the
webhooks that never came.

`apply_event` is the handler create_app registers with the payments' webhook
(`app.payments.webhooks.on_event`): payments hand it verified events and never import the
orders. Both only report facts to `app.orders.payments` (`record_success`, `record_failure`)
and `app.orders.provider_refunds` (`apply_provider_refunds`), whose conditional updates make
every fact safe to apply twice, late, or in any order: `/pay`, a webhook and the
reconciliation racing on one intent still make one `pending_payment → paid` (one history
entry, one email).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from app.core.clock import utcnow
from app.core.ids import parse_object_id
from app.orders import disputes, payments, provider, store
from app.orders.models import Order
from app.orders.provider_refunds import apply_provider_refunds
from app.payments.types import (
    Intent,
    ProviderError,
    ProviderUnavailable,
    WebhookEvent,
)

log = logging.getLogger("app.orders.provider_events")


# -- webhook events ---------------------------------------------------------------------------


async def apply_event(event: WebhookEvent) -> str:
    """Apply one verified provider event; returns what it did, in a word.

    Raises ProviderUnavailable when applying it needs the provider and it cannot be reached
    (the webhook then answers so that the provider delivers it again later).
    """
    handler = _HANDLERS.get(event.type)
    if handler is None:
        return "ignored"
    if not event.intent_id:
        log.warning("payment event %s (%s) names no payment intent: ignored", event.id, event.type)
        return "ignored"
    order = await find_order(intent_id=event.intent_id, metadata=event.metadata)
    if order is None:
        log.warning(
            "payment event %s (%s): no order has intent %s; acknowledged",
            event.id,
            event.type,
            event.intent_id,
        )
        return "unknown_order"
    return await handler(order, event)


async def find_order(*, intent_id: str, metadata: dict[str, Any]) -> Order | None:
    """The order of a payment intent. An intent whose id never reached its order (the process
    stopped between creating it and saving it) is found by the order id in its metadata, and
    attached to it."""
    order = await store.by_intent(intent_id)
    if order is not None:
        return order
    order_id = parse_object_id(metadata.get("order_id"))
    if order_id is None:
        return None
    order = await store.get_or_none(order_id)
    if order is None or order.payment.intent_id not in (None, intent_id):
        return None
    if await store.attach_intent(order_id, intent_id):
        log.info("order %s: intent %s attached from its metadata", order.number, intent_id)
    found = await store.get_or_none(order_id)
    return found if found is not None and found.payment.intent_id == intent_id else None


async def _succeeded(order: Order, event: WebhookEvent) -> str:
    assert event.intent_id is not None  # apply_event hands on only events naming an intent
    intent = event.intent or await provider.retrieve(event.intent_id)
    if not intent.succeeded:
        return "unchanged"  # the provider's own record says nothing was paid (yet)
    after = await payments.record_success(order_id=order.id, intent=intent, actor="provider")
    return _outcome(order, after)


async def _failed(order: Order, event: WebhookEvent) -> str:
    if order.status != "pending_payment":
        return "ignored"  # paid (or cancelled) since: an earlier attempt's failure
    reason = event.failure_reason or "payment_failed"
    changed = await payments.record_failure(order_id=order.id, reason=reason, unless_in_flight=True)
    return "declined" if changed is not None else "ignored"


async def _refunded(order: Order, event: WebhookEvent) -> str:
    intent_id = order.payment.intent_id
    assert intent_id is not None  # the order was found by it (find_order)
    # The provider's list of refunds, not the event's snapshot: an older event arriving late
    # then changes nothing, and every refund is matched by its id.
    refunds = await provider.list_refunds(intent_id)
    if order.status == "pending_payment":
        # Refunded before we heard it was paid (its event is late or lost): the payment first.
        intent = await provider.retrieve(intent_id)
        if intent.succeeded:
            await payments.record_success(order_id=order.id, intent=intent, actor="provider")
    after = await apply_provider_refunds(order_id=order.id, refunds=refunds)
    return _outcome(order, after)


async def _disputed(order: Order, event: WebhookEvent) -> str:
    if event.dispute is None:
        log.warning("payment event %s (%s) carries no dispute: ignored", event.id, event.type)
        return "ignored"
    return await disputes.record_dispute(
        order_id=order.id, dispute=event.dispute, at=event.created_at
    )


def _outcome(before: Order, after: Order) -> str:
    if after.status != before.status:
        return after.status
    if after.payment.status != before.payment.status:
        return f"payment {after.payment.status}"
    return "unchanged"


_HANDLERS: dict[str, Callable[[Order, WebhookEvent], Awaitable[str]]] = {
    "payment_intent.succeeded": _succeeded,
    "payment_intent.payment_failed": _failed,
    "charge.refunded": _refunded,
    # A refund's status changed (a slow refund finished, or failed): read them all again.
    "charge.refund.updated": _refunded,
    "refund.updated": _refunded,
    "refund.failed": _refunded,
    # A customer's bank disputes the payment (a chargeback), its evidence is reviewed, it ends.
    "charge.dispute.created": _disputed,
    "charge.dispute.updated": _disputed,
    "charge.dispute.closed": _disputed,
}


# -- reconciliation ---------------------------------------------------------------------------


async def reconcile_order(order: Order) -> str:
    """Ask the provider how the payment of an order awaiting it stands, and apply the answer.

    Raises ProviderUnavailable.
    """
    if order.status != "pending_payment":
        return "unchanged"
    if order.payment.intent_id is None:
        if not provider.amount_limits(order.currency).allows(order.total):
            # Placed before checkout refused such totals: the provider will never take it (the
            # expiry job cancels it). A refusal of this order, not an outage.
            raise ProviderError(f"the total {order.total} is outside what the provider charges")
        # The provider was unreachable at checkout: create the intent now.
        after = await payments.ensure_intent(order)
        if after.payment.intent_id is None:
            raise ProviderUnavailable("the payment intent could not be created")
        return "intent_created"
    try:
        intent = await provider.retrieve(order.payment.intent_id)
    except LookupError:
        log.error(
            "order %s: the provider knows no intent %s", order.number, order.payment.intent_id
        )
        return "missing"
    return await _apply_intent(order, intent)


async def _apply_intent(order: Order, intent: Intent) -> str:
    if intent.succeeded:
        after = await payments.record_success(order_id=order.id, intent=intent, actor="system")
        return _outcome(order, after)
    if intent.failure_reason and order.payment.status != "declined":
        changed = await payments.record_failure(
            order_id=order.id, reason=intent.failure_reason, unless_in_flight=True
        )
        return "declined" if changed is not None else "unchanged"
    return "unchanged"


# Outages in a row after which a run stops: the provider is down for every order alike, and
# each attempt may wait out the time-out; the rest are asked on the next run.
MAX_OUTAGES_IN_A_ROW = 3


async def reconcile_payments(*, older_than_seconds: int, limit: int = 100) -> dict[str, int]:
    """Check with the provider every order awaiting payment placed over `older_than_seconds`
    ago (oldest first, at most `limit`): pay what was paid, note declines, create the intents
    checkout could not.

    An order the provider cannot answer about (it refused the request, it was unreachable, or
    anything else went wrong) is logged and counted in `failed`, and the run goes on with the
    next one; the order is still awaiting payment, so the next run asks about it again. Only
    MAX_OUTAGES_IN_A_ROW outages in a row end a run early (`stopped`)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    waiting = await store.awaiting_payment(placed_before=cutoff, limit=limit)
    counts = {"checked": 0, "changed": 0}
    outages_in_a_row = 0
    for order in waiting:
        try:
            outcome = await reconcile_order(order)
        except ProviderError as error:  # refused for this order: the next may well work
            log.error("reconciling the payment of order %s: refused: %s", order.number, error)
            counts["failed"] = counts.get("failed", 0) + 1
            outages_in_a_row = 0
            continue
        except ProviderUnavailable as error:
            log.warning("reconciling the payment of order %s: %s", order.number, error)
            counts["failed"] = counts.get("failed", 0) + 1
            outages_in_a_row += 1
            if outages_in_a_row >= MAX_OUTAGES_IN_A_ROW:
                log.warning(
                    "payment reconciliation stopped after %d outages in a row; the rest wait "
                    "for the next run",
                    outages_in_a_row,
                )
                counts["stopped"] = 1
                break
            continue
        except Exception:  # one bad order must not stop the others
            log.exception("reconciling the payment of order %s", order.number)
            counts["failed"] = counts.get("failed", 0) + 1
            continue
        outages_in_a_row = 0
        counts["checked"] += 1
        if outcome != "unchanged":
            counts["changed"] += 1
            log.info("order %s reconciled with the provider: %s", order.number, outcome)
    return counts
