"""Guest tokens (issue 18): a `Cart-Token` or `Order-Token` opens its own cart or order and
nothing else; it is never a login; it is hopeless to guess; it never reaches a log line or
the database in clear. The account routes are enumerated from the URL map, so a route added
later is covered the day it lands."""

from __future__ import annotations

import base64
import logging

import pytest

from app.core.guest import CART_TOKEN_HEADER, ORDER_TOKEN_HEADER
from app.email.models import OutboxEmail
from app.orders.models import Order
from tests.security.test_api_top10 import PUBLIC, SOME_ID, api_routes, call
from tests.support.orders import ADDRESS

pytestmark = pytest.mark.usefixtures("app")

# The routes a guest token is meant for (with SOME_ID in the path, as api_routes fills it).
CART_ROUTES = {
    ("GET", "/api/v1/cart"),
    ("DELETE", "/api/v1/cart"),
    ("POST", "/api/v1/cart/items"),
    ("PATCH", f"/api/v1/cart/items/{SOME_ID}"),
    ("DELETE", f"/api/v1/cart/items/{SOME_ID}"),
    ("GET", "/api/v1/cart/quote"),
    ("POST", "/api/v1/cart/discount"),
    ("DELETE", "/api/v1/cart/discount"),
    ("POST", "/api/v1/orders"),
}
ORDER_ROUTES = {
    ("GET", f"/api/v1/orders/{SOME_ID}"),
    ("POST", f"/api/v1/orders/{SOME_ID}/pay"),
    ("POST", f"/api/v1/orders/{SOME_ID}/cancel"),
}


async def guest_order(client, product, quantity=1, email="guest@example.com") -> dict:
    """A guest cart with `product`, checked out: the order's body, with the cart's token."""
    added = await client.post(
        "/api/v1/cart/items", json={"product_id": str(product.id), "quantity": quantity}
    )
    cart_token = (await added.get_json())["cart_token"]
    placed = await client.post(
        "/api/v1/orders",
        json={"email": email, "shipping_address": ADDRESS},
        headers={CART_TOKEN_HEADER: cart_token},
    )
    assert placed.status_code == 201, await placed.get_data(as_text=True)
    return {**await placed.get_json(), "cart_token": cart_token}


async def test_a_guest_token_reaches_no_account_route(app, client, stock):
    order = await guest_order(client, stock.shirt)
    guest = {CART_TOKEN_HEADER: order["cart_token"], ORDER_TOKEN_HEADER: order["order_token"]}
    checked = 0
    for method, path in api_routes(app):
        if path.startswith("/api/v1/auth") or (method, path) in PUBLIC:
            continue
        if (method, path) in CART_ROUTES | ORDER_ROUTES:
            continue
        kwargs = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
        for headers in (
            guest,
            {"Authorization": f"Bearer {order['cart_token']}"},
            {"Authorization": f"Bearer {order['order_token']}"},
        ):
            response = await call(client, method, path, headers=headers, **kwargs)
            assert response.status_code == 401, (method, path, response.status_code)
        checked += 1
    assert checked >= 20  # /users/me, addresses, the admin area, my orders, the merge...
    # /users/me in particular, and the account's order list.
    for path in ("/api/v1/users/me", "/api/v1/orders"):
        assert (await client.get(path, headers=guest)).status_code == 401


async def test_one_guests_tokens_never_open_anothers(client, stock):
    alice = await guest_order(client, stock.shirt, email="alice@example.com")
    bob = await guest_order(client, stock.mug, email="bob@example.com")
    # Bob's order token on Alice's order: the same 404 as no order at all, on every route.
    for method, path in ORDER_ROUTES:
        path = path.replace(SOME_ID, alice["id"])
        body = {"payment_method": "pm_card_visa"} if path.endswith("/pay") else None
        kwargs = {"json": body} if body else {}
        response = await call(
            client, method, path, headers={ORDER_TOKEN_HEADER: bob["order_token"]}, **kwargs
        )
        assert response.status_code == 404, (method, path, response.status_code)
    # A cart token is not an order token, nor the other way round.
    for token in (alice["cart_token"], alice["order_token"][:-1]):
        response = await client.get(
            f"/api/v1/orders/{alice['id']}", headers={ORDER_TOKEN_HEADER: token}
        )
        assert response.status_code == 404
    response = await client.get("/api/v1/cart", headers={CART_TOKEN_HEADER: alice["order_token"]})
    assert response.status_code == 404
    assert (await Order.get(alice["id"])).status == "pending_payment"
    # Each cart token opens its own cart only.
    mine = await client.get("/api/v1/cart", headers={CART_TOKEN_HEADER: bob["cart_token"]})
    assert (await mine.get_json())["cart_token"] == bob["cart_token"]


async def test_tokens_are_at_least_128_random_bits(client, stock):
    orders = [await guest_order(client, stock.shirt, email=f"g{i}@example.com") for i in range(3)]
    tokens = [order["cart_token"] for order in orders] + [order["order_token"] for order in orders]
    assert len(set(tokens)) == len(tokens)
    for token in tokens:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        assert len(raw) * 8 >= 128  # secrets.token_urlsafe(32): 256 bits


async def test_tokens_are_stored_only_hashed_and_kept_out_of_logs(client, stock, caplog):
    caplog.set_level(logging.DEBUG)
    order = await guest_order(client, stock.shirt)
    cart_token, order_token = order["cart_token"], order["order_token"]
    headers = {ORDER_TOKEN_HEADER: order_token}
    await client.get(f"/api/v1/orders/{order['id']}", headers=headers)
    await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)
    await client.get("/api/v1/cart", headers={CART_TOKEN_HEADER: cart_token})
    await client.get(f"/api/v1/orders/{SOME_ID}", headers=headers)  # a 404 is logged too
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "/api/v1/orders" in logged  # the request lines were captured
    assert cart_token not in logged and order_token not in logged
    # The database keeps hashes only; the one place the order token is in clear is the
    # guest's confirmation email (it must carry the link), which the admins' view redacts.
    stored = str(await Order.get_pymongo_collection().find_one({}))
    assert order_token not in stored
    emails = await OutboxEmail.find({"to": "guest@example.com"}).to_list()
    assert any(order_token in email.text for email in emails)


async def test_the_admins_outbox_view_redacts_the_order_token(client, stock, admin):
    order = await guest_order(client, stock.shirt)
    response = await client.get("/api/v1/admin/emails?per_page=100", headers=admin[1])
    assert response.status_code == 200
    assert order["order_token"] not in await response.get_data(as_text=True)
