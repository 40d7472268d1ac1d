"""Checkout: all or nothing, never oversold, never twice."""

from __future__ import annotations

import asyncio

import pytest

from app.cart.models import Cart
from app.email.models import OutboxEmail
from app.orders.models import Order
from tests.support.orders import ADDRESS, order_count, stock_of

pytestmark = pytest.mark.usefixtures("app")


async def test_checkout_creates_the_order_takes_stock_and_empties_the_cart(
    client, customer, stock, fill_cart, checkout
):
    user, headers = customer
    await fill_cart(user, (stock.shirt, 2), (stock.mug, 1))

    response = await checkout(headers)

    assert response.status_code == 201, await response.get_data(as_text=True)
    order = await response.get_json()
    assert order["status"] == "pending_payment"
    assert order["number"].startswith("SO-")
    assert order["currency"] == "usd"
    lines = [(i["name"], i["unit_price"], i["quantity"], i["line_total"]) for i in order["items"]]
    assert lines == [
        ("Linen Shirt", 1500, 2, 3000),
        ("Stoneware Mug", 800, 1, 800),
    ]
    assert order["subtotal"] == order["total"] == 3800
    assert order["shipping_address"]["line1"] == ADDRESS["line1"]
    assert order["payment"]["provider"] == "dev"
    assert order["payment"]["status"] == "requires_payment"
    assert order["payment"]["client_secret"].startswith(order["payment"]["intent_id"])
    assert [h["status"] for h in order["history"]] == ["pending_payment"]
    assert await stock_of(stock.shirt) == 8 and await stock_of(stock.mug) == 2
    assert (await Cart.find_one({"user_id": user.id})).lines == []
    emails = await OutboxEmail.find({"to": user.email, "kind": "order_status"}).to_list()
    assert len(emails) == 1 and order["number"] in emails[0].subject
    assert f"http://frontend.test/orders/{order['id']}" in emails[0].text

    mine = await client.get(f"/api/v1/orders/{order['id']}", headers=headers)
    assert mine.status_code == 200 and (await mine.get_json())["number"] == order["number"]


async def test_prices_are_taken_at_checkout_not_when_added(customer, stock, fill_cart, checkout):
    user, headers = customer
    await fill_cart(user, (stock.lamp, 1))
    await stock.lamp.set({"price": 3999, "base_price": 3999})

    order = await (await checkout(headers)).get_json()

    assert order["items"][0]["unit_price"] == 3999 and order["total"] == 3999


async def test_empty_cart_is_422(customer, checkout):
    _, headers = customer
    response = await checkout(headers)
    assert response.status_code == 422
    assert (await response.get_json())["code"] == "cart_empty"


async def test_a_saved_address_can_be_used(client, customer, stock, fill_cart, checkout):
    user, headers = customer
    saved = await client.post(
        "/api/v1/users/me/addresses",
        json={"line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"},
        headers=headers,
    )
    address_id = (await saved.get_json())["id"]
    await fill_cart(user, (stock.mug, 1))

    response = await checkout(headers, address_id=address_id)

    assert response.status_code == 201
    assert (await response.get_json())["shipping_address"]["line1"] == "1 Main St"


@pytest.mark.parametrize(
    "body",
    [
        {"address_id": "0123456789abcdef01234567"},  # not in my address book
        {},  # neither
        {"shipping_address": ADDRESS, "address_id": "0123456789abcdef01234567"},  # both
        {"shipping_address": {**ADDRESS, "line1": ""}},
        {"shipping_address": {**ADDRESS, "country": None}},
        {"shipping_address": ADDRESS, "total": 1},  # unknown field
        {"address_id": "not-an-id"},
    ],
)
async def test_bad_addresses_are_422_and_change_nothing(customer, stock, fill_cart, client, body):
    user, headers = customer
    await fill_cart(user, (stock.mug, 1))

    response = await client.post("/api/v1/orders", json=body, headers=headers)

    assert response.status_code == 422, await response.get_data(as_text=True)
    assert await order_count() == 0 and await stock_of(stock.mug) == 3


