"""The cart: views at current prices, adding, changing and removing lines, and every refusal."""

from __future__ import annotations

import pytest
from beanie import PydanticObjectId

from app.cart.models import MAX_LINE_QUANTITY, MAX_LINES, Cart, CartLine
from app.catalog import products as catalog
from app.catalog.models import Product, ProductImage
from tests.support.cart import URL, quantities

NO_GUEST = {"cart_token": None, "cart_merge": None}  # an account's cart

UNKNOWN_ID = "0123456789abcdef01234567"


async def stored_lines(user) -> dict[str, int]:
    cart = await Cart.find_one({"user_id": user.id})
    return {str(line.product_id): line.quantity for line in cart.lines} if cart else {}


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", ""),
        ("delete", ""),
        ("patch", f"/items/{UNKNOWN_ID}"),
        ("delete", f"/items/{UNKNOWN_ID}"),
    ],
)
async def test_auth_or_a_cart_token_is_required(client, method, path):
    # Only adding an item creates a (guest) cart without either: tests/cart/test_guest.py.
    kwargs = (
        {"json": {"product_id": UNKNOWN_ID, "quantity": 1}} if method in ("post", "patch") else {}
    )
    response = await getattr(client, method)(f"{URL}{path}", **kwargs)
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "unauthenticated"


async def test_unverified_users_can_use_the_cart(create_user, cart_api, product):
    user, headers = await create_user(email_verified=False)
    mug = await product()
    status, body = await cart_api.add(headers, mug.id, 2)
    assert status == 200
    assert quantities(body) == {str(mug.id): 2}
    assert await stored_lines(user) == {str(mug.id): 2}


# -- views -----------------------------------------------------------------------------------


async def test_no_cart_is_an_empty_cart_and_reading_creates_nothing(customer, cart_api):
    _, headers = customer
    status, body = await cart_api.get(headers)
    assert status == 200
    assert body == {"items": [], "subtotal": 0, "item_count": 0, "currency": "usd", **NO_GUEST}
    assert await Cart.find_all().count() == 0


async def test_a_line_shows_the_product_and_the_totals(customer, cart_api, product):
    _, headers = customer
    mug = await product(
        "Blue Mug",
        price=1250,
        stock=7,
        images=[
            ProductImage(url="https://img.test/front.jpg"),
            ProductImage(url="https://img.test/back.jpg"),
        ],
    )
    plate = await product("Plate", price=300, stock=500)
    await cart_api.add(headers, mug.id, 3)
    status, body = await cart_api.add(headers, plate.id, 2)
    assert status == 200
    assert body["items"] == [
        {
            "product_id": str(mug.id),
            "variant_id": str(mug.id),
            "sku": f"P-{mug.id}",
            "options": {},
            "name": "Blue Mug",
            "slug": mug.slug,
            "image": "https://img.test/front.jpg",
            "unit_price": 1250,
            "quantity": 3,
            "line_total": 3750,
            "available": True,
            "available_quantity": 7,
        },
        {
            "product_id": str(plate.id),
            "variant_id": str(plate.id),
            "sku": f"P-{plate.id}",
            "options": {},
            "name": "Plate",
            "slug": plate.slug,
            "image": None,
            "unit_price": 300,
            "quantity": 2,
            "line_total": 600,
            "available": True,
            # More in stock than a line can hold: the line's own limit.
            "available_quantity": MAX_LINE_QUANTITY,
        },
    ]
    assert (body["subtotal"], body["item_count"], body["currency"]) == (4350, 5, "usd")
    assert (await cart_api.get(headers)) == (200, body)


@pytest.mark.parametrize("settings_overrides", [{"STORE_CURRENCY": "eur"}])
async def test_currency_is_the_stores(customer, cart_api, product):
    _, headers = customer
    mug = await product(currency="eur")
    _, body = await cart_api.add(headers, mug.id)
    assert body["currency"] == "eur"
    assert (await cart_api.get(headers))[1]["currency"] == "eur"


async def test_prices_are_current_prices(customer, cart_api, product):
    _, headers = customer
    mug = await product(price=1000)
    await cart_api.add(headers, mug.id, 2)
    await catalog.update_product(product_id=str(mug.id), changes={"price": 1500})
    _, body = await cart_api.get(headers)
    assert body["items"][0]["unit_price"] == 1500
    assert body["items"][0]["line_total"] == 3000
    assert body["subtotal"] == 3000


