"""What the provider says of an order's refunds, applied: a `charge.refunded` or
`refund.failed` webhook, a refund made in the provider's dashboard, the job reading them.

A refund can also fail after it succeeded (Stripe reports a `refund.failed` days later when
the card cannot take it back). That reopens the debt: the refund is marked `failed` with the
provider's reason, its amount leaves `amount_refunded` (once: the refunds' read-modify-write
is guarded), the active admins are emailed in the same transaction, and an order that was to
give everything back (cancelled, refunded) owes it: `refund_failed`, asked again by the job.
A partial refund of an order that stands (paid, shipped...) is an admin's call: its payment
says what was really given back (`partially_refunded`, or `succeeded`), the admin is told.
"""

from __future__ import annotations

import logging

from beanie import PydanticObjectId

from app.core import db
from app.core.clock import utcnow
from app.errors import Conflict, ErrorCode
from app.orders import store
from app.orders.models import Order, Refund
from app.orders.notifications import refund_failed_alert
from app.orders.settlement import settle, settle_latest
from app.orders.store import Session
from app.payments.types import RefundResult

log = logging.getLogger("app.orders.refunds")


async def apply_provider_refunds(
    *, order_id: PydanticObjectId, refunds: list[RefundResult], actor: str = "provider"
) -> Order:
    """Bring the order's refunds in line with the provider's list of them (a `charge.refunded`
    or `refund.failed` webhook, a refund made in the provider's dashboard, the job).

    Each refund of the provider's is matched to one of ours by its provider id, then (while
    ours is pending) by its reference (`refund-<our refund id>`, the key we asked with): for
    a pending one, `succeeded` completes it, `failed` (or cancelled) fails it and gives its
    amount back, `pending` leaves it be; one that succeeded and is now `failed` failed later:
    its amount is taken back out of `amount_refunded` and the active admins are emailed,
    in the same transaction (see app/orders/provider_refunds.py). A succeeded one we never asked for
    is recorded as made by the provider. Refunding everything makes the order `refunded` (and
    restocks it when nothing shipped); less keeps its status, with `payment.status` saying
    what was given back (`refund_failed` when a cancelled or refunded order owes some).
    Applying the same list twice, or concurrently, changes nothing twice.
    """
    for _ in range(5):

        async def work(session: Session) -> tuple[Order, bool] | None:
            order = await store.reload(order_id, session=session)
            changes = _match_provider_refunds(order, refunds, actor=actor)
            if changes is None:
                return order, True
            updated, released, made_elsewhere, failed_later = changes
            # The provider's word is the truth: recorded even past what we thought was left.
            changed = await store.update(
                order_id,
                {"payment.refunds_version": order.payment.refunds_version},
                {
                    "$set": {"payment.refunds": [refund.model_dump() for refund in updated]},
                    "$inc": {
                        "payment.refunds_version": 1,
                        "payment.amount_refunded": sum(r.amount for r in made_elsewhere) - released,
                    },
                },
                session=session,
            )
            if changed is None:
                return None  # changed meanwhile: read it again
            for refund in failed_later:
                log.error(
                    "order %s: refund %s (%s) failed after it succeeded: %s",
                    changed.number,
                    refund.id,
                    refund.amount,
                    refund.failure_reason,
                )
                await refund_failed_alert(changed, refund, session=session)
            settled = await settle(changed, actor=actor, session=session)
            return (settled, True) if settled is not None else (changed, False)

        outcome = await db.run_in_transaction(work)
        if outcome is None:
            continue
        order, settled = outcome
        # Its status changed as it was settled (no transactions): settle it as it is now.
        return order if settled else await settle_latest(order_id, actor=actor)
    raise Conflict("The order's refunds changed concurrently; try again.", code=ErrorCode.CONFLICT)


def _match_provider_refunds(
    order: Order, results: list[RefundResult], *, actor: str
) -> tuple[list[Refund], int, list[Refund], list[Refund]] | None:
    """The order's refunds after the provider's list, the amount given back to the order
    (failed refunds), the refunds made elsewhere, and those that failed after they succeeded;
    None when the list changes nothing."""
    open_ = [r for r in order.payment.refunds if r.status in ("pending", "succeeded")]
    by_provider_id = {r.provider_refund_id: r for r in open_ if r.provider_refund_id}
    by_reference = {f"refund-{r.id}": r for r in open_ if r.status == "pending"}
    known = {r.provider_refund_id for r in order.payment.refunds if r.provider_refund_id}
    completing: dict[PydanticObjectId, str] = {}
    failing: dict[PydanticObjectId, str] = {}
    made_elsewhere: list[Refund] = []
    for result in results:
        mine = by_provider_id.get(result.id) or by_reference.get(result.reference or "")
        if mine is not None:
            if mine.id in completing or mine.id in failing:
                continue
            if result.status == "failed":
                failing[mine.id] = (result.failure_reason or "failed")[:200]
            elif result.status == "succeeded" and mine.status == "pending":
                completing[mine.id] = result.id
            continue  # still pending at the provider, or succeeded as we know
        if result.status != "succeeded" or result.id in known:
            continue
        made_elsewhere.append(
            Refund(
                amount=result.amount,
                reason="refunded at the payment provider",
                status="succeeded",
                provider_refund_id=result.id,
                actor=actor,
            )
        )
    if not completing and not failing and not made_elsewhere:
        return None
    updated = [refund.model_copy() for refund in order.payment.refunds]
    released = 0
    failed_later: list[Refund] = []
    for refund in updated:
        if refund.id in completing:
            refund.status = "succeeded"
            refund.provider_refund_id = completing[refund.id]
        elif refund.id in failing:
            if refund.status == "succeeded":
                failed_later.append(refund)
            refund.status = "failed"  # the reservation is given back: it can be retried
            refund.failure_reason, refund.failed_at = failing[refund.id], utcnow()
            released += refund.amount
    updated.extend(made_elsewhere)
    log.info(
        "order %s: provider refunds applied (%d completed, %d failed, %d failed after they "
        "succeeded, %d made elsewhere)",
        order.number,
        len(completing),
        len(failing) - len(failed_later),
        len(failed_later),
        len(made_elsewhere),
    )
    return updated, released, made_elsewhere, failed_later