async def test_another_users_address_cannot_be_used(client, create_user, stock, fill_cart):
    _, owner_headers = await create_user()
    thief, thief_headers = await create_user()
    saved = await client.post(
        "/api/v1/users/me/addresses",
        json={"line1": "1 Main St", "city": "X", "postal_code": "1", "country": "US"},
        headers=owner_headers,
    )
    await fill_cart(thief, (stock.mug, 1))

    response = await client.post(
        "/api/v1/orders",
        json={"address_id": (await saved.get_json())["id"]},
        headers=thief_headers,
    )

    assert response.status_code == 422


@pytest.mark.parametrize("transactions", [True, False], ids=["transaction", "no-transaction"])
async def test_one_short_line_of_three_changes_nothing(
    request, customer, stock, fill_cart, checkout, transactions
):
    if not transactions:
        request.getfixturevalue("no_transactions")
    user, headers = customer
    # The short line is in the middle: the first line's stock is taken before it is found.
    await fill_cart(user, (stock.shirt, 2), (stock.mug, 4), (stock.lamp, 1))

    response = await checkout(headers)

    assert response.status_code == 409
    problem = await response.get_json()
    assert problem["code"] == "insufficient_stock"
    assert problem["lines"] == [
        {"product_id": str(stock.mug.id), "name": "Stoneware Mug", "requested": 4, "available": 3}
    ]
    assert [await stock_of(p) for p in (stock.shirt, stock.mug, stock.lamp)] == [10, 3, 5]
    assert len((await Cart.find_one({"user_id": user.id})).lines) == 3
    assert await order_count() == 0
    assert await OutboxEmail.find({"kind": "order_status"}).count() == 0


async def test_a_short_line_is_refused_with_the_carts_payload(
    client, customer, stock, fill_cart, checkout
):
    # One InsufficientStock for cart and checkout: the same `lines`, and for one short
    # product its numbers at the top, whichever of the two refuses it.
    user, headers = customer
    await fill_cart(user, (stock.mug, 4))

    at_checkout = await (await checkout(headers)).get_json()
    await fill_cart(user)
    in_cart = await (
        await client.post(
            "/api/v1/cart/items",
            json={"product_id": str(stock.mug.id), "quantity": 4},
            headers=headers,
        )
    ).get_json()

    line = {
        "product_id": str(stock.mug.id),
        "name": "Stoneware Mug",
        "requested": 4,
        "available": 3,
    }
    for problem in (at_checkout, in_cart):
        assert (problem["status"], problem["code"]) == (409, "insufficient_stock")
        assert problem["lines"] == [line]
        assert {key: problem[key] for key in ("product_id", "requested", "available")} == {
            key: line[key] for key in ("product_id", "requested", "available")
        }


async def test_every_short_line_is_named(customer, stock, fill_cart, checkout):
    user, headers = customer
    await stock.lamp.set({"status": "archived"})
    await fill_cart(user, (stock.shirt, 11), (stock.mug, 1), (stock.lamp, 1))

    problem = await (await checkout(headers)).get_json()

    assert {(line["product_id"], line["available"]) for line in problem["lines"]} == {
        (str(stock.shirt.id), 10),
        (str(stock.lamp.id), 0),
    }


@pytest.mark.parametrize("transactions", [True, False], ids=["transaction", "no-transaction"])
async def test_fifty_shoppers_for_the_last_ten_units(
    request, create_user, stock, fill_cart, client, transactions
):
    if not transactions:
        request.getfixturevalue("no_transactions")
    await stock.lamp.set({"stock": 10, "variants.0.stock": 10})
    shoppers = [await create_user() for _ in range(50)]
    for user, _ in shoppers:
        await fill_cart(user, (stock.lamp, 1))

    # Fifty shoppers come from fifty addresses (checkout is rate limited per address).
    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/orders",
                json={"shipping_address": ADDRESS},
                headers=headers,
                scope_base={"client": (f"10.0.0.{i}", 40000)},
            )
            for i, (_, headers) in enumerate(shoppers, start=1)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 10 + [409] * 40, statuses
    assert await stock_of(stock.lamp) == 0
    assert await order_count() == 10


