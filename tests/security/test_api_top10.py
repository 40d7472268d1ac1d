"""OWASP API Security Top 10 (2023), the items that apply to this API, checked across every
route the app serves (the URL map is enumerated, so a new route is covered the day it lands).

API1 object-level authorisation, API2 authentication (JWT forgery: tests/auth/test_tokens.py),
API3 property-level (mass assignment), API4 resource consumption (body size, page size),
API5 function-level authorisation, API8 misconfiguration (injection of query operators; the
security headers: tests/security/test_headers*.py).
"""

from __future__ import annotations

import re

import pytest
from quart_schema.validation import (
    QUART_SCHEMA_QUERYSTRING_ATTRIBUTE,
    QUART_SCHEMA_REQUEST_ATTRIBUTE,
)

from tests.support.orders import ADDRESS

pytestmark = pytest.mark.usefixtures("app")

SOME_ID = "0123456789abcdef01234567"
_PARAM = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def api_routes(app, prefix: str = "/api/v1", *, having: str | None = None) -> list[tuple[str, str]]:
    """(method, concrete path) for every API route, path parameters filled with an id;
    `having`: only routes whose view carries that quart-schema attribute."""
    routes = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix):
            continue
        view = app.view_functions[rule.endpoint]
        if having is not None and getattr(view, having, None) is None:
            continue
        path = _PARAM.sub(SOME_ID, rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((method, path))
    return sorted(set(routes))


async def call(client, method: str, path: str, **kwargs):
    return await client.open(path, method=method, **kwargs)


# -- API5: function-level authorisation -----------------------------------------------------


async def test_every_admin_route_refuses_anonymous_and_customers(app, client, customer):
    routes = api_routes(app, "/api/v1/admin")
    assert len(routes) >= 10, routes
    for method, path in routes:
        body = {} if method in ("POST", "PATCH", "PUT") else None
        kwargs = {"json": body} if body is not None else {}
        anonymous = await call(client, method, path, **kwargs)
        as_customer = await call(client, method, path, headers=customer[1], **kwargs)
        assert anonymous.status_code == 401, (method, path, anonymous.status_code)
        assert as_customer.status_code == 403, (method, path, as_customer.status_code)


PUBLIC = {
    ("GET", "/api/v1/products"),
    ("GET", f"/api/v1/products/{SOME_ID}"),
    ("GET", f"/api/v1/products/{SOME_ID}/reviews"),
    ("GET", "/api/v1/categories"),
    ("POST", "/api/v1/payments/webhook"),
    ("GET", "/api/v1/payments/config"),  # the provider and Stripe's publishable key: public
    ("GET", "/api/v1/shipping-methods"),  # what the store ships where, at what price
}


# Takes no login and no token: it creates a guest cart (a valid body is needed; rate-limited).
CREATES_A_GUEST_CART = {("POST", "/api/v1/cart/items")}


async def test_every_non_auth_route_needs_a_token_unless_public(app, client):
    for method, path in api_routes(app):
        if path.startswith("/api/v1/auth") or (method, path) in PUBLIC:
            continue
        kwargs = {"json": {}} if method in ("POST", "PATCH", "PUT") else {}
        response = await call(client, method, path, **kwargs)
        expected = 422 if (method, path) in CREATES_A_GUEST_CART else 401
        assert response.status_code == expected, (method, path, response.status_code)


# -- API1: object-level authorisation -------------------------------------------------------


async def test_another_users_objects_are_404(client, create_user, placed_order):
    owner, owner_headers = await create_user()
    _, stranger = await create_user()
    order = await placed_order(user=(owner, owner_headers))
    address = await (
        await client.post(
            "/api/v1/users/me/addresses",
            json={k: v for k, v in ADDRESS.items() if k != "name"},
            headers=owner_headers,
        )
    ).get_json()

    product_id = order["items"][0]["product_id"]
    in_cart = await client.post(
        "/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=owner_headers
    )
    assert in_cart.status_code == 200
    review = await client.post(
        f"/api/v1/products/{product_id}/reviews",
        json={"rating": 4, "title": "Good", "body": "Fine shirt."},
        headers=owner_headers,
    )
    assert review.status_code == 201, await review.get_data(as_text=True)
    review_id = (await review.get_json())["id"]

    attempts = [
        ("PATCH", f"/api/v1/cart/items/{product_id}", {"quantity": 2}),
        ("DELETE", f"/api/v1/cart/items/{product_id}", None),
        ("PATCH", f"/api/v1/reviews/{review_id}", {"rating": 1}),
        ("DELETE", f"/api/v1/reviews/{review_id}", None),
        ("GET", f"/api/v1/orders/{order['id']}", None),
        ("POST", f"/api/v1/orders/{order['id']}/pay", {"payment_method": "pm_card_visa"}),
        ("POST", f"/api/v1/orders/{order['id']}/cancel", None),
        ("PATCH", f"/api/v1/users/me/addresses/{address['id']}", {"city": "Elsewhere"}),
        ("DELETE", f"/api/v1/users/me/addresses/{address['id']}", None),
    ]
    for method, path, body in attempts:
        kwargs = {"json": body} if body is not None else {}
        response = await call(client, method, path, headers=stranger, **kwargs)
        assert response.status_code == 404, (method, path, response.status_code)
    # ...and nothing changed for the owner.
    mine = await (
        await client.get(f"/api/v1/orders/{order['id']}", headers=owner_headers)
    ).get_json()
    assert mine["status"] == "pending_payment"
    book = await (await client.get("/api/v1/users/me/addresses", headers=owner_headers)).get_json()
    assert [a["city"] for a in book["items"]] == [address["city"]]
    listed = await (await client.get("/api/v1/orders", headers=stranger)).get_json()
    assert listed["total"] == 0
    cart = await (await client.get("/api/v1/cart", headers=owner_headers)).get_json()
    assert [(line["product_id"], line["quantity"]) for line in cart["items"]] == [(product_id, 1)]
    reviews = await (await client.get(f"/api/v1/products/{product_id}/reviews")).get_json()
    assert [r["rating"] for r in reviews["items"]] == [4]


# -- API3: property-level authorisation (mass assignment) ------------------------------------


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("PATCH", "/api/v1/users/me", {"role": "admin"}),
        ("PATCH", "/api/v1/users/me", {"email_verified": True}),
        ("PATCH", "/api/v1/users/me", {"is_active": True, "name": "x"}),
        ("PATCH", "/api/v1/users/me", {"email": "new@example.com"}),
        ("POST", "/api/v1/orders", {"shipping_address": ADDRESS, "total": 1}),
        ("POST", "/api/v1/orders", {"shipping_address": ADDRESS, "status": "paid"}),
        (
            "POST",
            "/api/v1/orders",
            {"shipping_address": ADDRESS, "payment": {"status": "succeeded"}},
        ),
        ("POST", "/api/v1/orders", {"shipping_address": {**ADDRESS, "price": 1}}),
        ("POST", "/api/v1/orders", {"shipping_address": ADDRESS, "user_id": SOME_ID}),
        ("POST", "/api/v1/orders", {"shipping_address": ADDRESS, "order_token": "x" * 43}),
        ("POST", "/api/v1/cart/merge", {"cart_token": "x" * 43, "user_id": SOME_ID}),
        (
            "POST",
            f"/api/v1/orders/{SOME_ID}/pay",
            {"payment_method": "pm_card_visa", "amount": 1},
        ),
    ],
)
async def test_no_body_sets_what_its_sender_may_not(client, customer, method, path, body):
    _, headers = customer
    response = await call(client, method, path, json=body, headers=headers)
    assert response.status_code == 422, (method, path, await response.get_data(as_text=True))
    assert "errors" in await response.get_json()