async def test_archived_product_line_is_unavailable_and_left_out_of_the_totals(
    customer, cart_api, product, client, admin
):
    _, headers = customer
    mug = await product("Mug", price=1000)
    plate = await product("Plate", price=300)
    await cart_api.add(headers, mug.id, 2)
    await cart_api.add(headers, plate.id, 1)
    response = await client.delete(f"/api/v1/admin/products/{mug.id}", headers=admin[1])
    assert response.status_code == 204
    _, body = await cart_api.get(headers)
    line = body["items"][0]
    assert line["product_id"] == str(mug.id) and line["name"] == "Mug"
    assert (line["available"], line["available_quantity"]) == (False, 0)
    assert (line["unit_price"], line["line_total"]) == (1000, 2000)
    assert (body["subtotal"], body["item_count"]) == (300, 1)


async def test_line_over_the_stock_is_unavailable_with_the_quantity_left(
    customer, cart_api, product
):
    _, headers = customer
    mug = await product(price=1000, stock=10)
    await cart_api.add(headers, mug.id, 5)
    await Product.find_one({"_id": mug.id}).update({"$set": {"stock": 3, "variants.0.stock": 3}})
    _, body = await cart_api.get(headers)
    line = body["items"][0]
    assert (line["quantity"], line["available"], line["available_quantity"]) == (5, False, 3)
    assert (body["subtotal"], body["item_count"]) == (0, 0)
    # Lowering it to what is left makes it available again.
    status, body = await cart_api.set(headers, mug.id, 3)
    assert status == 200
    assert body["items"][0]["available"] is True
    assert (body["subtotal"], body["item_count"]) == (3000, 3)


async def test_a_line_whose_product_is_gone_is_listed_as_unavailable(customer, cart_api, product):
    _, headers = customer
    mug = await product()
    await cart_api.add(headers, mug.id, 2)
    await Product.find_one({"_id": mug.id}).delete()
    _, body = await cart_api.get(headers)
    line = body["items"][0]
    assert line["product_id"] == str(mug.id)
    assert (line["available"], line["available_quantity"], line["slug"]) == (False, 0, None)
    assert (line["unit_price"], line["line_total"]) == (0, 0)
    assert line["name"]
    # It can only be removed.
    status, problem = await cart_api.set(headers, mug.id, 1)
    assert (status, problem["code"], problem["available"]) == (409, "insufficient_stock", 0)
    status, body = await cart_api.remove(headers, mug.id)
    assert status == 200 and body["items"] == []


async def test_one_query_prices_the_whole_cart(customer, cart_api, product, monkeypatch):
    _, headers = customer
    products = [await product(f"Thing {i}") for i in range(5)]
    for item in products:
        await cart_api.add(headers, item.id)
    calls = []
    original = catalog.products_by_id

    async def counting(ids, *, session=None):
        calls.append(set(ids))
        return await original(ids, session=session)

    monkeypatch.setattr(catalog, "products_by_id", counting)
    _, body = await cart_api.get(headers)
    assert len(body["items"]) == 5
    assert calls == [{item.id for item in products}]


# -- adding ----------------------------------------------------------------------------------


async def test_adding_merges_into_the_line(customer, cart_api, product):
    user, headers = customer
    mug = await product(stock=20)
    await cart_api.add(headers, mug.id, 2)
    before = (await Cart.find_one({"user_id": user.id})).lines[0].added_at
    status, body = await cart_api.add(headers, mug.id, 5)
    assert status == 200
    assert quantities(body) == {str(mug.id): 7}
    cart = await Cart.find_one({"user_id": user.id})
    assert len(cart.lines) == 1 and cart.lines[0].added_at == before
    # Stored as ObjectIds, as checkout and queries on `lines.product_id` expect.
    raw = await Cart.get_pymongo_collection().find_one({"lines.product_id": mug.id})
    assert raw is not None and raw["user_id"] == user.id


async def test_new_lines_keep_the_order_they_were_added_in(customer, cart_api, product):
    _, headers = customer
    first, second, third = [await product(f"Thing {i}") for i in range(3)]
    for item in (first, second, third, first):
        await cart_api.add(headers, item.id)
    _, body = await cart_api.get(headers)
    assert [item["product_id"] for item in body["items"]] == [
        str(first.id),
        str(second.id),
        str(third.id),
    ]


async def test_merged_quantity_over_the_line_limit_is_409(customer, cart_api, product):
    user, headers = customer
    mug = await product(stock=1000)
    await cart_api.add(headers, mug.id, 60)
    status, problem = await cart_api.add(headers, mug.id, 40)
    assert status == 409
    assert problem["code"] == "cart_quantity_limit"
    assert (problem["max_quantity"], problem["in_cart"]) == (MAX_LINE_QUANTITY, 60)
    assert await stored_lines(user) == {str(mug.id): 60}
    assert (await cart_api.add(headers, mug.id, 39))[0] == 200


