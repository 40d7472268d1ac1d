"""The checkout flow's fixtures, shared by the conftests of orders, payments, security and
users (each imports the ones its tests use): a stocked shop, carts filled directly, checkout
and pay through the API, and an order placed (and paid) in one call."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.cart.models import Cart, CartLine
from app.catalog.models import Product
from tests.support.orders import ADDRESS


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
