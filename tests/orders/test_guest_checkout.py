"""Guest checkout: an order without an account, from a guest cart (`Cart-Token`), with an
`email` and a `shipping_address`; the guest reads, pays and cancels it with its
`Order-Token`, and the order joins an account once that email address is verified."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re

import pytest

from app.cart.models import GuestCart
from app.email.models import OutboxEmail
from app.orders.models import Order, UnpaidHold
from tests.support.orders import ADDRESS, stock_of

pytestmark = pytest.mark.usefixtures("app")
ORDERS = "/api/v1/orders"


@pytest.fixture
def guest_cart(client):
    """`await guest_cart((product, qty), ...)` -> a new guest cart's token holding these."""

    async def fill(*lines) -> str:
        token = None
        for product, quantity in lines:
            headers = {"Cart-Token": token} if token else {}
            response = await client.post(
                "/api/v1/cart/items",
                json={"product_id": str(product.id), "quantity": quantity},
                headers=headers,
            )
            assert response.status_code == 200, await response.get_data(as_text=True)
            token = (await response.get_json())["cart_token"]
        assert token
        return token

    return fill


@pytest.fixture
def guest_checkout(client):
    async def place(cart_token, *, email="guest@example.com", key=None, **body):
        headers = {"Cart-Token": cart_token}
        if key:
            headers["Idempotency-Key"] = key
        payload = {"email": email, "shipping_address": ADDRESS, **body}
        payload = {name: value for name, value in payload.items() if value is not None}
        return await client.post(ORDERS, json=payload, headers=headers)

    return place


def with_token(token: str) -> dict[str, str]:
    return {"Order-Token": token}


async def test_a_guest_checks_out_and_gets_an_order_token(stock, guest_cart, guest_checkout):
    cart_token = await guest_cart((stock.shirt, 2))
    response = await guest_checkout(cart_token, email="Guest@Example.com")
    assert response.status_code == 201, await response.get_data(as_text=True)
    body = await response.get_json()
    token = body["order_token"]
    assert len(token) >= 43
    assert body["status"] == "pending_payment" and body["total"] == 2 * stock.shirt.price
    assert await stock_of(stock.shirt) == 8
    order = await Order.get(body["id"])
    assert order.user_id is None and order.email == "guest@example.com"
    # Stored only as its hash.
    assert order.guest_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(order.model_dump())
    # The guest cart is emptied, not deleted: the guest shops on with the same token.
    cart = await GuestCart.find_one({})
    assert cart is not None and cart.lines == []


async def test_the_confirmation_email_links_to_the_order_with_its_token(
    stock, guest_cart, guest_checkout
):
    cart_token = await guest_cart((stock.mug, 1))
    body = await (await guest_checkout(cart_token)).get_json()
    emails = await OutboxEmail.find({"to": "guest@example.com"}).to_list()
    assert len(emails) == 1
    link = f"http://frontend.test/orders/{body['id']}?token={body['order_token']}"
    assert link in emails[0].text


async def test_every_later_status_email_links_to_the_order_with_its_token(
    app, client, stock, guest_cart, guest_checkout
):
    """Paid, shipped, cancelled...: every email of a guest's order carries the same link as
    the confirmation, though only the token's hash is stored (the token is derived again
    from SECRET_KEY and the order's nonce). After a key rotation the link has no token."""
    body = await (await guest_checkout(await guest_cart((stock.mug, 1)))).get_json()
    token, order_id = body["order_token"], body["id"]
    paid = await client.post(
        f"{ORDERS}/{order_id}/pay",
        json={"payment_method": "pm_card_visa"},
        headers=with_token(token),
    )
    assert paid.status_code == 200, await paid.get_data(as_text=True)
    emails = await OutboxEmail.find({"to": "guest@example.com"}).sort("+_id").to_list()
    assert len(emails) == 2 and "paid" in emails[1].text.lower()
    link = f"http://frontend.test/orders/{order_id}?token={token}"
    assert all(link in email.text for email in emails)
    order = await Order.get(order_id)
    assert order.guest_token_nonce and order.guest_token_nonce not in token
    assert token not in str(order.model_dump())

    settings = app.config["SETTINGS"]
    original = settings.SECRET_KEY
    settings.SECRET_KEY = original + "-rotated"
    try:
        cancelled = await client.post(f"{ORDERS}/{order_id}/cancel", headers=with_token(token))
        assert cancelled.status_code == 200  # the token still opens the order (its hash)
    finally:
        settings.SECRET_KEY = original
    last = (await OutboxEmail.find({"to": "guest@example.com"}).sort("-_id").to_list())[0]
    assert f"http://frontend.test/orders/{order_id}" in last.text and "?token=" not in last.text


