"""Cancelling an order whose payment did not match (`amount_mismatch`: the provider took
money, not the order's total) gives back exactly what was taken, once, through the same
reserved refund as any paid order's cancel (a refusal leaves it owed and retried); an
admin's refund never gives back more than was taken; expiry leaves such orders alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from beanie import PydanticObjectId

from app.core.clock import utcnow
from app.orders import cancellation, jobs
from app.orders.models import Order
from app.payments.models import DevPaymentIntent
from tests.support.orders import make_due, provider_refunded, stock_of

pytestmark = pytest.mark.usefixtures("app")

UNDER, OVER = 3000, 4500  # the order's total is 3800


async def charge_differently(order: dict, received: int) -> None:
    """The intent was changed at the provider (its dashboard, a bug): it takes `received`."""
    await DevPaymentIntent.get_pymongo_collection().update_one(
        {"_id": order["payment"]["intent_id"]}, {"$set": {"amount": received}}
    )


@pytest.fixture
def mismatched(placed_order, pay, customer):
    """`await mismatched(received)` -> an order of 3800 whose provider took `received`."""

    async def make(received: int) -> dict:
        order = await placed_order()
        await charge_differently(order, received)
        if received < 3800:  # the customer pays; the order is flagged, not paid
            assert (await pay(order["id"], customer[1])).status_code < 500
        else:
            # Overpayments are flagged by another change; here the provider took the money
            # and the order is flagged as `record_success` flags an underpayment.
            await DevPaymentIntent.get_pymongo_collection().update_one(
                {"_id": order["payment"]["intent_id"]}, {"$set": {"status": "succeeded"}}
            )
            await Order.get_pymongo_collection().update_one(
                {"_id": PydanticObjectId(order["id"])},
                {
                    "$set": {
                        "payment.status": "amount_mismatch",
                        "payment.amount_received": received,
                        "payment.failure_reason": f"provider reported {received} usd",
                    }
                },
            )
        stored = await Order.get(order["id"])
        assert stored.status == "pending_payment"
        assert stored.payment.status == "amount_mismatch"
        assert stored.payment.amount_received == received
        return order

    return make


@pytest.mark.parametrize("by", ["customer", "admin"])
@pytest.mark.parametrize("received", [UNDER, OVER])
async def test_cancelling_a_mismatched_order_gives_back_what_was_taken(
    mismatched, cancel, provider, stock, received, by
):
    order = await mismatched(received)

    status, body = await cancel(order["id"], by)

    assert status == 200, body
    assert body["status"] == "cancelled" and body["payment"]["status"] == "refunded"
    assert body["payment"]["amount_received"] == received
    assert body["payment"]["amount_refunded"] == received
    assert [(r["status"], r["amount"]) for r in body["payment"]["refunds"]] == [
        ("succeeded", received)
    ]
    assert await provider_refunded(order) == received
    assert [amount for _, amount in provider.asked] == [received]
    assert await stock_of(stock.shirt) == 10 and await stock_of(stock.mug) == 3
    # Once: a second cancel is refused and asks the provider nothing.
    status, body = await cancel(order["id"], by)
    assert status == 409 and body["code"] == "invalid_transition"
    assert len(provider.asked) == 1


@pytest.mark.parametrize("received", [UNDER, OVER])
async def test_a_refused_refund_of_a_mismatched_payment_is_owed_and_capped_at_what_was_taken(
    mismatched, cancel, provider, admin_refund, received
):
    order = await mismatched(received)
    provider.refusing = True

    status, body = await cancel(order["id"])

    assert status == 200 and body["status"] == "cancelled"
    assert body["payment"]["status"] == "refund_failed"
    assert body["payment"]["amount_refunded"] == 0
    assert [(r["status"], r["amount"]) for r in body["payment"]["refunds"]] == [
        ("failed", received)
    ]
    # An admin can never give back more than the provider took.
    status, body = await admin_refund(order["id"], amount=received + 1)
    assert status == 422 and body["code"] == "refund_exceeds_payment"
    assert len(provider.asked) == 1

    provider.refusing = False
    await make_due(order["id"])
    assert await jobs.retry_owed_refunds() == 1

    stored = await Order.get(order["id"])
    assert stored.payment.status == "refunded" and stored.payment.amount_refunded == received
    assert [(r.status, r.amount) for r in stored.payment.refunds] == [
        ("failed", received),
        ("succeeded", received),
    ]
    assert await provider_refunded(order) == received
    status, body = await admin_refund(order["id"])
    assert status == 422 and body["code"] == "refund_exceeds_payment"


async def test_an_admin_refunds_an_underpaid_order_up_to_what_was_taken(
    mismatched, cancel, provider, admin_refund
):
    order = await mismatched(UNDER)
    status, body = await admin_refund(order["id"])  # not cancelled yet: nothing to refund
    assert status == 409 and body["code"] == "not_refundable"
    provider.refusing = True
    await cancel(order["id"])
    provider.refusing = False

    status, body = await admin_refund(order["id"], amount=3800)  # the total: never taken
    assert status == 422 and body["code"] == "refund_exceeds_payment"
    status, body = await admin_refund(order["id"], amount=1000)
    assert status == 200 and body["payment"]["amount_refunded"] == 1000
    status, body = await admin_refund(order["id"])  # the rest of what was taken

    assert status == 200, body
    assert body["payment"]["status"] == "refunded" and body["payment"]["amount_refunded"] == UNDER
    assert await provider_refunded(order) == UNDER
    assert [amount for _, amount in provider.asked] == [UNDER, 1000, UNDER - 1000]


async def test_a_payment_flagged_while_the_cancel_was_deciding_is_given_back(
    placed_order, pay, customer, provider
):
    """The cancel read the order unpaid; the mismatched payment was recorded before it
    moved: the cancel does not keep the money (it reads the order again and refunds it)."""
    order = await placed_order()
    read_before = await Order.get(order["id"])
    await charge_differently(order, UNDER)
    await pay(order["id"], customer[1])

    cancelled = await cancellation.cancel(order=read_before, actor="customer")

    assert cancelled.status == "cancelled" and cancelled.payment.status == "refunded"
    assert cancelled.payment.amount_refunded == UNDER
    assert await provider_refunded(order) == UNDER


async def test_expiry_leaves_a_mismatched_order_for_an_admin(mismatched, provider):
    order = await mismatched(UNDER)
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(order["id"])},
        {"$set": {"created_at": utcnow() - timedelta(hours=2)}},
    )

    assert await cancellation.expire_unpaid_orders(older_than_seconds=60) == 0

    stored = await Order.get(order["id"])
    assert stored.status == "pending_payment" and stored.payment.status == "amount_mismatch"
    assert provider.asked == [] and await provider_refunded(order) == 0


async def test_a_mismatched_payment_reported_after_the_cancel_is_given_back_once(
    placed_order, cancel, provider
):
    """It went through at the provider as the order was cancelled (or its webhook came
    late): what it took is given back, once however often it is reported. (An overpayment
    takes this path once overpayments are flagged too.)"""
    received = UNDER
    from app.orders import payments
    from app.payments.gateway import gateway

    order = await placed_order()
    assert (await cancel(order["id"]))[0] == 200
    await DevPaymentIntent.get_pymongo_collection().update_one(
        {"_id": order["payment"]["intent_id"]},
        {"$set": {"amount": received, "status": "succeeded"}},
    )
    intent = await gateway().retrieve(intent_id=order["payment"]["intent_id"])
    order_id = PydanticObjectId(order["id"])

    for _ in range(2):  # told twice (a redelivered webhook, reconciliation)
        after = await payments.record_success(order_id=order_id, intent=intent, actor="provider")

    assert after.status == "cancelled" and after.payment.status == "refunded"
    assert after.payment.amount_received == received
    assert [(r.status, r.amount) for r in after.payment.refunds] == [("succeeded", received)]
    assert await provider_refunded(order) == received
    assert len(provider.asked) == 1
