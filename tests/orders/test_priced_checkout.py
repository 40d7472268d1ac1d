"""The priced checkout over HTTP: the cart's quote and checkout charge the same amounts
(discount, shipping, tax per line), the order keeps them, the payment is for the total, a
code's last uses go to exactly as many orders, and cancelled or refunded orders give theirs
back."""

from __future__ import annotations

import asyncio

import pytest

from app.cart.models import Cart
from app.charges import discounts
from app.charges.models import Discount, DiscountUse, ShippingMethod, TaxRate
from app.email.models import OutboxEmail
from app.orders.models import Order
from app.payments.models import DevPaymentIntent
from tests.support.orders import ADDRESS, order_count, stock_of

NY = {**ADDRESS, "country": "US", "region": "NY", "postal_code": "10001", "city": "New York"}
FR = {**ADDRESS, "country": "FR", "postal_code": "75001", "city": "Paris"}


@pytest.fixture
async def rules(app):
    """US standard shipping ($5.99, free over $100), express; NY 8.875 % added."""

    class Rules:
        standard = ShippingMethod(
            name="Standard", price=599, countries=["US"], free_over=10_000, min_days=3, max_days=5
        )
        express = ShippingMethod(
            name="Express", price=1999, countries=["US"], min_days=1, max_days=2
        )
        ny = TaxRate(country="US", region="NY", rate_ppm=88_750, name="New York")

    for document in (Rules.standard, Rules.express, Rules.ny):
        await document.insert()
    return Rules


async def make_code(code="TEN", **fields) -> Discount:
    fields.setdefault("type", "percent")
    fields.setdefault("value", 10)
    discount = Discount(
        code=code, code_key=code.lower(), uses_left=fields.get("usage_limit"), **fields
    )
    await discount.insert()
    return discount


async def quote(client, headers, **query):
    response = await client.get("/api/v1/cart/quote", headers=headers, query_string=query)
    return response.status_code, await response.get_json()


async def test_the_quote_is_what_checkout_charges(
    client, customer, stock, fill_cart, rules, checkout
):
    user, headers = customer
    await fill_cart(user, (stock.shirt, 2), (stock.mug, 1))  # 3000 + 800
    status, priced = await quote(client, headers, country="us", region="ny")
    assert status == 200
    # Cheapest method by default; 3000 × 8.875 % = 266.25 -> 266, 800 -> 71.
    assert priced["shipping_method"]["name"] == "Standard"
    assert [m["name"] for m in priced["shipping_methods"]] == ["Standard", "Express"]
    assert [(line["line_total"], line["tax"], line["tax_rate_bp"]) for line in priced["lines"]] == [
        (3000, 266, 887.5),
        (800, 71, 887.5),
    ]
    assert (priced["subtotal"], priced["shipping_total"], priced["tax_total"], priced["total"]) == (
        3800,
        599,
        337,
        3800 + 599 + 337,
    )
    status, express = await quote(
        client, headers, country="US", region="NY", shipping_method_id=str(rules.express.id)
    )
    assert express["shipping_total"] == 1999

    placed = await checkout(headers, shipping_address=NY, shipping_method_id=str(rules.standard.id))
    assert placed.status_code == 201, await placed.get_json()
    order = await placed.get_json()
    for field in ("subtotal", "discount_total", "shipping_total", "tax_total", "total"):
        assert order[field] == priced[field], field
    assert [(i["tax"], i["tax_rate_bp"], i["discount"]) for i in order["items"]] == [
        (266, 887.5, 0),
        (71, 887.5, 0),
    ]
    assert order["shipping_method"]["name"] == "Standard"
    assert {item["tax_rate_name"] for item in order["items"]} == {"New York"}
    intent = await DevPaymentIntent.get(order["payment"]["intent_id"])
    assert intent.amount == order["total"] == 4736

    # A later rate change never changes the placed order.
    await TaxRate.get_pymongo_collection().update_one({}, {"$set": {"rate_ppm": 100_000}})
    again = await client.get(f"/api/v1/orders/{order['id']}", headers=headers)
    assert (await again.get_json())["tax_total"] == 337


