"""Paying an order through the dev gateway (Stripe's test payment methods)."""

from __future__ import annotations

import asyncio

import pytest

from app.email.models import OutboxEmail
from app.orders.models import Order
from app.payments.models import DevPaymentIntent

pytestmark = pytest.mark.usefixtures("app")


async def status_emails(order_number: str) -> list[str]:
    rows = await OutboxEmail.find({"kind": "order_status"}).sort("_id").to_list()
    return [row.subject for row in rows if order_number in row.subject]


async def test_a_good_card_pays_the_order(customer, placed_order, pay):
    _, headers = customer
    order = await placed_order()

    response = await pay(order["id"], headers, "pm_card_visa")

    assert response.status_code == 200
    paid = await response.get_json()
    assert paid["status"] == "paid"
    assert paid["payment"]["status"] == "succeeded"
    assert [h["status"] for h in paid["history"]] == ["pending_payment", "paid"]
    assert len(await status_emails(order["number"])) == 2
    intent = await DevPaymentIntent.get(order["payment"]["intent_id"])
    assert intent.status == "succeeded" and intent.amount == 3800


@pytest.mark.parametrize(
    "method,reason",
    [
        ("pm_card_chargeDeclined", "card_declined"),
        ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
        ("pm_card_doesNotExist", "payment_method_unknown"),
    ],
)
async def test_a_declined_card_leaves_the_order_waiting(
    customer, placed_order, pay, method, reason
):
    _, headers = customer
    order = await placed_order()

    response = await pay(order["id"], headers, method)

    assert response.status_code == 402
    problem = await response.get_json()
    assert problem["code"] == "payment_declined" and problem["decline_code"] == reason
    stored = await Order.get(order["id"])
    assert stored.status == "pending_payment"
    assert stored.payment.status == "declined" and stored.payment.failure_reason == reason
    assert len(await status_emails(order["number"])) == 1  # only the confirmation

    retry = await pay(order["id"], headers, "pm_card_visa")
    assert retry.status_code == 200 and (await retry.get_json())["status"] == "paid"


@pytest.mark.parametrize("method", ["", "card_visa", "pm_", "pm_card visa", 42, None])
async def test_malformed_payment_methods_are_422(customer, placed_order, client, method):
    _, headers = customer
    order = await placed_order()
    response = await client.post(
        f"/api/v1/orders/{order['id']}/pay", json={"payment_method": method}, headers=headers
    )
    assert response.status_code == 422
    assert (await Order.get(order["id"])).status == "pending_payment"


async def test_paying_twice_is_a_conflict_and_charges_once(customer, placed_order, pay):
    _, headers = customer
    order = await placed_order(paid=True)

    again = await pay(order["id"], headers)

    assert again.status_code == 409
    assert (await again.get_json())["code"] == "invalid_transition"
    stored = await Order.get(order["id"])
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]


async def test_concurrent_pays_charge_once(customer, placed_order, pay):
    _, headers = customer
    order = await placed_order()

    responses = await asyncio.gather(*(pay(order["id"], headers) for _ in range(5)))

    codes = sorted(r.status_code for r in responses)
    assert 200 in codes and set(codes) <= {200, 409}, codes
    stored = await Order.get(order["id"])
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]
    assert len(await status_emails(order["number"])) == 2


async def test_pay_with_an_idempotency_key_replays(customer, placed_order, pay):
    _, headers = customer
    order = await placed_order()

    first = await pay(order["id"], headers, key="pay-1")
    second = await pay(order["id"], headers, key="pay-1")

    assert first.status_code == second.status_code == 200
    assert await first.get_json() == await second.get_json()


async def test_another_users_order_is_404(create_user, placed_order, pay, client):
    order = await placed_order()
    _, stranger = await create_user()

    assert (await pay(order["id"], stranger)).status_code == 404
    assert (await client.get(f"/api/v1/orders/{order['id']}", headers=stranger)).status_code == 404
    cancel = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=stranger)
    assert cancel.status_code == 404
    assert (await Order.get(order["id"])).status == "pending_payment"


async def test_unknown_and_malformed_order_ids_are_404(customer, pay):
    _, headers = customer
    assert (await pay("0123456789abcdef01234567", headers)).status_code == 404
    assert (await pay("nope", headers)).status_code == 404


async def test_my_orders_newest_first_and_only_mine(create_user, placed_order, client):
    me = await create_user()
    other = await create_user()
    first = await placed_order(user=me)
    second = await placed_order(user=me)
    await placed_order(user=other)

    response = await client.get("/api/v1/orders?per_page=1", headers=me[1])

    page = await response.get_json()
    assert page["total"] == 2 and page["pages"] == 2
    assert [o["id"] for o in page["items"]] == [second["id"]]
    page2 = await (await client.get("/api/v1/orders?page=2&per_page=1", headers=me[1])).get_json()
    assert [o["id"] for o in page2["items"]] == [first["id"]]
    assert page2["items"][0]["total"] == 3800 and page2["items"][0]["item_count"] == 3


@pytest.mark.parametrize("difference", [-100, +100], ids=["underpaid", "overpaid"])
async def test_a_payment_of_another_amount_is_flagged_not_paid(
    customer, placed_order, pay, difference
):
    """The provider took a different amount from the order's total (an intent changed
    elsewhere): less or more, the order is flagged for an admin, never marked paid."""
    _, headers = customer
    order = await placed_order()
    await DevPaymentIntent.get_pymongo_collection().update_one(
        {"_id": order["payment"]["intent_id"]}, {"$set": {"amount": 3800 + difference}}
    )

    response = await pay(order["id"], headers, "pm_card_visa")

    assert response.status_code == 200
    body = await response.get_json()
    assert body["status"] == "pending_payment"
    assert body["payment"]["status"] == "amount_mismatch"
    assert str(3800 + difference) in body["payment"]["failure_reason"]
    stored = await Order.get(order["id"])
    assert [h.status for h in stored.history] == ["pending_payment"]
    assert len(await status_emails(order["number"])) == 1  # no "paid" email
