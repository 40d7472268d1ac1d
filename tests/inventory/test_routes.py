"""The admin inventory routes: who may call them, what they accept, what they list."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from beanie import PydanticObjectId

from app.inventory.models import StockMovement
from tests.support.inventory import stored

pytestmark = pytest.mark.usefixtures("app")

ZERO_ID = "0" * 24
MOVEMENTS = "/api/v1/admin/inventory/movements"
LOW_STOCK = "/api/v1/admin/inventory/low-stock"
ROUTES = [
    ("post", f"/api/v1/admin/products/{ZERO_ID}/stock"),
    ("get", MOVEMENTS),
    ("get", LOW_STOCK),
]
BODY = {"delta": 1, "reason": "count"}


@pytest.mark.parametrize("method, url", ROUTES)
async def test_anonymous_is_401(client, method, url):
    response = await getattr(client, method)(url, **({"json": BODY} if method == "post" else {}))
    assert response.status_code == 401
    assert (await response.get_json())["code"] == "unauthenticated"


@pytest.mark.parametrize("method, url", ROUTES)
async def test_customer_is_403(client, customer, method, url):
    _, headers = customer
    kwargs = {"json": BODY} if method == "post" else {}
    response = await getattr(client, method)(url, headers=headers, **kwargs)
    assert response.status_code == 403
    assert (await response.get_json())["code"] == "forbidden"


async def test_customer_cannot_move_stock(client, customer, stocked):
    _, headers = customer
    product = await stocked(stock=5)
    response = await client.post(
        f"/api/v1/admin/products/{product.id}/stock", json=BODY, headers=headers
    )
    assert response.status_code == 403 and (await stored(product)).stock == 5


# -- POST /admin/products/{id}/stock: validation ---------------------------------------------

INVALID_ADJUSTMENTS = [
    ({}, None),
    ({"reason": "count"}, None),
    ({"delta": 1, "set": 2, "reason": "count"}, None),
    ({"delta": 0, "reason": "count"}, None),
    ({"delta": 1}, ["reason"]),
    ({"set": 1}, ["reason"]),
    ({"delta": 1, "reason": ""}, ["reason"]),
    ({"delta": 1, "reason": "   "}, ["reason"]),
    ({"delta": 1, "reason": "x" * 201}, ["reason"]),
    ({"delta": 1, "reason": None}, ["reason"]),
    ({"delta": 1, "reason": 5}, ["reason"]),
    ({"delta": 1, "reason": "a\x00b"}, ["reason"]),
    ({"delta": True, "reason": "count"}, ["delta"]),
    ({"delta": "5", "reason": "count"}, ["delta"]),
    ({"delta": 2.5, "reason": "count"}, ["delta"]),
    ({"delta": 1_000_000_001, "reason": "count"}, ["delta"]),
    ({"delta": -1_000_000_001, "reason": "count"}, ["delta"]),
    ({"delta": 2**63, "reason": "count"}, ["delta"]),
    ({"delta": -(2**64), "reason": "count"}, ["delta"]),
    ({"set": -1, "reason": "count"}, ["set"]),
    ({"set": 1_000_000_001, "reason": "count"}, ["set"]),
    ({"set": False, "reason": "count"}, ["set"]),
    ({"set": "42", "reason": "count"}, ["set"]),
    ({"set_to": 4, "reason": "count"}, ["set_to"]),
    ({"delta": 1, "reason": "count", "note": "x"}, ["note"]),
]


@pytest.mark.parametrize("body, loc", INVALID_ADJUSTMENTS)
async def test_invalid_adjustments_are_422_and_change_nothing(client, admin, stocked, body, loc):
    _, headers = admin
    product = await stocked(stock=5)

    response = await client.post(
        f"/api/v1/admin/products/{product.id}/stock", json=body, headers=headers
    )

    assert response.status_code == 422, body
    problem = await response.get_json()
    assert problem["code"] == "validation_error"
    if loc is not None:
        assert loc in [error["loc"] for error in problem["errors"]], problem["errors"]
    assert (await stored(product)).stock == 5
    assert await StockMovement.count() == 0


@pytest.mark.parametrize(
    "body, stock",
    [
        ({"delta": -5, "reason": "all gone"}, 0),
        ({"set": 0, "reason": "zero"}, 0),
        ({"set": 1_000_000_000, "reason": "full"}, 1_000_000_000),
        ({"delta": 3, "reason": "  trimmed  "}, 8),
    ],
)
async def test_valid_edges(client, admin, stocked, body, stock):
    _, headers = admin
    product = await stocked(stock=5)
    response = await client.post(
        f"/api/v1/admin/products/{product.id}/stock", json=body, headers=headers
    )
    assert response.status_code == 200, await response.get_json()
    body_out = await response.get_json()
    assert body_out["stock"] == stock and body_out["movement"]["reason"] == body["reason"].strip()


async def test_malformed_json_is_400(client, admin, stocked):
    _, headers = admin
    product = await stocked(stock=5)
    response = await client.post(
        f"/api/v1/admin/products/{product.id}/stock",
        data="{not json",
        headers={**headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 400


# -- GET /admin/inventory/movements ------------------------------------------------------------

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def history(stocked):
    """Two products, six movements an hour apart (newest: the lamp's sale at T0+5h)."""
    mug = await stocked("Stoneware Mug", stock=10)
    lamp = await stocked("Desk Lamp", stock=10)
    order_id = PydanticObjectId()
    rows = [
        (mug, 10, "delivery"),
        (lamp, 10, "delivery"),
        (mug, -2, "sale"),
        (lamp, -1, "sale"),
        (mug, 2, "cancel"),
        (lamp, -3, "sale"),
    ]
    for hour, (product, delta, reason) in enumerate(rows):
        await StockMovement(
            product_id=product.id,
            delta=delta,
            stock_after=0,
            reason=reason,
            actor="system",
            order_id=order_id if reason != "delivery" else None,
            at=T0 + timedelta(hours=hour),
        ).insert()
    return mug, lamp


async def listed(client, headers, **params) -> dict:
    response = await client.get(MOVEMENTS, query_string=params, headers=headers)
    assert response.status_code == 200, await response.get_json()
    return await response.get_json()


def shape(page) -> list[tuple[str, int, str]]:
    return [(m["product_name"], m["delta"], m["reason"]) for m in page["items"]]


async def test_movements_newest_first_and_paginated(client, admin, history):
    _, headers = admin

    page = await listed(client, headers, per_page=4)

    assert (page["total"], page["pages"], page["page"], page["per_page"]) == (6, 2, 1, 4)
    assert shape(page) == [
        ("Desk Lamp", -3, "sale"),
        ("Stoneware Mug", 2, "cancel"),
        ("Desk Lamp", -1, "sale"),
        ("Stoneware Mug", -2, "sale"),
    ]
    second = await listed(client, headers, per_page=4, page=2)
    assert shape(second) == [("Desk Lamp", 10, "delivery"), ("Stoneware Mug", 10, "delivery")]
    item = page["items"][0]
    assert set(item) == {
        "id",
        "product_id",
        "product_name",
        "variant_id",
        "sku",
        "delta",
        "stock_after",
        "reason",
        "actor",
        "order_id",
        "at",
    }
    assert item["at"] == "2026-03-01T17:00:00Z"


async def test_movements_filters(client, admin, history):
    _, headers = admin
    mug, lamp = history

    assert shape(await listed(client, headers, product_id=str(mug.id))) == [
        ("Stoneware Mug", 2, "cancel"),
        ("Stoneware Mug", -2, "sale"),
        ("Stoneware Mug", 10, "delivery"),
    ]
    assert [m["delta"] for m in (await listed(client, headers, reason="sale"))["items"]] == [
        -3,
        -1,
        -2,
    ]
    both = await listed(client, headers, product_id=str(lamp.id), reason="sale")
    assert shape(both) == [("Desk Lamp", -3, "sale"), ("Desk Lamp", -1, "sale")]
    window = await listed(
        client, headers, at_from="2026-03-01T13:00:00Z", at_to="2026-03-01T15:00:00+00:00"
    )
    assert shape(window) == [
        ("Desk Lamp", -1, "sale"),
        ("Stoneware Mug", -2, "sale"),
        ("Desk Lamp", 10, "delivery"),
    ]
    # Another offset names the same instant; no offset means UTC.
    shifted = await listed(client, headers, at_from="2026-03-01T15:00:00+02:00")
    assert len(shifted["items"]) == 5
    naive = await listed(client, headers, at_to="2026-03-01T12:00:00")
    assert shape(naive) == [("Stoneware Mug", 10, "delivery")]
    assert (await listed(client, headers, product_id=ZERO_ID))["items"] == []
    assert (await listed(client, headers, reason="nothing like it"))["total"] == 0


async def test_movement_of_a_deleted_product_has_no_name(client, admin, history):
    _, headers = admin
    mug, _ = history
    await mug.delete()

    page = await listed(client, headers, product_id=str(mug.id))

    assert {m["product_name"] for m in page["items"]} == {None}


@pytest.mark.parametrize(
    "params",
    [
        {"per_page": "101"},
        {"page": "0"},
        {"product_id": "nope"},
        {"at_from": "yesterday"},
        {"at_from": "2026-03-02T00:00:00Z", "at_to": "2026-03-01T00:00:00Z"},
        {"reason": "x" * 201},
        {"sort": "delta"},
    ],
)
async def test_movement_query_validation(client, admin, params):
    _, headers = admin
    response = await client.get(MOVEMENTS, query_string=params, headers=headers)
    assert response.status_code == 422, params
    assert (await response.get_json())["code"] == "validation_error"


# -- GET /admin/inventory/low-stock ------------------------------------------------------------


async def test_low_stock_lists_active_products_at_or_under_threshold_lowest_first(
    client, admin, stocked
):
    _, headers = admin
    plenty = await stocked("Plenty", stock=50, low_stock_threshold=5)
    await stocked("At Threshold", stock=5, low_stock_threshold=5)
    await stocked("Sold Out", stock=0, low_stock_threshold=5)
    nearly = await stocked("Nearly", stock=2, low_stock_threshold=3)
    await stocked("Big Threshold", stock=30, low_stock_threshold=40)
    await stocked("Archived Low", stock=1, low_stock_threshold=5, status="archived")
    zero = await stocked("Zero Threshold", stock=1, low_stock_threshold=0)

    response = await client.get(LOW_STOCK, query_string={"per_page": 3}, headers=headers)

    assert response.status_code == 200
    page = await response.get_json()
    assert (page["total"], page["pages"]) == (4, 2)
    assert [(p["name"], p["stock"], p["stock_status"]) for p in page["items"]] == [
        ("Sold Out", 0, "out_of_stock"),
        ("Nearly", 2, "low_stock"),
        ("At Threshold", 5, "low_stock"),
    ]
    rest = await (
        await client.get(LOW_STOCK, query_string={"per_page": 3, "page": 2}, headers=headers)
    ).get_json()
    assert [p["name"] for p in rest["items"]] == ["Big Threshold"]
    assert set(page["items"][0]) == {
        "id",
        "slug",
        "name",
        "stock",
        "low_stock_threshold",
        "stock_status",
        "updated_at",
    }

    # Stock moves and threshold edits move products in and out of the list.
    await client.post(
        f"/api/v1/admin/products/{zero.id}/stock", json={"set": 0, "reason": "x"}, headers=headers
    )
    await client.patch(
        f"/api/v1/admin/products/{plenty.id}", json={"low_stock_threshold": 60}, headers=headers
    )
    await client.post(
        f"/api/v1/admin/products/{nearly.id}/stock",
        json={"delta": 2, "reason": "x"},
        headers=headers,
    )
    now = await (await client.get(LOW_STOCK, headers=headers)).get_json()
    assert [(p["name"], p["stock"]) for p in now["items"]] == [
        ("Sold Out", 0),
        ("Zero Threshold", 0),
        ("At Threshold", 5),
        ("Big Threshold", 30),
        ("Plenty", 50),
    ]


async def test_low_stock_query_validation(client, admin):
    _, headers = admin
    for params in ({"per_page": "0"}, {"status": "active"}):
        response = await client.get(LOW_STOCK, query_string=params, headers=headers)
        assert response.status_code == 422, params