async def test_idempotency_key_replays_the_first_response(customer, stock, fill_cart, checkout):
    user, headers = customer
    await fill_cart(user, (stock.mug, 1))

    first = await checkout(headers, key="checkout-1")
    await fill_cart(user, (stock.mug, 1))  # a second checkout would now succeed too
    again = await checkout(headers, key="checkout-1")

    assert first.status_code == again.status_code == 201
    assert await again.get_json() == await first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await order_count() == 1 and await stock_of(stock.mug) == 2


async def test_an_idempotent_answer_is_not_converted_again(
    customer, stock, fill_cart, checkout, monkeypatch
):
    """The first answer leaves as the response model it is (its stored JSON copy is not
    validated back into one) with plain headers: quart-schema builds a pydantic TypeAdapter
    for each dict it converts, about a tenth of a millisecond each."""
    import pydantic.type_adapter

    from app.orders.schemas import OrderOut

    user, headers = customer
    await fill_cart(user, (stock.mug, 1))
    built = []
    real = pydantic.type_adapter.TypeAdapter.__init__

    def counting(self, kind, *args, **kwargs):
        built.append(kind)
        real(self, kind, *args, **kwargs)

    monkeypatch.setattr(pydantic.type_adapter.TypeAdapter, "__init__", counting)
    placed = await checkout(headers, key="checkout-once")
    assert placed.status_code == 201 and placed.headers["Idempotent-Replayed"] == "false"
    assert dict not in built and OrderOut not in built, built


async def test_the_same_key_with_another_body_is_422(customer, stock, fill_cart, checkout):
    user, headers = customer
    await fill_cart(user, (stock.mug, 1))
    await checkout(headers, key="checkout-1")

    other = await checkout(headers, key="checkout-1", shipping_address={**ADDRESS, "city": "Paris"})

    assert other.status_code == 422
    assert (await other.get_json())["code"] == "idempotency_key_reused"
    assert await order_count() == 1


async def test_keys_belong_to_their_user(create_user, stock, fill_cart, checkout):
    first_user, first_headers = await create_user()
    second_user, second_headers = await create_user()
    for user in (first_user, second_user):
        await fill_cart(user, (stock.mug, 1))

    a = await checkout(first_headers, key="same-key")
    b = await checkout(second_headers, key="same-key")

    assert a.status_code == b.status_code == 201
    assert (await a.get_json())["id"] != (await b.get_json())["id"]


async def test_a_failed_attempt_frees_its_key(customer, stock, fill_cart, checkout):
    user, headers = customer
    first = await checkout(headers, key="k")  # empty cart
    await fill_cart(user, (stock.mug, 1))
    second = await checkout(headers, key="k")

    assert first.status_code == 422 and second.status_code == 201


async def test_a_key_whose_process_died_after_the_order_was_made_replays_that_order(
    customer, stock, fill_cart, checkout
):
    """The process committed the order, then died before storing the response: its record is
    left `processing` until its lease runs out. The retry that takes it over answers with the
    order made, not `cart_empty` (the cart was emptied with the order)."""
    from datetime import timedelta

    from app.core.clock import utcnow
    from app.core.idempotency import IdempotencyRecord

    user, headers = customer
    await fill_cart(user, (stock.mug, 1))
    first = await checkout(headers, key="crash-1")
    await IdempotencyRecord.get_pymongo_collection().update_one(
        {"user_id": user.id, "key": "crash-1"},
        {
            "$set": {"state": "processing", "locked_until": utcnow() - timedelta(seconds=1)},
            "$unset": {"status_code": "", "body": ""},
        },
    )

    again = await checkout(headers, key="crash-1")

    assert again.status_code == 201, await again.get_data(as_text=True)
    assert (await again.get_json())["id"] == (await first.get_json())["id"]
    assert await order_count() == 1 and await stock_of(stock.mug) == 2