async def test_more_than_in_stock_is_409_with_what_is_available(customer, cart_api, product):
    user, headers = customer
    mug = await product(stock=4)
    status, problem = await cart_api.add(headers, mug.id, 5)
    assert status == 409
    assert problem["code"] == "insufficient_stock"
    assert (problem["available"], problem["product_id"]) == (4, str(mug.id))
    assert await stored_lines(user) == {}
    assert await Cart.find_all().count() == 0


async def test_merged_quantity_over_the_stock_is_409(customer, cart_api, product):
    user, headers = customer
    mug = await product(stock=10)
    await cart_api.add(headers, mug.id, 3)
    status, problem = await cart_api.add(headers, mug.id, 8)
    assert status == 409
    assert problem["code"] == "insufficient_stock"
    assert (problem["available"], problem["in_cart"], problem["requested"]) == (10, 3, 11)
    assert await stored_lines(user) == {str(mug.id): 3}
    assert (await cart_api.add(headers, mug.id, 7))[0] == 200
    assert await stored_lines(user) == {str(mug.id): 10}


async def test_out_of_stock_product_cannot_be_added(customer, cart_api, product):
    _, headers = customer
    mug = await product(stock=0)
    status, problem = await cart_api.add(headers, mug.id, 1)
    assert (status, problem["code"], problem["available"]) == (409, "insufficient_stock", 0)


async def test_unknown_product_is_404(customer, cart_api):
    _, headers = customer
    status, problem = await cart_api.add(headers, UNKNOWN_ID, 1)
    assert (status, problem["code"]) == (404, "not_found")
    assert await Cart.find_all().count() == 0


async def test_archived_product_is_404(customer, cart_api, product):
    _, headers = customer
    mug = await product(status="archived")
    status, problem = await cart_api.add(headers, mug.id, 1)
    assert (status, problem["code"]) == (404, "not_found")


async def test_a_full_cart_refuses_a_new_line_but_merges(customer, cart_api, product):
    user, headers = customer
    mug = await product()
    lines = [CartLine(product_id=PydanticObjectId(), quantity=1) for _ in range(MAX_LINES - 1)]
    await Cart(user_id=user.id, lines=[CartLine(product_id=mug.id, quantity=1), *lines]).insert()
    newcomer = await product("Plate")
    status, problem = await cart_api.add(headers, newcomer.id, 1)
    assert status == 409
    assert (problem["code"], problem["max_lines"]) == ("cart_full", MAX_LINES)
    assert len(await stored_lines(user)) == MAX_LINES
    status, body = await cart_api.add(headers, mug.id, 1)
    assert status == 200 and quantities(body)[str(mug.id)] == 2


async def test_the_cart_holds_max_lines_products(customer, cart_api, product):
    user, headers = customer
    lines = [CartLine(product_id=PydanticObjectId(), quantity=1) for _ in range(MAX_LINES - 2)]
    await Cart(user_id=user.id, lines=lines).insert()
    mug = await product()
    status, body = await cart_api.add(headers, mug.id, 1)
    assert status == 200 and len(body["items"]) == MAX_LINES - 1


ADD_CASES = [
    ({"quantity": 1}, "product_id"),
    ({"product_id": "ok"}, "quantity"),
    ({"product_id": "ok", "quantity": 0}, "quantity"),
    ({"product_id": "ok", "quantity": -1}, "quantity"),
    ({"product_id": "ok", "quantity": MAX_LINE_QUANTITY + 1}, "quantity"),
    ({"product_id": "ok", "quantity": 10**30}, "quantity"),
    ({"product_id": "ok", "quantity": True}, "quantity"),
    ({"product_id": "ok", "quantity": "2"}, "quantity"),
    ({"product_id": "ok", "quantity": 2.5}, "quantity"),
    ({"product_id": "ok", "quantity": 2.0}, "quantity"),  # JSON integers only
    ({"product_id": "ok", "quantity": 2.5}, "quantity"),
    ({"product_id": "ok", "quantity": None}, "quantity"),
    ({"product_id": "ok", "quantity": [1]}, "quantity"),
    ({"product_id": "not-an-id", "quantity": 1}, "product_id"),
    ({"product_id": "0123456789abcdef0123456", "quantity": 1}, "product_id"),
    ({"product_id": "0123456789abcdef012345678", "quantity": 1}, "product_id"),
    ({"product_id": "0123456789abcdef0123456z", "quantity": 1}, "product_id"),
    ({"product_id": 12345, "quantity": 1}, "product_id"),
    ({"product_id": None, "quantity": 1}, "product_id"),
    ({"product_id": {"$ne": None}, "quantity": 1}, "product_id"),
    ({"product_id": "ok", "quantity": 1, "price": 1}, "price"),
]