async def test_a_destination_with_methods_needs_one_and_only_its_own(
    client, customer, stock, fill_cart, rules, checkout
):
    user, headers = customer
    await fill_cart(user, (stock.mug, 1))
    missing = await checkout(headers, shipping_address=NY)
    assert missing.status_code == 422
    assert (await missing.get_json())["code"] == "shipping_method_required"
    foreign = await checkout(headers, shipping_address=FR, shipping_method_id=str(rules.express.id))
    assert foreign.status_code == 422
    problem = await foreign.get_json()
    assert problem["code"] == "shipping_method_unavailable"
    assert problem["errors"][0]["loc"] == ["shipping_method_id"]
    assert await order_count() == 0 and await stock_of(stock.mug) == 3
    # Nowhere to ship France from: no method, no shipping charged.
    placed = await checkout(headers, shipping_address=FR)
    assert placed.status_code == 201
    assert (await placed.get_json())["shipping_total"] == 0


@pytest.mark.parametrize("settings_overrides", [{"PRICES_INCLUDE_TAX": True}])
async def test_inclusive_prices_keep_the_total_and_show_the_tax_inside(
    client, customer, stock, fill_cart, checkout
):
    await TaxRate(country="FR", rate_ppm=200_000, name="TVA", applies_to_shipping=True).insert()
    await TaxRate(country="FR", tax_class="reduced", rate_ppm=55_000, name="TVA réduite").insert()
    await stock.mug.set({"tax_class": "reduced"})
    user, headers = customer
    await fill_cart(user, (stock.shirt, 1), (stock.mug, 1))  # 1500 standard, 800 reduced
    placed = await checkout(headers, shipping_address=FR)
    order = await placed.get_json()
    # 1500 × 20/120 = 250; 800 × 5.5/105.5 = 41.7 -> 42
    assert [(i["tax"], i["tax_class"]) for i in order["items"]] == [
        (250, "standard"),
        (42, "reduced"),
    ]
    assert order["prices_include_tax"] is True
    assert (order["tax_total"], order["total"]) == (292, 2300)


async def test_discount_code_on_the_cart(client, customer, stock, fill_cart, rules, checkout):
    user, headers = customer
    await make_code("TEN", min_subtotal=2000, usage_limit=3)
    await fill_cart(user, (stock.mug, 1))
    under = await client.post("/api/v1/cart/discount", headers=headers, json={"code": "ten"})
    assert under.status_code == 422
    problem = await under.get_json()
    assert (problem["code"], problem["reason"]) == ("discount_invalid", "min_subtotal")
    assert problem["errors"][0]["loc"] == ["code"]
    unknown = await client.post("/api/v1/cart/discount", headers=headers, json={"code": "NOPE"})
    assert (await unknown.get_json())["reason"] == "unknown"
    assert (await Cart.find_one({"user_id": user.id})).discount_code is None

    await fill_cart(user, (stock.shirt, 2), (stock.mug, 1))  # 3800
    applied = await client.post("/api/v1/cart/discount", headers=headers, json={"code": "ten"})
    assert applied.status_code == 200
    body = await applied.get_json()
    assert body["discount"] == {"code": "TEN", "applied": True, "reason": None, "message": None}
    assert body["discount_total"] == 380
    # The quote for New York: the tax is on each line after its discount.
    _, priced = await quote(client, headers, country="US", region="NY")
    # 3800 × 10 % = 380 spread: 3000 -> 300, 800 -> 80; tax 2700 -> 239.6 -> 240, 720 -> 63.9 -> 64
    assert [(line["discount"], line["tax"]) for line in priced["lines"]] == [(300, 240), (80, 64)]
    assert priced["total"] == 3800 - 380 + 599 + 304
    placed = await checkout(headers, shipping_address=NY, shipping_method_id=str(rules.standard.id))
    order = await placed.get_json()
    assert order["discount"] == {"code": "TEN", "type": "percent", "value": 10}
    assert order["total"] == priced["total"]
    assert (await Discount.find_one()).times_used == 1
    # The confirmation email shows the breakdown.
    mail = await OutboxEmail.find_one({"kind": "order_status"})
    for row in (
        "Subtotal: 38.00 USD",
        "Discount (TEN): -3.80 USD",
        "Shipping (Standard): 5.99 USD",
        "Tax: 3.04 USD",
        f"Total: {order['total'] / 100:.2f} USD",
    ):
        assert row in mail.text, (row, mail.text)
    cart = await Cart.find_one({"user_id": user.id})
    assert cart.lines == [] and cart.discount_code is None

    # Taken off again: the quote no longer carries it.
    await fill_cart(user, (stock.shirt, 2))
    await client.post("/api/v1/cart/discount", headers=headers, json={"code": "TEN"})
    removed = await client.delete("/api/v1/cart/discount", headers=headers)
    assert (await removed.get_json())["discount"] is None