async def test_concurrent_requests_with_one_key_create_one_order(
    customer, stock, fill_cart, checkout
):
    user, headers = customer
    await fill_cart(user, (stock.mug, 1))

    responses = await asyncio.gather(*(checkout(headers, key="double-click") for _ in range(5)))

    assert {r.status_code for r in responses} == {201}
    assert len({(await r.get_json())["id"] for r in responses}) == 1
    assert await order_count() == 1 and await stock_of(stock.mug) == 2


@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "naïve"])
async def test_malformed_idempotency_keys_are_422(client, customer, stock, fill_cart, key):
    user, headers = customer
    await fill_cart(user, (stock.mug, 1))
    response = await client.post(
        "/api/v1/orders",
        json={"shipping_address": ADDRESS},
        headers={**headers, "Idempotency-Key": key},
    )
    assert response.status_code == 422
    assert await order_count() == 0


async def test_checkout_needs_a_login(client):
    response = await client.post("/api/v1/orders", json={"shipping_address": ADDRESS})
    assert response.status_code == 401


async def test_an_unreachable_provider_keeps_the_reservation(
    customer, stock, fill_cart, checkout, pay, monkeypatch
):
    from app.payments.dev import DevGateway
    from app.payments.types import ProviderUnavailable

    user, headers = customer
    await fill_cart(user, (stock.mug, 1))

    async def down(self, **kwargs):
        raise ProviderUnavailable("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(DevGateway, "create_intent", down)
        response = await checkout(headers)
        assert response.status_code == 201
        order = await response.get_json()
        assert order["payment"]["status"] == "intent_failed"
        assert order["payment"]["intent_id"] is None
        assert (await pay(order["id"], headers)).status_code == 402
    assert await stock_of(stock.mug) == 2  # still reserved

    paid = await pay(order["id"], headers)  # the provider is back: /pay creates the intent

    assert paid.status_code == 200
    assert (await paid.get_json())["status"] == "paid"
    assert (await Order.get(order["id"])).payment.intent_id is not None


async def test_the_shoppers_journey_through_the_cart_api(client, customer, stock, pay):
    _, headers = customer
    add = await client.post(
        "/api/v1/cart/items", json={"product_id": str(stock.mug.id), "quantity": 5}, headers=headers
    )
    assert add.status_code == 409  # only 3 in stock
    problem = await add.get_json()
    assert problem["available"] == 3
    assert problem["lines"] == [
        {"product_id": str(stock.mug.id), "name": "Stoneware Mug", "requested": 5, "available": 3}
    ]
    for product, quantity in ((stock.mug, 2), (stock.lamp, 1), (stock.mug, 1)):
        response = await client.post(
            "/api/v1/cart/items",
            json={"product_id": str(product.id), "quantity": quantity},
            headers=headers,
        )
        assert response.status_code == 200
    cart = await (await client.get("/api/v1/cart", headers=headers)).get_json()
    assert cart["subtotal"] == 3 * 800 + 4200 and cart["item_count"] == 4

    placed = await client.post(
        "/api/v1/orders", json={"shipping_address": ADDRESS}, headers=headers
    )
    order = await placed.get_json()
    assert placed.status_code == 201 and order["total"] == cart["subtotal"]
    assert (await (await client.get("/api/v1/cart", headers=headers)).get_json())["items"] == []
    assert await stock_of(stock.mug) == 0

    paid = await pay(order["id"], headers)
    assert (await paid.get_json())["status"] == "paid"
    history = await (await client.get("/api/v1/orders", headers=headers)).get_json()
    assert [(o["number"], o["status"]) for o in history["items"]] == [(order["number"], "paid")]


# -- totals the payment provider does not charge ---------------------------------------------


@pytest.mark.parametrize("transactions", [True, False], ids=["transaction", "no-transaction"])
@pytest.mark.parametrize(
    "price, quantity, with_shirt, total",
    [(10, 4, False, 40), (0, 1, False, 0), (50_000_000, 2, True, 100_001_500)],
    ids=["under-50-cents", "free", "over-999999.99"],
)
async def test_a_total_the_provider_would_not_charge_is_422_and_changes_nothing(
    request,
    customer,
    stock,
    make_category,
    make_product,
    fill_cart,
    checkout,
    price,
    quantity,
    with_shirt,
    total,
    transactions,
):
    """Stripe charges 50 cents to $999,999.99 (USD): an order outside could never be paid.
    The check runs once the total is known, inside checkout: the stock the lines took is
    given back (or the transaction aborts), the cart stays, no order, no mail."""
    if not transactions:
        request.getfixturevalue("no_transactions")
    user, headers = customer
    odd = await make_product("Odd Item", await make_category("Odd"), price=price, stock=5)
    lines = [(stock.shirt, 1)] if with_shirt else []
    await fill_cart(user, *lines, (odd, quantity))

    response = await checkout(headers)

    assert response.status_code == 422, await response.get_data(as_text=True)
    assert response.headers["Content-Type"] == "application/problem+json"
    problem = await response.get_json()
    assert problem["code"] == "amount_out_of_range"
    assert (problem["total"], problem["currency"]) == (total, "usd")
    assert (problem["minimum"], problem["maximum"]) == (50, 99_999_999)
    assert "0.50 USD" in problem["detail"] and "999,999.99 USD" in problem["detail"]
    assert await stock_of(odd) == 5 and await stock_of(stock.shirt) == 10
    assert len((await Cart.find_one({"user_id": user.id})).lines) == len(lines) + 1
    assert await order_count() == 0
    assert await OutboxEmail.find({"kind": "order_status"}).count() == 0


@pytest.mark.parametrize("price", [50, 99_999_999], ids=["minimum", "maximum"])
async def test_totals_at_the_providers_limits_are_taken(
    customer, make_category, make_product, fill_cart, checkout, price
):
    user, headers = customer
    edge = await make_product("Edge Item", await make_category("Edge"), price=price, stock=5)
    await fill_cart(user, (edge, 1))

    response = await checkout(headers)

    assert response.status_code == 201, await response.get_data(as_text=True)
    order = await response.get_json()
    assert order["total"] == price and order["payment"]["status"] == "requires_payment"


def test_the_dev_gateway_has_stripes_limits(settings):
    from app.payments.dev import DevGateway
    from app.payments.limits import STRIPE_MAXIMUM_CHARGE
    from app.payments.stripe_gateway import StripeGateway

    stripe = StripeGateway(settings.model_copy(update={"STRIPE_SECRET_KEY": "sk_test_x"}))
    for currency in ("usd", "eur", "gbp", "jpy", "chf", "xyz"):
        assert DevGateway(settings).amount_limits(currency) == stripe.amount_limits(currency)
    usd = DevGateway(settings).amount_limits("usd")
    assert (usd.minimum, usd.maximum) == (50, 99_999_999) == (50, STRIPE_MAXIMUM_CHARGE)


@pytest.mark.parametrize("amount", [49, 100_000_000])
async def test_the_dev_gateway_refuses_to_create_an_intent_out_of_range(settings, amount):
    from app.payments.dev import DevGateway
    from app.payments.types import ProviderError

    with pytest.raises(ProviderError):
        await DevGateway(settings).create_intent(
            amount=amount, currency="usd", order_id="o", order_number="SO-1", idempotency_key="k"
        )
