"""The order state machine through the admin and shopper routes."""

from __future__ import annotations

import asyncio

import pytest

from app.email.models import OutboxEmail
from app.orders.models import Order
from app.orders.state import TRANSITIONS
from tests.support.orders import stock_of

pytestmark = pytest.mark.usefixtures("app")

ALL = ["pending_payment", "paid", "processing", "shipped", "delivered", "cancelled", "refunded"]
# How to bring a fresh (pending_payment) order to each status, by admin moves after paying.
PATH_TO = {
    "pending_payment": [],
    "paid": ["paid"],
    "processing": ["paid", "processing"],
    "shipped": ["paid", "processing", "shipped"],
    "delivered": ["paid", "processing", "shipped", "delivered"],
    "cancelled": ["cancelled"],
    "refunded": ["paid", "refunded"],
}


@pytest.fixture
def move(client, admin):
    _, headers = admin

    async def to(order_id: str, status: str, **extra):
        body = {"status": status, **extra}
        if status == "shipped":
            body.setdefault("tracking_number", "1Z999AA10123456784")
        return await client.post(
            f"/api/v1/admin/orders/{order_id}/status", json=body, headers=headers
        )

    return to


@pytest.fixture
def order_in(customer, placed_order, pay, move):
    async def bring(status: str) -> dict:
        order = await placed_order()
        for step in PATH_TO[status]:
            if step == "paid":
                response = await pay(order["id"], customer[1])
            else:
                response = await move(order["id"], step)
            assert response.status_code == 200, await response.get_data(as_text=True)
        return order

    return bring


LEGAL = [(a, b) for a in ALL for b in ALL if b in TRANSITIONS[a] and b != "paid"]
ILLEGAL = [(a, b) for a in ALL for b in ALL if b not in TRANSITIONS[a]]


@pytest.mark.parametrize("current,target", LEGAL)
async def test_every_legal_admin_transition(order_in, move, current, target):
    order = await order_in(current)
    emails_before = await OutboxEmail.find({"kind": "order_status"}).count()

    response = await move(order["id"], target)

    assert response.status_code == 200, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["status"] == target
    assert body["history"][-1]["status"] == target
    assert body["history"][-1]["actor"].startswith("admin:")
    emails = await OutboxEmail.find({"kind": "order_status"}).sort("-_id").to_list()
    assert len(emails) == emails_before + 1
    assert target.split("_")[0] in emails[0].subject.lower() or target == "processing"


@pytest.mark.parametrize("current,target", ILLEGAL)
async def test_every_illegal_transition_is_409_and_changes_nothing(order_in, move, current, target):
    order = await order_in(current)
    before = await Order.get(order["id"])

    response = await move(order["id"], target)

    assert response.status_code == 409, await response.get_data(as_text=True)
    assert (await response.get_json())["code"] == "invalid_transition"
    after = await Order.get(order["id"])
    assert after.status == before.status and len(after.history) == len(before.history)


async def test_paid_only_comes_from_the_payment_provider(order_in, move):
    order = await order_in("pending_payment")
    response = await move(order["id"], "paid")
    assert response.status_code == 409


async def test_shipping_needs_a_tracking_number(order_in, move, client, customer):
    order = await order_in("processing")

    missing = await move(order["id"], "shipped", tracking_number=None)
    assert missing.status_code == 422

    shipped = await move(order["id"], "shipped", tracking_number="TRACK-123", note="DHL")
    body = await shipped.get_json()
    assert body["tracking_number"] == "TRACK-123"
    mine = await (await client.get(f"/api/v1/orders/{order['id']}", headers=customer[1])).get_json()
    assert mine["tracking_number"] == "TRACK-123"
    assert mine["history"][-1] == {
        "status": "shipped",
        "at": mine["history"][-1]["at"],
        "note": "DHL",
    }
    email = await OutboxEmail.find({"kind": "order_status"}).sort("-_id").first_or_none()
    assert "TRACK-123" in email.text and "shipped" in email.subject


async def test_two_admins_racing_one_wins(order_in, move):
    order = await order_in("processing")

    responses = await asyncio.gather(move(order["id"], "shipped"), move(order["id"], "cancelled"))

    assert sorted(r.status_code for r in responses) == [200, 409]
    stored = await Order.get(order["id"])
    assert len(stored.history) == 4  # pending_payment, paid, processing, and one winner


async def test_customer_cancel_of_an_unpaid_order_restocks(order_in, client, customer, stock):
    order = await order_in("pending_payment")
    assert await stock_of(stock.shirt) == 8

    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])

    assert response.status_code == 200
    body = await response.get_json()
    assert body["status"] == "cancelled" and body["payment"]["status"] == "cancelled"
    assert await stock_of(stock.shirt) == 10 and await stock_of(stock.mug) == 3


async def test_customer_cancel_of_a_paid_order_restocks_and_refunds(
    order_in, client, customer, stock
):
    order = await order_in("paid")

    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])

    body = await response.get_json()
    assert body["status"] == "cancelled"
    assert body["payment"]["status"] == "refunded"
    assert body["payment"]["amount_refunded"] == 3800
    assert [r["status"] for r in body["payment"]["refunds"]] == ["succeeded"]
    assert await stock_of(stock.shirt) == 10
    from app.payments.models import DevPaymentIntent

    assert (await DevPaymentIntent.get(body["payment"]["intent_id"])).amount_refunded == 3800


@pytest.mark.parametrize("status", ["shipped", "delivered", "cancelled", "refunded"])
async def test_customer_cannot_cancel_after_shipping(order_in, client, customer, status):
    order = await order_in(status)
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "invalid_transition"


async def test_cancel_twice_restocks_once(order_in, client, customer, stock):
    order = await order_in("pending_payment")
    responses = await asyncio.gather(
        *(
            client.post(f"/api/v1/orders/{order['id']}/cancel", headers=customer[1])
            for _ in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409]
    assert await stock_of(stock.shirt) == 10


async def test_an_email_per_transition_arrives_over_smtp(settings, customer, order_in, smtp_server):
    from app.email.backends import backend_from_settings
    from app.email.sender import EmailSender

    order = await order_in("delivered")
    smtp_settings = settings.model_copy(
        update={"SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_server.port, "SMTP_STARTTLS": False}
    )
    sender = EmailSender(backend=backend_from_settings(smtp_settings), settings=smtp_settings)
    await sender.process_due()

    arrived = smtp_server.inbox.to(customer[0].email)
    subjects = [message["Subject"] for message in arrived]
    assert len(subjects) == 5, subjects
    assert "awaiting payment" in subjects[0]
    words = ["paid", "prepared", "shipped", "delivered"]
    for word, subject in zip(words, subjects[1:], strict=True):
        assert order["number"] in subject and word in subject
    shipped = arrived[3]
    assert "1Z999AA10123456784" in shipped.get_body(("plain",)).get_content()
    assert f"http://frontend.test/orders/{order['id']}" in shipped.get_body(("html",)).get_content()
