"""Disputes (chargebacks): signed `charge.dispute.created` / `.updated` / `.closed` events are
recorded on the order's payment, once each, in any order, and every active admin is emailed
when a dispute opens and when it closes, in the transaction that records it.

localstripe has no disputes: the events carry a Stripe Dispute object built around the
emulator's own charge of the order, signed as Stripe signs them.
"""

from __future__ import annotations

import secrets
import time

import pytest

from app.email.models import OutboxEmail
from app.orders.models import Order
from app.payments.models import PaymentEvent
from tests.support.payments import make_event

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def dispute_event(stripe_api):
    """`await dispute_event(order, kind, status=..., created=...)`: a dispute event of the
    order's charge (`.dispute` of the fixture is the last dispute id used)."""
    ids: dict[str, str] = {}

    async def build(order: dict, kind: str, *, status: str, at: int | None = None, **more):
        intent_id = order["payment"]["intent_id"]
        intent = (await stripe_api.payment_intents.retrieve_async(intent_id)).to_dict()
        charge = intent["latest_charge"]
        dispute_id = ids.setdefault(order["id"], f"dp_{secrets.token_hex(12)}")
        opened = int(time.time()) - 3600
        dispute = {
            "id": dispute_id,
            "object": "dispute",
            "amount": 3800,
            "currency": "usd",
            "charge": charge["id"] if isinstance(charge, dict) else charge,
            "payment_intent": intent_id,
            "reason": "fraudulent",
            "status": status,
            "created": opened,
            "is_charge_refundable": False,
            "livemode": False,
            "metadata": {},
            **more,
        }
        event = make_event(kind, dispute)
        event["created"] = at if at is not None else int(time.time())
        return event

    return build


async def dispute_emails() -> list[OutboxEmail]:
    return await OutboxEmail.find({"kind": "payment_dispute"}).sort("_id").to_list()


@pytest.fixture
async def admins(create_user, admin):
    """Two active admins and one deactivated (who gets nothing)."""
    second, _ = await create_user(email="second-admin@example.com", role="admin")
    await create_user(email="former-admin@example.com", role="admin", is_active=False)
    return sorted([admin[0].email, second.email])


async def test_a_dispute_is_recorded_and_every_active_admin_is_emailed(
    placed_order, dispute_event, deliver, admins, customer
):
    order = await placed_order(paid=True)
    event = await dispute_event(order, "charge.dispute.created", status="needs_response")

    response = await deliver(event)

    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["result"] == "dispute opened"
    stored = await Order.get(order["id"])
    assert stored.status == "paid"  # a dispute does not move the order
    (dispute,) = stored.payment.disputes
    sent = event["data"]["object"]
    assert (dispute.id, dispute.amount, dispute.currency) == (sent["id"], 3800, "usd")
    assert (dispute.reason, dispute.status, dispute.charge_id) == (
        "fraudulent",
        "needs_response",
        sent["charge"],
    )
    assert int(dispute.created_at.timestamp()) == sent["created"]
    assert dispute.closed_at is None
    emails = await dispute_emails()
    assert sorted(e.to for e in emails) == admins
    assert customer[0].email not in [e.to for e in emails]
    assert order["number"] in emails[0].subject and "38.00 USD" in emails[0].subject
    assert sent["id"] in emails[0].text and "fraudulent" in emails[0].text


async def test_the_same_event_delivered_again_is_recorded_and_mailed_once(
    placed_order, dispute_event, deliver, admins
):
    order = await placed_order(paid=True)
    event = await dispute_event(order, "charge.dispute.created", status="needs_response")

    first, again = await deliver(event), await deliver(event)

    assert (await again.get_json())["duplicate"] is True
    assert first.status_code == again.status_code == 200
    assert len((await Order.get(order["id"])).payment.disputes) == 1
    assert len(await dispute_emails()) == len(admins)


async def test_an_event_applied_twice_after_a_lost_acknowledgement_changes_nothing_twice(
    placed_order, dispute_event, deliver, admins
):
    """The worker applied the event and died before marking it done: the redelivery applies
    it again, and finds nothing to change (no second email)."""
    order = await placed_order(paid=True)
    event = await dispute_event(order, "charge.dispute.created", status="needs_response")
    await deliver(event)
    await PaymentEvent.get_pymongo_collection().delete_one({"_id": event["id"]})

    response = await deliver(event)

    assert (await response.get_json())["result"] == "unchanged"
    assert len((await Order.get(order["id"])).payment.disputes) == 1
    assert len(await dispute_emails()) == len(admins)