async def test_registration_cannot_choose_a_role(client):
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "eve@example.com",
            "password": "Correct-Horse-42",
            "name": "Eve",
            "role": "admin",
            "email_verified": True,
        },
    )
    assert response.status_code == 422


# -- API4: unrestricted resource consumption -------------------------------------------------


async def test_every_route_with_a_body_refuses_an_oversized_one(app, client, admin):
    big = {"name": "x" * (1024 * 1024 + 10)}
    for method, path in api_routes(app, having=QUART_SCHEMA_REQUEST_ATTRIBUTE):
        response = await call(client, method, path, json=big, headers=admin[1])
        assert response.status_code == 413, (method, path, response.status_code)


async def test_every_list_refuses_huge_pages(app, client, admin):
    lists = [
        path
        for method, path in api_routes(app, having=QUART_SCHEMA_QUERYSTRING_ATTRIBUTE)
        if method == "GET"
    ]
    assert len(lists) >= 5, lists
    for path in lists:
        response = await client.get(f"{path}?per_page=1000", headers=admin[1])
        assert response.status_code == 422, (path, response.status_code)


# -- injection: query operators never reach the database ------------------------------------


OPERATOR_VALUES = [{"$ne": None}, {"$gt": ""}, {"$where": "sleep(1000)"}, ["$ne", 1]]


async def test_operator_objects_in_bodies_are_refused(app, client, admin):
    """Wherever a body field is expected to be a string or number, an operator object or
    list is a 422 (or the route refuses earlier), never a 2xx and never a 5xx."""
    for method, path in api_routes(app):
        if method not in ("POST", "PATCH", "PUT") or path.endswith("/webhook"):
            continue
        for value in OPERATOR_VALUES:
            body = {
                name: value
                for name in ("email", "password", "name", "token", "product_id", "status", "q")
            }
            response = await call(client, method, path, json=body, headers=admin[1])
            assert 400 <= response.status_code < 500, (method, path, response.status_code)
            assert response.status_code != 200


async def test_login_with_operators_is_422(client, customer):
    for value in OPERATOR_VALUES:
        response = await client.post(
            "/api/v1/auth/login", json={"email": customer[0].email, "password": value}
        )
        assert response.status_code == 422


@pytest.mark.parametrize(
    "query",
    [
        "brand[$ne]=x",
        "brand=%7B%22%24ne%22%3Anull%7D",  # brand={"$ne":null} is just a brand name
        "q=%7B%22%24gt%22%3A%22%22%7D",
        "category[$regex]=.*",
        "min_price[$gt]=0",
        "sort=%24natural",
    ],
)
async def test_operator_query_strings_are_plain_values_or_422(
    client, query, make_category, make_product
):
    shoes = await make_category("Shoes")
    await make_product("Runner", shoes, brand="Stride")
    response = await client.get(f"/api/v1/products?{query}")
    assert response.status_code in (200, 422)
    if response.status_code == 200:
        assert (await response.get_json())["total"] == 0  # matched as text: nothing
