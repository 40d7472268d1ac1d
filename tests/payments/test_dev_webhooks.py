"""The dev provider's webhooks (DEV_WEBHOOK_SECRET): Stripe-format events signed with that
secret, applied from the provider's own records, never from the event's body. The
fault-injection load test plays the provider with them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from beanie import PydanticObjectId

from app.core.clock import as_utc
from app.orders.models import Order
from app.payments.models import DevPaymentIntent, PaymentEvent
from tests.support.payments import WEBHOOK_SECRET, event_body, make_event, sign, status_emails

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def settings_overrides() -> dict:
    return {"PAYMENT_PROVIDER": "dev", "DEV_WEBHOOK_SECRET": WEBHOOK_SECRET}


def succeeded(order: dict, *, event_id: str = "evt_dev_1") -> dict:
    event = make_event(
        "payment_intent.succeeded",
        {
            "id": order["payment"]["intent_id"],
            "object": "payment_intent",
            "amount": order["total"],
            "amount_received": order["total"],
            "currency": order["currency"],
            "status": "succeeded",
            "metadata": {"order_id": order["id"]},
        },
    )
    event["id"] = event_id
    return event


async def confirm_at_provider(intent_id: str) -> None:
    """The customer pays on the provider's page (not through `/pay`)."""
    changed = await DevPaymentIntent.get_pymongo_collection().update_one(
        {"_id": intent_id, "status": "requires_payment_method"},
        {"$set": {"status": "succeeded", "payment_method": "pm_card_visa"}},
    )
    assert changed.modified_count == 1


async def test_a_signed_event_for_a_payment_the_provider_took_pays_the_order(placed_order, deliver):
    order = await placed_order()
    await confirm_at_provider(order["payment"]["intent_id"])

    first = await deliver(succeeded(order))
    again = await deliver(succeeded(order))

    assert first.status_code == 200, await first.get_data(as_text=True)
    assert (await first.get_json())["result"] == "paid"
    assert (await again.get_json())["duplicate"] is True
    stored = await Order.get(order["id"])
    assert [h.status for h in stored.history] == ["pending_payment", "paid"]
    assert (await PaymentEvent.get("evt_dev_1")).status == "done"
    assert (await status_emails(order["number"])).count(f"Order {order['number']}: paid") == 1


async def test_an_event_claiming_a_payment_the_provider_never_took_changes_nothing(
    placed_order, deliver
):
    order = await placed_order()  # the intent still requires a payment method

    response = await deliver(succeeded(order))

    assert response.status_code == 200
    assert (await response.get_json())["result"] == "unchanged"
    assert (await Order.get(order["id"])).status == "pending_payment"


async def test_an_intent_that_never_reached_its_order_is_attached_and_the_order_says_when(
    placed_order, deliver
):
    """The process stopped between creating the intent and saving it on the order: the
    event finds the order by the id in the intent's metadata and attaches the intent, a
    change to the order like any other (its `updated_at` moves)."""
    order = await placed_order()  # not paid at the provider: attaching is all that changes
    intent_id = order["payment"]["intent_id"]
    long_ago = datetime(2020, 1, 1, tzinfo=UTC)
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(order["id"])},
        {"$set": {"payment.intent_id": None, "updated_at": long_ago}},
    )

    response = await deliver(succeeded(order))

    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["result"] == "unchanged"
    stored = await Order.get(order["id"])
    assert stored.payment.intent_id == intent_id
    assert stored.payment.status == "requires_payment"
    assert as_utc(stored.updated_at) > long_ago


@pytest.mark.parametrize("secret", ["whsec_someone_else", None])
async def test_an_event_not_signed_with_the_secret_is_refused(placed_order, client, secret):
    order = await placed_order()
    await confirm_at_provider(order["payment"]["intent_id"])
    body = event_body(succeeded(order))
    headers = {"Content-Type": "application/json"}
    if secret:
        headers["Stripe-Signature"] = sign(body, secret=secret)

    response = await client.post("/api/v1/payments/webhook", data=body, headers=headers)

    assert response.status_code == 400
    assert (await response.get_json())["code"] == "webhook_signature_invalid"
    assert (await Order.get(order["id"])).status == "pending_payment"