@pytest.mark.parametrize("body, field", ADD_CASES)
async def test_add_validation(client, customer, product, body, field):
    _, headers = customer
    mug = await product()
    body = {k: str(mug.id) if v == "ok" else v for k, v in body.items()}
    response = await client.post(f"{URL}/items", headers=headers, json=body)
    assert response.status_code == 422
    problem = await response.get_json()
    assert problem["code"] == "validation_error"
    assert field in {error["loc"][-1] for error in problem["errors"]}
    assert await Cart.find_all().count() == 0


@pytest.mark.parametrize("body", [None, [], "x", 1])
async def test_add_needs_an_object(client, customer, body):
    _, headers = customer
    response = await client.post(f"{URL}/items", headers=headers, json=body)
    assert response.status_code in (400, 422)
    assert await Cart.find_all().count() == 0


# -- changing and removing -------------------------------------------------------------------


async def test_set_quantity(customer, cart_api, product):
    user, headers = customer
    mug = await product(stock=10)
    await cart_api.add(headers, mug.id, 2)
    status, body = await cart_api.set(headers, mug.id, 9)
    assert status == 200 and quantities(body) == {str(mug.id): 9}
    status, body = await cart_api.set(headers, mug.id, 1)
    assert status == 200 and quantities(body) == {str(mug.id): 1}
    assert body["subtotal"] == mug.price
    assert await stored_lines(user) == {str(mug.id): 1}


async def test_set_quantity_zero_removes_the_line(customer, cart_api, product):
    user, headers = customer
    mug, plate = await product("Mug"), await product("Plate")
    await cart_api.add(headers, mug.id, 2)
    await cart_api.add(headers, plate.id, 1)
    status, body = await cart_api.set(headers, mug.id, 0)
    assert status == 200 and quantities(body) == {str(plate.id): 1}
    assert await stored_lines(user) == {str(plate.id): 1}


async def test_set_quantity_over_the_stock_is_409(customer, cart_api, product):
    user, headers = customer
    mug = await product(stock=5)
    await cart_api.add(headers, mug.id, 2)
    status, problem = await cart_api.set(headers, mug.id, 6)
    assert status == 409
    assert (problem["code"], problem["available"], problem["in_cart"]) == (
        "insufficient_stock",
        5,
        2,
    )
    assert await stored_lines(user) == {str(mug.id): 2}


async def test_archived_product_line_can_be_removed_not_raised(
    customer, cart_api, product, client, admin
):
    _, headers = customer
    mug = await product()
    await cart_api.add(headers, mug.id, 2)
    await client.delete(f"/api/v1/admin/products/{mug.id}", headers=admin[1])
    status, problem = await cart_api.set(headers, mug.id, 1)
    assert (status, problem["code"], problem["available"]) == (409, "insufficient_stock", 0)
    status, body = await cart_api.set(headers, mug.id, 0)
    assert status == 200 and body["items"] == []


@pytest.mark.parametrize("product_id", [UNKNOWN_ID, "not-an-id", "0123456789ABCDEF01234567"])
async def test_changing_a_line_not_in_the_cart_is_404(customer, cart_api, product, product_id):
    user, headers = customer
    mug = await product()
    await cart_api.add(headers, mug.id, 1)
    for call in (cart_api.set(headers, product_id, 1), cart_api.remove(headers, product_id)):
        status, problem = await call
        assert (status, problem["code"]) == (404, "not_found")
    assert await stored_lines(user) == {str(mug.id): 1}


async def test_changing_a_product_not_yet_in_the_cart_is_404(customer, cart_api, product):
    _, headers = customer
    mug = await product()
    assert (await cart_api.set(headers, mug.id, 1))[0] == 404
    assert (await cart_api.set(headers, mug.id, 0))[0] == 404
    assert (await cart_api.remove(headers, mug.id))[0] == 404
    assert await Cart.find_all().count() == 0


SET_CASES = [
    {},
    {"quantity": -1},
    {"quantity": MAX_LINE_QUANTITY + 1},
    {"quantity": 2**63},
    {"quantity": True},
    {"quantity": False},
    {"quantity": "1"},
    {"quantity": 1.5},
    {"quantity": 1.0},
    {"quantity": None},
    {"quantity": 1, "product_id": UNKNOWN_ID},
]


