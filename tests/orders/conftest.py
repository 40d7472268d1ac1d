"""Orders fixtures: a stocked shop, carts filled directly, checkout and admin helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from beanie import PydanticObjectId

from app.cart.models import Cart, CartLine
from app.catalog.models import Product
from app.core.clock import utcnow
from app.orders.models import Order
from app.payments.dev import DevGateway
from app.payments.models import DevPaymentIntent
from app.payments.types import RefundResult
from tests.email.conftest import SMTPServer

ADDRESS = {
    "name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "N1 9GU",
    "country": "GB",
}


@dataclass
class Stock:
    shirt: Product  # 1500, 10 in stock
    mug: Product  # 800, 3 in stock
    lamp: Product  # 4200, 5 in stock


@pytest.fixture
async def stock(make_category, make_product) -> Stock:
    home = await make_category("Home")
    return Stock(
        shirt=await make_product("Linen Shirt", home, price=1500, stock=10),
        mug=await make_product("Stoneware Mug", home, price=800, stock=3),
        lamp=await make_product("Desk Lamp", home, price=4200, stock=5),
    )


@pytest.fixture
def fill_cart(app):
    """`await fill_cart(user, (product, qty), ...)`: the user's cart holds exactly these."""

    async def fill(user, *lines):
        await Cart.find({"user_id": user.id}).delete()
        await Cart(
            user_id=user.id,
            lines=[CartLine(product_id=product.id, quantity=qty) for product, qty in lines],
        ).insert()

    return fill


@pytest.fixture
def checkout(client):
    """`await checkout(headers, **body)` -> response of POST /api/v1/orders."""

    async def place(headers, *, key: str | None = None, **body):
        body = body or {"shipping_address": ADDRESS}
        if key is not None:
            headers = {**headers, "Idempotency-Key": key}
        return await client.post("/api/v1/orders", json=body, headers=headers)

    return place


@pytest.fixture
def pay(client):
    """`await pay(order_id, headers, method)` -> response of POST /orders/{id}/pay."""

    async def confirm(order_id, headers, method="pm_card_visa", key=None):
        if key is not None:
            headers = {**headers, "Idempotency-Key": key}
        return await client.post(
            f"/api/v1/orders/{order_id}/pay", json={"payment_method": method}, headers=headers
        )

    return confirm


@pytest.fixture
def placed_order(customer, stock, fill_cart, checkout, pay):
    """`await placed_order(paid=True)` -> the order body (2 shirts + 1 mug = 3800)."""

    async def place(*, paid: bool = False, user=None) -> dict:
        user, headers = user or customer
        await fill_cart(user, (stock.shirt, 2), (stock.mug, 1))
        response = await checkout(headers)
        assert response.status_code == 201, await response.get_data(as_text=True)
        order = await response.get_json()
        if paid:
            paid_response = await pay(order["id"], headers)
            assert paid_response.status_code == 200, await paid_response.get_data(as_text=True)
            order = await paid_response.get_json()
        return order

    return place


async def stock_of(product) -> int:
    return (await Product.get(product.id)).stock


async def order_count() -> int:
    return await Order.find_all().count()


@pytest.fixture
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


# -- refunds the provider refuses ---------------------------------------------------------------


@pytest.fixture
def provider(monkeypatch):
    """The dev gateway; `provider.refusing` refuses new refunds (as when the merchant's
    balance cannot cover them), `provider.asked` lists every refund asked of it, and
    `provider.during` runs inside the next refund call, before it answers."""
    real = DevGateway.refund

    class Provider:
        refusing = False
        asked: list[tuple[str, int]] = []
        during = None

    state = Provider()

    async def refund(self, *, intent_id, amount, idempotency_key, reason=None):
        state.asked.append((idempotency_key, amount))
        if state.during is not None:
            during, state.during = state.during, None
            await during()
        if state.refusing:
            return RefundResult(
                id=f"re_refused_{len(state.asked)}",
                amount=amount,
                status="failed",
                reference=idempotency_key,
                failure_reason="insufficient_funds",
            )
        return await real(self, intent_id=intent_id, amount=amount, idempotency_key=idempotency_key)

    monkeypatch.setattr(DevGateway, "refund", refund)
    return state


@pytest.fixture
def cancel(client, customer, admin):
    """`await cancel(order_id)` as the customer, `by="admin"` through the admin's status
    route: (status code, body)."""

    async def ask(order_id: str, by: str = "customer"):
        if by == "customer":
            response = await client.post(f"/api/v1/orders/{order_id}/cancel", headers=customer[1])
        else:
            response = await client.post(
                f"/api/v1/admin/orders/{order_id}/status",
                json={"status": "cancelled"},
                headers=admin[1],
            )
        return response.status_code, await response.get_json()

    return ask


@pytest.fixture
def admin_refund(client, admin):
    async def ask(order_id: str, **body):
        response = await client.post(
            f"/api/v1/admin/orders/{order_id}/refund", json=body, headers=admin[1]
        )
        return response.status_code, await response.get_json()

    return ask


async def make_due(order_id) -> None:
    """The backoff has run out (the clock moved on): the job may ask again now."""
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(order_id)},
        {"$set": {"payment.refund_retry_at": utcnow() - timedelta(seconds=1)}},
    )


async def provider_refunded(order: dict) -> int:
    """What the dev provider has given back on the order's intent."""
    return (await DevPaymentIntent.get(order["payment"]["intent_id"])).amount_refunded
