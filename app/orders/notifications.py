"""The customer's order emails: one `order_status` email per status change (and one when
the order is placed), written to the outbox in the transaction that makes the change; and
the admins' notice of a refund that failed after it succeeded (`refund_failed`)."""

from __future__ import annotations

import logging
from typing import Any

from quart import current_app

from app.core.money import format_amount
from app.email import service as email
from app.orders import guest_tokens
from app.orders.models import Order, Refund
from app.orders.store import Session
from app.users import service as users

log = logging.getLogger("app.orders.notifications")

STATUS_LABELS = {
    "pending_payment": "awaiting payment",
    "paid": "paid",
    "processing": "being prepared",
    "shipped": "shipped",
    "delivered": "delivered",
    "cancelled": "cancelled",
    "refunded": "refunded",
}
HEADLINES = {
    "pending_payment": "Thank you for your order. It is reserved for you until it is paid.",
    "paid": "We have received your payment.",
    "processing": "We are preparing your order.",
    "shipped": "Your order is on its way.",
    "delivered": "Your order has been delivered.",
    "cancelled": "Your order has been cancelled.",
    "refunded": "Your order has been refunded.",
}


def _link(order: Order, order_token: str | None) -> str:
    """The order's page in the web app. A guest's confirmation carries the Order-Token (known
    only at checkout, never stored in clear): `?token=` opens the order without an account;
    the admin's outbox view redacts it (email.service.redact_tokens)."""
    base = f"{current_app.config['SETTINGS'].FRONTEND_URL.rstrip('/')}/orders/{order.id}"
    return f"{base}?token={order_token}" if order_token else base


def _context(order: Order, note: str | None, order_token: str | None = None) -> dict[str, Any]:
    def money(amount: int) -> str:
        return format_amount(amount, order.currency)

    headline = HEADLINES[order.status]
    if order.status == "cancelled" and order.payment.amount_refunded:
        headline += " Your payment is being refunded."
    return {
        "number": order.number,
        "status": order.status,
        "status_label": STATUS_LABELS[order.status],
        "headline": headline,
        "items": [
            {"name": item.name, "quantity": item.quantity, "line_total": money(item.line_total)}
            for item in order.items
        ],
        # The priced checkout's breakdown (issue 19): each row shown when it is not zero.
        "subtotal": money(order.subtotal),
        "discount": (f"-{money(order.discount_total)}" if order.discount_total else ""),
        "discount_code": order.discount.code if order.discount else "",
        "shipping": money(order.shipping_total) if order.shipping_method else "",
        "shipping_method": order.shipping_method.name if order.shipping_method else "",
        "tax": money(order.tax_total) if order.tax_total else "",
        "tax_label": "Tax included" if order.prices_include_tax else "Tax",
        "total": money(order.total),
        "refunded": money(order.payment.amount_refunded) if order.payment.amount_refunded else "",
        "tracking_number": order.tracking_number if order.status == "shipped" else None,
        "note": note,
        "link": _link(order, order_token),
    }


async def order_status_email(
    order: Order,
    *,
    note: str | None = None,
    order_token: str | None = None,
    session: Session = None,
) -> None:
    """Queue the email for the order's current status (in the caller's transaction). A guest's
    emails link to the order with its token: the confirmation's is `order_token`, the later
    ones derive it again (guest_tokens.py)."""
    if order_token is None:
        order_token = guest_tokens.recover(order)
    await email.enqueue(
        to=order.email,
        kind="order_status",
        context=_context(order, note, order_token),
        session=session,
    )


async def refund_failed_alert(order: Order, refund: Refund, *, session: Session = None) -> int:
    """One `refund_failed` email to every active admin (in the caller's transaction): a
    refund the provider had completed failed later, so the money never reached the
    customer. `order` is as it is after the refund was marked failed."""

    def money(amount: int) -> str:
        return format_amount(amount, order.currency)

    return await users.email_admins(
        kind="refund_failed",
        about=f"order {order.number}: a refund failed later",
        context={
            "number": order.number,
            "order_id": str(order.id),
            "status": order.status,
            "amount": money(refund.amount),
            "reason": refund.failure_reason or "failed",
            "provider_refund_id": refund.provider_refund_id or "",
            "refunded": money(order.payment.amount_refunded),
            # A cancelled or refunded order owes it all: the job asks the provider again.
            "retried": order.status in ("cancelled", "refunded"),
        },
        session=session,
    )