async def test_a_code_that_stopped_applying_is_quoted_without_it_and_refused_at_checkout(
    client, customer, stock, fill_cart, checkout
):
    user, headers = customer
    code = await make_code("SHIP", type="free_shipping", value=0)
    await fill_cart(user, (stock.shirt, 1))
    assert (
        await client.post("/api/v1/cart/discount", headers=headers, json={"code": "ship"})
    ).status_code == 200
    await code.set({"active": False})
    _, priced = await quote(client, headers)
    assert priced["discount"]["applied"] is False and priced["discount"]["reason"] == "unknown"
    refused = await checkout(headers)
    assert refused.status_code == 422 and (await refused.get_json())["code"] == "discount_invalid"
    assert await order_count() == 0 and await stock_of(stock.shirt) == 10


@pytest.fixture
def interleaved(monkeypatch):
    """Every checkout yields to the others between checking the code and counting its use
    (the window an over-redemption needs): without transactions they all overlap there."""
    original = discounts.usable

    async def slow(*args, **kwargs):
        found = await original(*args, **kwargs)
        for _ in range(50):
            await asyncio.sleep(0)
        return found

    monkeypatch.setattr(discounts, "usable", slow)


@pytest.mark.parametrize("transactions", [True, False], ids=["transaction", "no-transaction"])
async def test_fifty_shoppers_race_for_a_codes_last_five_uses(
    request, create_user, stock, fill_cart, client, interleaved, transactions
):
    if not transactions:
        request.getfixturevalue("no_transactions")
    code = await make_code("LAST", usage_limit=12)
    await Discount.get_pymongo_collection().update_one(
        {"_id": code.id}, {"$set": {"times_used": 7, "uses_left": 5}}
    )
    await stock.shirt.set({"stock": 60, "variants.0.stock": 60})
    shoppers = [await create_user() for _ in range(50)]
    for user, headers in shoppers:
        await fill_cart(user, (stock.shirt, 1))
        applied = await client.post("/api/v1/cart/discount", headers=headers, json={"code": "last"})
        assert applied.status_code == 200

    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/orders",
                json={"shipping_address": ADDRESS},
                headers=headers,
                scope_base={"client": (f"10.0.1.{i}", 40000)},
            )
            for i, (_, headers) in enumerate(shoppers, start=1)
        )
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * 5 + [422] * 45, statuses
    refused = [await r.get_json() for r in responses if r.status_code == 422]
    assert {(p["code"], p["reason"]) for p in refused} == {("discount_invalid", "used_up")}
    orders = await Order.find_all().to_list()
    assert len(orders) == 5
    assert all(o.discount.code == "LAST" and o.discount_total == 150 for o in orders)
    stored = await Discount.get(code.id)
    assert (stored.times_used, stored.uses_left) == (12, 0)
    # Nothing of the refused shoppers changed: stock, carts and codes on them.
    assert await stock_of(stock.shirt) == 55
    winners = {o.user_id for o in orders}
    for user, _ in shoppers:
        cart = await Cart.find_one({"user_id": user.id})
        if user.id in winners:
            assert cart.lines == []
        else:
            assert [line.quantity for line in cart.lines] == [1] and cart.discount_code == "LAST"