@pytest.mark.parametrize("body", SET_CASES)
async def test_set_quantity_validation(client, customer, cart_api, product, body):
    user, headers = customer
    mug = await product()
    await cart_api.add(headers, mug.id, 2)
    response = await client.patch(f"{URL}/items/{mug.id}", headers=headers, json=body)
    assert response.status_code == 422
    assert (await response.get_json())["code"] == "validation_error"
    assert await stored_lines(user) == {str(mug.id): 2}


async def test_remove_a_line(customer, cart_api, product):
    user, headers = customer
    mug, plate = await product("Mug"), await product("Plate")
    await cart_api.add(headers, mug.id, 2)
    await cart_api.add(headers, plate.id, 1)
    status, body = await cart_api.remove(headers, plate.id)
    assert status == 200 and quantities(body) == {str(mug.id): 2}
    assert (await cart_api.remove(headers, plate.id))[0] == 404
    assert await stored_lines(user) == {str(mug.id): 2}


async def test_empty_the_cart(customer, cart_api, product):
    user, headers = customer
    mug, plate = await product("Mug"), await product("Plate")
    await cart_api.add(headers, mug.id, 2)
    await cart_api.add(headers, plate.id, 1)
    status, body = await cart_api.clear(headers)
    assert status == 200
    assert body == {"items": [], "subtotal": 0, "item_count": 0, "currency": "usd", **NO_GUEST}
    assert await stored_lines(user) == {}
    assert (await cart_api.get(headers))[1]["items"] == []
    # Still one cart per user, usable again.
    assert (await cart_api.add(headers, mug.id, 1))[0] == 200
    assert await Cart.find_all().count() == 1


async def test_emptying_no_cart_creates_none(customer, cart_api):
    _, headers = customer
    status, body = await cart_api.clear(headers)
    assert status == 200 and body["items"] == []
    assert await Cart.find_all().count() == 0


# -- one cart per user -----------------------------------------------------------------------


async def test_shoppers_only_see_their_own_cart(create_user, cart_api, product):
    alice, alice_headers = await create_user()
    bob, bob_headers = await create_user()
    mug = await product(stock=10)
    await cart_api.add(alice_headers, mug.id, 3)
    assert (await cart_api.get(bob_headers))[1]["items"] == []
    assert (await cart_api.set(bob_headers, mug.id, 1))[0] == 404
    assert (await cart_api.remove(bob_headers, mug.id))[0] == 404
    await cart_api.clear(bob_headers)
    await cart_api.add(bob_headers, mug.id, 1)
    assert await stored_lines(alice) == {str(mug.id): 3}
    assert await stored_lines(bob) == {str(mug.id): 1}
    assert quantities((await cart_api.get(alice_headers))[1]) == {str(mug.id): 3}


async def test_one_cart_document_per_user(customer, cart_api, product):
    user, headers = customer
    for item in [await product(f"Thing {i}") for i in range(3)]:
        await cart_api.add(headers, item.id)
    assert await Cart.find({"user_id": user.id}).count() == 1


async def test_openapi_documents_the_cart(client):
    spec = await (await client.get("/openapi.json")).get_json()
    assert {
        "name": "cart",
        "description": "The shopper's cart (signed in, or a guest's Cart-Token)",
    } in spec["tags"]
    operations = {
        (method, path): operation
        for path, item in spec["paths"].items()
        if path.startswith(URL)
        for method, operation in item.items()
    }
    assert set(operations) == {
        ("get", URL),
        ("delete", URL),
        ("post", f"{URL}/items"),
        ("patch", f"{URL}/items/{{product_id}}"),
        ("delete", f"{URL}/items/{{product_id}}"),
        ("get", f"{URL}/quote"),
        ("post", f"{URL}/discount"),
        ("delete", f"{URL}/discount"),
        ("post", f"{URL}/merge"),
    }
    for key, operation in operations.items():
        assert operation["tags"] == ["cart"]
        assert "401" in operation["responses"] and "200" in operation["responses"]
        if key == ("post", f"{URL}/merge"):
            continue  # signed in only
        # A login, or none and a guest's Cart-Token: a header parameter the generated
        # client types (not a security scheme: a wrong token is a 404, not a 401).
        assert operation["security"] == [{"bearerAuth": []}, {}]
        headers = [p["name"] for p in operation["parameters"] if p["in"] == "header"]
        assert "Cart-Token" in headers
    assert {"404", "409", "422"} <= set(operations[("post", f"{URL}/items")]["responses"])
