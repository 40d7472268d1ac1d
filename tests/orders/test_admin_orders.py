"""`/api/v1/admin/orders`: every order, filtered and paginated; admins only."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest

from app.core.clock import utcnow
from app.orders.models import Order

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
async def orders(create_user, placed_order, stock):
    await stock.mug.set({"stock": 50, "variants.0.stock": 50})
    await stock.shirt.set({"stock": 50, "variants.0.stock": 50})
    alice, bob = await create_user(), await create_user()
    placed = {
        "a1": await placed_order(user=alice),
        "a2": await placed_order(user=alice, paid=True),
        "b1": await placed_order(user=bob, paid=True),
    }
    # Spread them over days, oldest first.
    for days, key in ((3, "a1"), (2, "a2"), (1, "b1")):
        await Order.get_pymongo_collection().update_one(
            {"number": placed[key]["number"]},
            {"$set": {"created_at": utcnow() - timedelta(days=days)}},
        )
    return placed, alice[0], bob[0]


async def ids(client, admin, query: str) -> list[str]:
    response = await client.get(f"/api/v1/admin/orders{query}", headers=admin[1])
    assert response.status_code == 200, await response.get_data(as_text=True)
    return [item["id"] for item in (await response.get_json())["items"]]


async def test_filters(client, admin, orders):
    placed, alice, bob = orders
    a1, a2, b1 = (placed[k]["id"] for k in ("a1", "a2", "b1"))
    assert await ids(client, admin, "") == [b1, a2, a1]
    assert await ids(client, admin, "?status=paid") == [b1, a2]
    assert await ids(client, admin, f"?user_id={alice.id}") == [a2, a1]
    assert await ids(client, admin, f"?user_id={bob.id}&status=pending_payment") == []
    assert await ids(client, admin, f"?q={placed['b1']['number']}") == [b1]
    assert await ids(client, admin, f"?q={placed['b1']['number'].lower()}") == [b1]
    since = (utcnow() - timedelta(days=2, hours=1)).isoformat().replace("+00:00", "Z")
    assert await ids(client, admin, f"?created_from={since}") == [b1, a2]
    until = (utcnow() - timedelta(days=1, hours=12)).isoformat().replace("+00:00", "Z")
    assert await ids(client, admin, f"?created_from={since}&created_to={until}") == [a2]
    page = await (
        await client.get("/api/v1/admin/orders?per_page=2&page=2", headers=admin[1])
    ).get_json()
    assert page["total"] == 3 and page["pages"] == 2 and [i["id"] for i in page["items"]] == [a1]
    assert page["items"][0]["email"] == alice.email


async def test_filter_by_customer_email(client, admin, orders):
    placed, alice, bob = orders
    a1, a2, b1 = (placed[k]["id"] for k in ("a1", "a2", "b1"))
    assert await ids(client, admin, f"?email={alice.email}") == [a2, a1]
    # Any case, spaces around: the address as the account (and so the order) stores it.
    shouted = quote(f"  {bob.email.upper()} ")
    assert await ids(client, admin, f"?email={shouted}") == [b1]
    assert await ids(client, admin, f"?email={quote(alice.email)}&status=paid") == [a2]
    since = (utcnow() - timedelta(days=2, hours=12)).isoformat().replace("+00:00", "Z")
    assert await ids(client, admin, f"?email={quote(alice.email)}&created_from={since}") == [a2]
    assert await ids(client, admin, "?email=nobody@example.com") == []
    # A whole address, not the start of one.
    local, _, domain = alice.email.partition("@")
    assert await ids(client, admin, f"?email={local[:-1]}@{domain}") == []


async def test_the_email_filter_has_its_index():
    indexes = await Order.get_pymongo_collection().index_information()
    assert indexes["email_newest"]["key"] == [("email", 1), ("created_at", -1), ("_id", -1)]


@pytest.mark.parametrize("email", ["alice", "@example.com", "a b@example.com", "a@" + "x" * 320])
async def test_a_bad_email_filter_is_422_problem(client, admin, email):
    response = await client.get(
        "/api/v1/admin/orders", headers=admin[1], query_string={"email": email}
    )
    assert (response.status_code, response.content_type) == (422, "application/problem+json")
    assert (await response.get_json())["code"] == "validation_error"


@pytest.mark.parametrize(
    "query",
    [
        "?status=lost",
        "?user_id=123",
        "?created_from=yesterday",
        "?created_to=0.5",  # text, not a Unix time
        "?created_from=1767225600",
        "?created_from=2026-02-01T00:00:00Z&created_to=2026-01-31T23:00:00",  # naive is UTC
        "?created_from=2026-02-01T00:00:00Z&created_to=2026-01-01T00:00:00Z",
        "?per_page=101",
        "?sort=price",
        "?q=" + "x" * 40,
    ],
)
async def test_bad_filters_are_422(client, admin, query):
    response = await client.get(f"/api/v1/admin/orders{query}", headers=admin[1])
    assert response.status_code == 422


async def test_one_order_shows_owner_and_actors(client, admin, orders):
    placed, alice, _ = orders
    response = await client.get(f"/api/v1/admin/orders/{placed['a2']['id']}", headers=admin[1])
    body = await response.get_json()
    assert body["user_id"] == str(alice.id) and body["email"] == alice.email
    assert [h["actor"] for h in body["history"]] == [f"user:{alice.id}", "customer"]


@pytest.mark.parametrize(
    "method,path,body",
    [
        ("get", "/api/v1/admin/orders", None),
        ("get", "/api/v1/admin/orders/0123456789abcdef01234567", None),
        ("post", "/api/v1/admin/orders/0123456789abcdef01234567/status", {"status": "shipped"}),
        ("post", "/api/v1/admin/orders/0123456789abcdef01234567/refund", {}),
    ],
)
async def test_admins_only(client, customer, method, path, body):
    kwargs = {"json": body} if body is not None else {}
    anonymous = await getattr(client, method)(path, **kwargs)
    as_customer = await getattr(client, method)(path, headers=customer[1], **kwargs)
    assert anonymous.status_code == 401 and as_customer.status_code == 403


async def test_unknown_order_is_404(client, admin):
    for path in ("/api/v1/admin/orders/0123456789abcdef01234567", "/api/v1/admin/orders/zzz"):
        assert (await client.get(path, headers=admin[1])).status_code == 404