async def test_the_order_token_reads_pays_and_cancels_that_order(
    client, stock, guest_cart, guest_checkout
):
    first = await (await guest_checkout(await guest_cart((stock.shirt, 1)))).get_json()
    token, order_id = first["order_token"], first["id"]
    response = await client.get(f"{ORDERS}/{order_id}", headers=with_token(token))
    assert response.status_code == 200
    body = await response.get_json()
    assert body["id"] == order_id and body["order_token"] is None  # shown once
    response = await client.post(
        f"{ORDERS}/{order_id}/pay",
        json={"payment_method": "pm_card_visa"},
        headers=with_token(token),
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    assert (await response.get_json())["status"] == "paid"
    second = await (await guest_checkout(await guest_cart((stock.lamp, 1)))).get_json()
    response = await client.post(
        f"{ORDERS}/{second['id']}/cancel", headers=with_token(second["order_token"])
    )
    assert response.status_code == 200
    assert (await response.get_json())["status"] == "cancelled"
    assert await stock_of(stock.lamp) == 5


async def test_any_mismatch_is_404_never_403(
    client, customer, stock, guest_cart, guest_checkout, fill_cart, checkout
):
    alice = await (await guest_checkout(await guest_cart((stock.shirt, 1)))).get_json()
    bob = await (
        await guest_checkout(await guest_cart((stock.mug, 1)), email="bob@example.com")
    ).get_json()
    user, headers = customer
    await fill_cart(user, (stock.lamp, 1))
    mine = await (await checkout(headers, shipping_address=ADDRESS)).get_json()
    cases = [
        (alice["id"], bob["order_token"]),  # another guest's token
        (alice["id"], "x" * 43),  # a made-up token
        (mine["id"], alice["order_token"]),  # an account's order
        ("0123456789abcdef01234567", alice["order_token"]),  # no such order
        ("not-an-id", alice["order_token"]),
    ]
    for order_id, token in cases:
        for method, path, body in [
            ("get", "", None),
            ("post", "/pay", {"payment_method": "pm_card_visa"}),
            ("post", "/cancel", None),
        ]:
            response = await getattr(client, method)(
                f"{ORDERS}/{order_id}{path}", headers=with_token(token), json=body
            )
            assert response.status_code == 404, (order_id, path, response.status_code)
            assert (await response.get_json())["code"] == "not_found"
    # Nothing changed.
    for order in (alice, bob, mine):
        assert (await Order.get(order["id"])).status == "pending_payment"


async def test_an_order_token_is_no_login(client, stock, guest_cart, guest_checkout):
    body = await (await guest_checkout(await guest_cart((stock.shirt, 1)))).get_json()
    token = body["order_token"]
    for headers in (with_token(token), {"Authorization": f"Bearer {token}"}):
        assert (await client.get(ORDERS, headers=headers)).status_code == 401
        assert (await client.get("/api/v1/users/me", headers=headers)).status_code == 401


async def test_a_guest_checkout_needs_email_and_address(stock, guest_cart, guest_checkout):
    cart_token = await guest_cart((stock.shirt, 1))
    for body in (
        {"email": None},
        {"shipping_address": None, "address_id": "0123456789abcdef01234567"},
        {"email": "not-an-email"},
    ):
        response = await guest_checkout(cart_token, **body)
        assert response.status_code == 422, body
        assert (await response.get_json())["code"] == "validation_error"
    assert await Order.find_all().count() == 0
    assert await stock_of(stock.shirt) == 10


async def test_an_unknown_cart_token_is_404_and_no_token_is_401(
    client, stock, guest_cart, guest_checkout
):
    response = await guest_checkout("no-such-cart")
    assert response.status_code == 404
    assert (await response.get_json())["code"] == "cart_not_found"
    response = await client.post(
        ORDERS, json={"email": "a@example.com", "shipping_address": ADDRESS}
    )
    assert response.status_code == 401


async def test_an_empty_guest_cart_is_422(client, stock, guest_cart, guest_checkout):
    cart_token = await guest_cart((stock.shirt, 1))
    await client.delete("/api/v1/cart", headers={"Cart-Token": cart_token})
    response = await guest_checkout(cart_token)
    assert response.status_code == 422
    assert (await response.get_json())["code"] == "cart_empty"


async def test_idempotency_key_works_for_guests_keyed_by_cart(
    client, stock, guest_cart, guest_checkout
):
    cart_token = await guest_cart((stock.shirt, 1))
    first = await guest_checkout(cart_token, key="order-1")
    again = await guest_checkout(cart_token, key="order-1")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    first_body, again_body = await first.get_json(), await again.get_json()
    assert again_body["id"] == first_body["id"]
    # The replay never shows the token (the record holds no secret in clear).
    assert first_body["order_token"] and again_body["order_token"] is None
    assert await Order.find_all().count() == 1
    # Another guest's cart with the same key is another order.
    other = await guest_checkout(await guest_cart((stock.mug, 1)), key="order-1")
    assert other.status_code == 201 and (await other.get_json())["id"] != first_body["id"]
    assert await Order.find_all().count() == 2


async def test_concurrent_guest_checkouts_with_one_key_make_one_order(
    stock, guest_cart, guest_checkout
):
    cart_token = await guest_cart((stock.shirt, 1))
    answers = await asyncio.gather(*(guest_checkout(cart_token, key="k") for _ in range(3)))
    assert {answer.status_code for answer in answers} == {201}
    assert len({(await answer.get_json())["id"] for answer in answers}) == 1
    assert await Order.find_all().count() == 1


@pytest.mark.parametrize("settings_overrides", [{"UNPAID_ORDERS_MAX": 2}])
async def test_guests_unpaid_orders_are_capped_per_address_and_per_email(
    stock, guest_cart, guest_checkout
):
    for email in ("one@example.com", "two@example.com"):
        response = await guest_checkout(await guest_cart((stock.shirt, 1)), email=email)
        assert response.status_code == 201
    # A third email from the same address: the address's cap.
    response = await guest_checkout(await guest_cart((stock.shirt, 1)), email="three@example.com")
    assert response.status_code == 409
    assert (await response.get_json())["code"] == "unpaid_limit_reached"
    keys = {hold.key for hold in await UnpaidHold.find_all().to_list()}
    assert {key.split(":")[0] for key in keys} == {"ip", "email"}
    assert not any("example.com" in key or "127.0.0.1" in key for key in keys)  # hashed
    assert await Order.find_all().count() == 2


@pytest.mark.parametrize("settings_overrides", [{"RATE_LIMIT_CHECKOUT_PER_MINUTE": 1}])
async def test_guest_checkout_is_rate_limited_per_address(stock, guest_cart, guest_checkout):
    assert (await guest_checkout(await guest_cart((stock.shirt, 1)))).status_code == 201
    response = await guest_checkout(await guest_cart((stock.mug, 1)), email="b@example.com")
    assert response.status_code == 429


# -- joining an account ----------------------------------------------------------------------


async def register(client, email: str) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": email, "password": "Correct-Horse-Battery-9", "name": "Someone"},
    )
    assert response.status_code == 201, await response.get_data(as_text=True)


