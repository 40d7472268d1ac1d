"""A refund Stripe completes and that fails later (`pm_card_refundFail`: the refund
succeeds, then a `refund.failed` and a `charge.refund.updated` say it failed), told by
signed webhooks, over real HTTP against localstripe: the debt is open again once however
often and however concurrently the events come, the admins are emailed, and the job gives
the money back."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.email.models import OutboxEmail
from app.orders import jobs
from app.orders.models import Order
from tests.support.payments import charges_of, make_event

pytestmark = pytest.mark.usefixtures("app")

REASON = "expired_or_canceled_card"


async def refunded_at_stripe(stripe_api, order: dict) -> int:
    (charge,) = await charges_of(stripe_api, order["payment"]["intent_id"])
    return charge["amount_refunded"]


async def fail_at_stripe(stripe_api, refund_id: str) -> dict:
    """The refund fails at Stripe, days after it succeeded; its object as the events carry
    it."""
    await stripe_api.refunds.update_async(refund_id, {"status": "failed", "failure_reason": REASON})
    failed = (await stripe_api.refunds.retrieve_async(refund_id)).to_dict()
    assert (failed["status"], failed["failure_reason"]) == ("failed", REASON)
    return failed


async def test_a_refund_that_fails_later_reopens_the_debt_once(
    client, customer, admin, placed_order, stripe_api, deliver
):
    order = await placed_order(paid=True)
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])
    body = await response.get_json()
    assert response.status_code == 200 and body["payment"]["status"] == "refunded"
    [made] = (await Order.get(order["id"])).payment.refunds
    assert await refunded_at_stripe(stripe_api, order) == 3800
    failed = await fail_at_stripe(stripe_api, made.provider_refund_id)
    events = [make_event(kind, failed) for kind in ("refund.failed", "charge.refund.updated")]

    # Both events, each delivered twice, all at once.
    responses = await asyncio.gather(*(deliver(event) for event in events for _ in range(2)))

    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 409} and 200 in statuses, statuses
    for event in events:  # Stripe delivers again what was answered 409
        assert (await deliver(event)).status_code == 200
    stored = await Order.get(order["id"])
    assert stored.status == "cancelled" and stored.payment.status == "refund_failed"
    assert stored.payment.amount_refunded == 0  # 3800 taken back out once
    [refund] = stored.payment.refunds
    assert (refund.status, refund.failure_reason) == ("failed", REASON)
    assert stored.payment.refund_retry_at is not None
    alerts = await OutboxEmail.find({"kind": "refund_failed"}).to_list()
    assert [e.to for e in alerts] == [admin[0].email]
    assert order["number"] in alerts[0].subject and REASON in alerts[0].text
    assert await refunded_at_stripe(stripe_api, order) == 0

    # The job asks Stripe again once it is due; the money then reaches the customer.
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(order["id"])},
        {"$set": {"payment.refund_retry_at": utcnow() - timedelta(seconds=1)}},
    )
    assert await jobs.retry_owed_refunds() == 1
    stored = await Order.get(order["id"])
    assert stored.payment.status == "refunded" and stored.payment.amount_refunded == 3800
    assert [r.status for r in stored.payment.refunds] == ["failed", "succeeded"]
    assert await refunded_at_stripe(stripe_api, order) == 3800
    # The failure told again changes nothing.
    again = await deliver(make_event("refund.failed", failed))
    assert (await again.get_json())["result"] == "unchanged"
    assert (await Order.get(order["id"])).payment.amount_refunded == 3800


async def test_a_partial_refund_that_fails_later_on_a_paid_order(
    client, admin, placed_order, stripe_api, deliver
):
    order = await placed_order(paid=True)
    response = await client.post(
        f"/api/v1/admin/orders/{order['id']}/refund", json={"amount": 1200}, headers=admin[1]
    )
    assert (await response.get_json())["payment"]["status"] == "partially_refunded"
    [made] = (await Order.get(order["id"])).payment.refunds
    failed = await fail_at_stripe(stripe_api, made.provider_refund_id)

    response = await deliver(make_event("charge.refund.updated", failed))

    assert (await response.get_json())["result"] == "payment succeeded"
    stored = await Order.get(order["id"])
    assert stored.status == "paid" and stored.payment.amount_refunded == 0
    assert [(r.status, r.failure_reason) for r in stored.payment.refunds] == [("failed", REASON)]
    assert await OutboxEmail.find({"kind": "refund_failed"}).count() == 1