async def test_a_dispute_is_followed_to_its_close(placed_order, dispute_event, deliver, admins):
    order = await placed_order(paid=True)
    now = int(time.time())
    created = await dispute_event(
        order, "charge.dispute.created", status="needs_response", at=now - 60
    )
    reviewed = await dispute_event(
        order, "charge.dispute.updated", status="under_review", at=now - 30
    )
    closed = await dispute_event(order, "charge.dispute.closed", status="lost", at=now)

    results = [(await (await deliver(e)).get_json())["result"] for e in (created, reviewed, closed)]

    assert results == ["dispute opened", "dispute updated", "dispute closed"]
    (dispute,) = (await Order.get(order["id"])).payment.disputes
    assert dispute.status == "lost" and int(dispute.closed_at.timestamp()) == now
    emails = await dispute_emails()
    assert len(emails) == 2 * len(admins)  # opened, closed: not the review in between
    assert "Dispute lost" in emails[-1].subject and "stays with the customer" in emails[-1].text


async def test_events_out_of_order_end_the_same(placed_order, dispute_event, deliver, admins):
    """The close arrives first, then the older creation and update: they change nothing (a
    closed dispute stays closed) and mail nobody again."""
    order = await placed_order(paid=True)
    now = int(time.time())
    created = await dispute_event(
        order, "charge.dispute.created", status="needs_response", at=now - 60
    )
    reviewed = await dispute_event(
        order, "charge.dispute.updated", status="under_review", at=now - 30
    )
    closed = await dispute_event(order, "charge.dispute.closed", status="won", at=now)

    results = [(await (await deliver(e)).get_json())["result"] for e in (closed, created, reviewed)]

    assert results == ["dispute closed", "unchanged", "unchanged"]
    (dispute,) = (await Order.get(order["id"])).payment.disputes
    assert dispute.status == "won" and dispute.closed_at is not None
    emails = await dispute_emails()
    assert len(emails) == len(admins) and all("Dispute won" in e.subject for e in emails)


async def test_the_admin_sees_disputes_and_the_customer_does_not(
    placed_order, dispute_event, deliver, client, admin, customer
):
    order = await placed_order(paid=True)
    await deliver(await dispute_event(order, "charge.dispute.created", status="needs_response"))

    seen = await (await client.get(f"/api/v1/admin/orders/{order['id']}", headers=admin[1])).json
    mine = await (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).json

    (dispute,) = seen["payment"]["disputes"]
    assert dispute["status"] == "needs_response" and dispute["amount"] == 3800
    assert dispute["created_at"].endswith("Z") and dispute["closed_at"] is None
    assert "disputes" not in mine["payment"]


async def test_the_record_and_the_emails_are_one_transaction(
    placed_order, dispute_event, deliver, admins, monkeypatch
):
    """Writing the admins' email fails: the dispute is not recorded either, and the event is
    given back so that Stripe's next delivery records both."""
    from app.email import service as email

    order = await placed_order(paid=True)
    event = await dispute_event(order, "charge.dispute.created", status="needs_response")
    real = email.enqueue_many

    async def broken(**kwargs):
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(email, "enqueue_many", broken)
    failed = await deliver(event)
    assert failed.status_code == 500
    assert (await Order.get(order["id"])).payment.disputes == []
    assert await PaymentEvent.get(event["id"]) is None

    monkeypatch.setattr(email, "enqueue_many", real)
    retried = await deliver(event)
    assert (await retried.get_json())["result"] == "dispute opened"
    assert len((await Order.get(order["id"])).payment.disputes) == 1
    assert len(await dispute_emails()) == len(admins)


async def test_a_dispute_of_an_unknown_payment_is_acknowledged(deliver):
    dispute = {"id": "dp_unknown", "object": "dispute", "amount": 500, "currency": "usd"}
    dispute |= {"charge": "ch_x", "payment_intent": "pi_nobody", "status": "needs_response"}

    response = await deliver(make_event("charge.dispute.created", dispute))

    assert response.status_code == 200
    assert (await response.get_json())["result"] == "unknown_order"
    assert await dispute_emails() == []


async def test_the_openapi_document_describes_an_orders_disputes_for_admins(client):
    document = await (await client.get("/openapi.json")).get_json()
    schemas = document["components"]["schemas"]
    admin_view = document["paths"]["/api/v1/admin/orders/{order_id}"]["get"]["responses"]["200"]
    admin_order = admin_view["content"]["application/json"]["schema"]
    assert admin_order["properties"]["payment"] == {"$ref": "#/components/schemas/AdminPaymentOut"}
    disputes = schemas["AdminPaymentOut"]["properties"]["disputes"]
    assert disputes["items"] == {"$ref": "#/components/schemas/DisputeOut"}
    assert "disputes" in schemas["AdminPaymentOut"]["required"]
    assert set(schemas["DisputeOut"]["required"]) >= {"id", "amount", "status", "created_at"}
    assert "disputes" not in schemas["PaymentOut"]["properties"]