async def my_orders(client, login, email: str) -> list[str]:
    tokens = await login(email, "Correct-Horse-Battery-9")
    response = await client.get(
        ORDERS, headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.status_code == 200
    return [item["id"] for item in (await response.get_json())["items"]]


async def test_guest_orders_join_the_account_only_once_its_email_is_verified(
    client, stock, guest_cart, guest_checkout, login, outbox_token
):
    placed = await (
        await guest_checkout(await guest_cart((stock.shirt, 1)), email="victim@example.com")
    ).get_json()
    # Someone registers the guest's address: without verifying it, they see nothing.
    await register(client, "Victim@example.com")
    assert await my_orders(client, login, "victim@example.com") == []
    assert (await Order.get(placed["id"])).user_id is None
    # The address's owner verifies it: the guest order is theirs now.
    token = await outbox_token("victim@example.com", "verify_email")
    response = await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert response.status_code == 200
    assert await my_orders(client, login, "victim@example.com") == [placed["id"]]
    # The guest's link still opens it.
    response = await client.get(
        f"{ORDERS}/{placed['id']}", headers=with_token(placed["order_token"])
    )
    assert response.status_code == 200


async def test_only_guest_orders_of_that_email_join(
    client, stock, guest_cart, guest_checkout, login, outbox_token
):
    await guest_checkout(await guest_cart((stock.shirt, 1)), email="other@example.com")
    await register(client, "me@example.com")
    token = await outbox_token("me@example.com", "verify_email")
    await client.post("/api/v1/auth/verify-email", json={"token": token})
    assert await my_orders(client, login, "me@example.com") == []


async def test_the_join_is_served_by_an_index(app):
    # The join's query is {email, user_id: None, guest_token_hash}: the email leads an index.
    indexes = await Order.get_pymongo_collection().index_information()
    assert indexes["email_newest"]["key"][0] == ("email", 1)


# -- tokens are never logged -----------------------------------------------------------------


async def test_no_token_reaches_the_log(client, stock, guest_cart, guest_checkout, caplog):
    caplog.set_level(logging.DEBUG)
    cart_token = await guest_cart((stock.shirt, 1), (stock.mug, 1))
    await client.get("/api/v1/cart", headers={"Cart-Token": cart_token})
    body = await (await guest_checkout(cart_token, key="log-check")).get_json()
    order_token = body["order_token"]
    headers = with_token(order_token)
    await client.get(f"{ORDERS}/{body['id']}", headers=headers)
    await client.post(
        f"{ORDERS}/{body['id']}/pay", json={"payment_method": "pm_card_visa"}, headers=headers
    )
    await client.get(f"{ORDERS}/{body['id']}", headers={"Order-Token": "wrong-" + order_token})
    logged = "\n".join(
        [record.getMessage() for record in caplog.records]
        + [str(getattr(record, "__dict__", "")) for record in caplog.records]
    )
    assert caplog.records  # the requests were logged
    assert cart_token not in logged
    assert order_token not in logged
    assert not re.search(re.escape(order_token[:20]), logged)
