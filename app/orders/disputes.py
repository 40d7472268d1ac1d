"""Disputes of an order's payment (chargebacks, inquiries), as the provider reports them.

Each report is recorded on the order (`payment.disputes`) and, when a dispute opens or closes,
every active admin is emailed (`payment_dispute`), in one transaction. Reports may come twice,
late or out of order (each webhook event is applied once, but a dispute has several events):
a report older than the one last applied changes nothing, a closed dispute stays closed, and a
report that changes nothing sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from beanie import PydanticObjectId

from app.core import db
from app.core.clock import as_utc, utcnow
from app.core.money import format_amount
from app.errors import Conflict, ErrorCode
from app.orders.models import Order, PaymentDispute
from app.orders.store import Session, reload
from app.orders.store import update as _update
from app.payments.types import Dispute
from app.users import service as users

log = logging.getLogger("app.orders.disputes")

_ATTEMPTS = 5


def _merged(
    current: PaymentDispute | None, reported: Dispute, *, at: datetime
) -> PaymentDispute | None:
    """The dispute after `reported` (made by the provider `at`), or None when it changes
    nothing: an older report than the last applied, or a report reopening a closed one."""
    if current is not None:
        if at < as_utc(current.updated_at):
            return None
        if current.closed_at is not None and not reported.closed:
            return None
    closed = reported.closed
    merged = PaymentDispute(
        id=reported.id,
        amount=reported.amount,
        currency=reported.currency.lower(),
        reason=reported.reason,
        status=reported.status,
        charge_id=reported.charge_id,
        created_at=reported.created_at or (current.created_at if current else at),
        closed_at=(current.closed_at if current and current.closed_at else at) if closed else None,
        updated_at=at,
    )
    if current is not None and merged.model_dump(exclude={"updated_at"}) == current.model_dump(
        exclude={"updated_at"}
    ):
        return None
    return merged


async def record_dispute(
    *, order_id: PydanticObjectId, dispute: Dispute, at: datetime | None
) -> str:
    """Record what the provider says of one dispute of the order's payment; email the admins
    when it opens or closes. Returns what happened, in a word: `dispute opened`, `dispute
    closed`, `dispute updated` or `unchanged`.

    Raises Conflict when the order's disputes keep changing under it (the provider delivers
    the event again later).
    """
    at = as_utc(at) if at is not None else utcnow()

    async def work(session: Session) -> str | None:
        order = await reload(order_id, session=session)
        disputes = list(order.payment.disputes)
        index = next((i for i, d in enumerate(disputes) if d.id == dispute.id), None)
        current = disputes[index] if index is not None else None
        merged = _merged(current, dispute, at=at)
        if merged is None:
            return "unchanged"
        if index is None:
            disputes.append(merged)
        else:
            disputes[index] = merged
        changed = await _update(
            order.id,
            {"payment.disputes_version": order.payment.disputes_version},
            {
                "$set": {"payment.disputes": [d.model_dump() for d in disputes]},
                "$inc": {"payment.disputes_version": 1},
            },
            session=session,
        )
        if changed is None:
            return None  # changed meanwhile: read it again
        opened = current is None
        closed = merged.closed_at is not None and (current is None or current.closed_at is None)
        if opened or closed:
            await _alert_admins(changed, merged, opened=opened, session=session)
        return "dispute closed" if closed else "dispute opened" if opened else "dispute updated"

    for _ in range(_ATTEMPTS):
        outcome = await db.run_in_transaction(work)
        if outcome is not None:
            return outcome
    raise Conflict("The order's disputes changed concurrently.", code=ErrorCode.CONFLICT)


async def _alert_admins(
    order: Order, dispute: PaymentDispute, *, opened: bool, session: Session = None
) -> None:
    """One `payment_dispute` email to every active admin, in the caller's transaction."""
    sent = await users.email_admins(
        kind="payment_dispute",
        about=f"order {order.number}: dispute {dispute.id}",
        context={
            "number": order.number,
            "order_id": str(order.id),
            "customer": order.email,
            "dispute_id": dispute.id,
            "amount": format_amount(dispute.amount, dispute.currency),
            "total": format_amount(order.total, order.currency),
            "reason": dispute.reason or "not given",
            "status": dispute.status,
            "opened": opened and dispute.closed_at is None,
            "closed": dispute.closed_at is not None,
            "won": dispute.status == "won",
            "lost": dispute.status == "lost",
        },
        session=session,
    )
    log.warning(
        "order %s: dispute %s %s (%s); %d admins emailed",
        order.number,
        dispute.id,
        "closed" if dispute.closed_at else "opened",
        dispute.status,
        sent,
    )