async def test_cancel_and_full_refund_give_the_use_back_once(
    client, customer, admin, stock, fill_cart, checkout, pay
):
    user, headers = customer
    _, admin_headers = admin
    code = await make_code("ONCE", usage_limit=2, usage_limit_per_customer=2)
    orders = []
    for _ in range(2):
        await fill_cart(user, (stock.shirt, 1))
        await client.post("/api/v1/cart/discount", headers=headers, json={"code": "once"})
        orders.append(await (await checkout(headers)).get_json())
    assert (await Discount.get(code.id)).uses_left == 0

    cancelled = await client.post(f"/api/v1/orders/{orders[0]['id']}/cancel", headers=headers)
    assert cancelled.status_code == 200
    stored = await Discount.get(code.id)
    assert (stored.times_used, stored.uses_left) == (1, 1)
    assert (await DiscountUse.find_one()).uses == 1
    # Asked again: nothing more given back.
    again = await client.post(f"/api/v1/orders/{orders[0]['id']}/cancel", headers=headers)
    assert again.status_code == 409
    assert (await Discount.get(code.id)).times_used == 1

    paid = await pay(orders[1]["id"], headers)
    assert paid.status_code == 200
    too_much = await client.post(
        f"/api/v1/admin/orders/{orders[1]['id']}/refund",
        headers=admin_headers,
        json={"amount": orders[1]["total"] + 1},
    )
    assert too_much.status_code in (409, 422)
    refunded = await client.post(
        f"/api/v1/admin/orders/{orders[1]['id']}/refund", headers=admin_headers, json={}
    )
    assert refunded.status_code == 200, await refunded.get_json()
    assert (await refunded.get_json())["status"] == "refunded"
    stored = await Discount.get(code.id)
    assert (stored.times_used, stored.uses_left) == (0, 2)
    assert (await DiscountUse.find_one()).uses == 0


async def test_a_guest_quotes_applies_a_code_and_its_per_customer_limit_counts_by_email(
    client, stock, rules
):
    await make_code("WELCOME", usage_limit_per_customer=1)

    async def guest_with_code() -> dict[str, str]:
        added = await client.post(
            "/api/v1/cart/items", json={"product_id": str(stock.shirt.id), "quantity": 1}
        )
        headers = {"Cart-Token": (await added.get_json())["cart_token"]}
        applied = await client.post(
            "/api/v1/cart/discount", headers=headers, json={"code": "welcome"}
        )
        assert applied.status_code == 200
        return headers

    first = await guest_with_code()
    status, priced = await quote(client, first, country="US", region="NY")
    assert status == 200 and priced["discount_total"] == 150 and priced["tax_total"] == 120
    placed = await client.post(
        "/api/v1/orders",
        headers=first,
        json={
            "email": "Guest@Example.com",
            "shipping_address": NY,
            "shipping_method_id": str(rules.standard.id),
        },
    )
    assert placed.status_code == 201, await placed.get_json()
    assert (await placed.get_json())["total"] == priced["total"] == 1500 - 150 + 599 + 120

    # Another guest cart, the same email (any case): that customer's one use is spent.
    second = await guest_with_code()
    refused = await client.post(
        "/api/v1/orders",
        headers=second,
        json={
            "email": "guest@example.COM",
            "shipping_address": NY,
            "shipping_method_id": str(rules.standard.id),
        },
    )
    assert refused.status_code == 422
    assert (await refused.get_json())["reason"] == "customer_limit"
    other = await client.post(
        "/api/v1/orders",
        headers=second,
        json={
            "email": "someone.else@example.com",
            "shipping_address": NY,
            "shipping_method_id": str(rules.standard.id),
        },
    )
    assert other.status_code == 201
    assert (await DiscountUse.find({}).count()) == 2
    unknown = await client.get("/api/v1/cart/quote", headers={"Cart-Token": "x" * 43})
    assert unknown.status_code == 404
    assert (await unknown.get_json())["code"] == "cart_not_found"


async def test_a_guests_code_comes_along_when_the_cart_merges_at_login(client, customer, stock):
    _, headers = customer
    await make_code("JOIN")
    added = await client.post(
        "/api/v1/cart/items", json={"product_id": str(stock.mug.id), "quantity": 1}
    )
    token = (await added.get_json())["cart_token"]
    applied = await client.post(
        "/api/v1/cart/discount", headers={"Cart-Token": token}, json={"code": "join"}
    )
    assert applied.status_code == 200
    merged = await client.post("/api/v1/cart/merge", headers=headers, json={"cart_token": token})
    assert merged.status_code == 200
    _, priced = await quote(client, headers)
    assert priced["discount"]["code"] == "JOIN" and priced["discount_total"] == 80
