"""Sales reports: a month of orders, refunds and cancellations, every figure computed by
hand; the store's time zone; CSV; and the index that serves the date range."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from beanie import PydanticObjectId

from app.core import db
from app.orders.models import HistoryEntry, Order, OrderItem, Payment, Refund, ShippingAddress
from app.reports import sales

P1, P2, P3 = (PydanticObjectId() for _ in range(3))
NAMES = {P1: "Linen Shirt", P2: "Stoneware Mug", P3: "Desk Lamp"}
_numbers = iter(range(1, 10_000))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def line(product, quantity, unit_price) -> OrderItem:
    return OrderItem(
        product_id=product,
        name=NAMES[product],
        slug=NAMES[product].lower().replace(" ", "-"),
        unit_price=unit_price,
        quantity=quantity,
        line_total=unit_price * quantity,
    )


async def order(created, *, lines, statuses, refunds=()) -> Order:
    """An order placed at `created` (UTC) that went through `statuses` (after
    pending_payment), with `refunds` as (amount, status)."""
    total = sum(item.line_total for item in lines)
    made = Order(
        number=f"SO-TEST-{next(_numbers)}",
        user_id=PydanticObjectId(),
        email="buyer@example.com",
        status=statuses[-1] if statuses else "pending_payment",
        items=lines,
        subtotal=total,
        total=total,
        currency="usd",
        shipping_address=ShippingAddress(
            line1="1 Main St", city="Town", postal_code="1", country="US"
        ),
        payment=Payment(
            provider="dev",
            status="succeeded",
            refunds=[Refund(amount=a, status=s) for a, s in refunds],
            amount_refunded=sum(a for a, s in refunds if s != "failed"),
        ),
        history=[HistoryEntry(status="pending_payment", at=at(created))]
        + [HistoryEntry(status=s, at=at(created)) for s in statuses],
        created_at=at(created),
    )
    await made.insert()
    return made


@pytest.fixture
async def month(app):
    """January 2026 (UTC), with what each order must count for:
    - Jan 1: A 2 shirts @500 delivered (1000); B 1 mug @2500 paid, 500 refunded (2500);
      C 9999 never paid (left out)
    - Jan 2: D cancelled before payment (left out); E lamp @3000 paid then cancelled,
      3000 refunded
    - Jan 3: F 3 shirts @500 refunded in full (1500); G shirt @500 + mug @1700 paid (2200),
      a pending refund of 700 and a failed one of 200 (neither is money returned)
    - Jan 31 23:59:59: H lamp @999 paid
    - Dec 31 23:59:59 and Feb 1 00:00:00: J and I, outside the month."""
    await order(
        "2026-01-01T09:00:00",
        lines=[line(P1, 2, 500)],
        statuses=["paid", "processing", "shipped", "delivered"],
    )
    await order(
        "2026-01-01T18:30:00",
        lines=[line(P2, 1, 2500)],
        statuses=["paid"],
        refunds=[(500, "succeeded")],
    )
    await order("2026-01-01T20:00:00", lines=[line(P3, 1, 9999)], statuses=[])
    await order("2026-01-02T10:00:00", lines=[line(P3, 1, 4000)], statuses=["cancelled"])
    await order(
        "2026-01-02T11:00:00",
        lines=[line(P3, 1, 3000)],
        statuses=["paid", "cancelled"],
        refunds=[(3000, "succeeded")],
    )
    await order(
        "2026-01-03T00:00:00",
        lines=[line(P1, 3, 500)],
        statuses=["paid", "refunded"],
        refunds=[(1500, "succeeded")],
    )
    await order(
        "2026-01-03T23:00:00",
        lines=[line(P1, 1, 500), line(P2, 1, 1700)],
        statuses=["paid", "processing"],
        refunds=[(700, "pending"), (200, "failed")],
    )
    await order("2026-01-31T23:59:59", lines=[line(P3, 1, 999)], statuses=["paid"])
    await order("2025-12-31T23:59:59", lines=[line(P1, 1, 500)], statuses=["paid"])
    await order("2026-02-01T00:00:00", lines=[line(P1, 1, 500)], statuses=["paid"])


def zero(period: str) -> dict:
    return {
        "period": period,
        "orders": 0,
        "gross": 0,
        "refunds": 0,
        "net": 0,
        "average_order": 0,
        "currency": "usd",
    }


async def _get(client, admin, path, **headers):
    response = await client.get(path, headers={**admin[1], **headers})
    assert response.status_code == 200, await response.get_data(as_text=True)
    return response


async def test_sales_by_day_every_figure(client, admin, month):
    response = await _get(
        client, admin, "/api/v1/admin/reports/sales?from=2026-01-01&to=2026-01-31"
    )
    rows = await response.get_json()
    expected = {f"2026-01-{d:02d}": zero(f"2026-01-{d:02d}") for d in range(1, 32)}
    expected["2026-01-01"] = {
        "period": "2026-01-01",
        "orders": 2,
        "gross": 3500,
        "refunds": 500,
        "net": 3000,
        "average_order": 1750,
        "currency": "usd",
    }
    expected["2026-01-02"] = {
        "period": "2026-01-02",
        "orders": 1,
        "gross": 3000,
        "refunds": 3000,
        "net": 0,
        "average_order": 3000,
        "currency": "usd",
    }
    expected["2026-01-03"] = {
        "period": "2026-01-03",
        "orders": 2,
        "gross": 3700,
        "refunds": 1500,
        "net": 2200,
        "average_order": 1850,
        "currency": "usd",
    }
    expected["2026-01-31"] = {
        "period": "2026-01-31",
        "orders": 1,
        "gross": 999,
        "refunds": 0,
        "net": 999,
        "average_order": 999,
        "currency": "usd",
    }
    assert rows == list(expected.values())


async def test_sales_by_month_and_week(client, admin, month):
    by_month = await (
        await _get(
            client,
            admin,
            "/api/v1/admin/reports/sales?from=2026-01-01&to=2026-01-31&interval=month",
        )
    ).get_json()
    # 11199 / 6 = 1866.5: rounded half up.
    assert by_month == [
        {
            "period": "2026-01",
            "orders": 6,
            "gross": 11199,
            "refunds": 5000,
            "net": 6199,
            "average_order": 1867,
            "currency": "usd",
        }
    ]
    by_week = await (
        await _get(
            client, admin, "/api/v1/admin/reports/sales?from=2026-01-01&to=2026-01-31&interval=week"
        )
    ).get_json()
    # Weeks start on Monday; the first (Mon Dec 29) counts from Jan 1 only (J is left out).
    assert by_week == [
        {
            "period": "2025-12-29",
            "orders": 5,
            "gross": 10200,
            "refunds": 5000,
            "net": 5200,
            "average_order": 2040,
            "currency": "usd",
        },
        zero("2026-01-05"),
        zero("2026-01-12"),
        zero("2026-01-19"),
        {
            "period": "2026-01-26",
            "orders": 1,
            "gross": 999,
            "refunds": 0,
            "net": 999,
            "average_order": 999,
            "currency": "usd",
        },
    ]


async def test_top_products(client, admin, month):
    rows = await (
        await _get(
            client, admin, "/api/v1/admin/reports/top-products?from=2026-01-01&to=2026-01-31"
        )
    ).get_json()
    # Standing paid orders A, B, G, H (E cancelled and F refunded are out).
    assert rows == [
        {
            "product_id": str(P2),
            "name": "Stoneware Mug",
            "units": 2,
            "revenue": 4200,
            "currency": "usd",
        },
        {
            "product_id": str(P1),
            "name": "Linen Shirt",
            "units": 3,
            "revenue": 1500,
            "currency": "usd",
        },
        {"product_id": str(P3), "name": "Desk Lamp", "units": 1, "revenue": 999, "currency": "usd"},
    ]
    limited = await (
        await _get(
            client,
            admin,
            "/api/v1/admin/reports/top-products?from=2026-01-01&to=2026-01-31&limit=1",
        )
    ).get_json()
    assert [row["product_id"] for row in limited] == [str(P2)]


async def test_csv(client, admin, month):
    response = await _get(
        client,
        admin,
        "/api/v1/admin/reports/sales?from=2026-01-01&to=2026-01-03",
        Accept="text/csv",
    )
    assert response.content_type.startswith("text/csv")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(await response.get_data(as_text=True))))
    assert rows[0] == {
        "period": "2026-01-01",
        "orders": "2",
        "gross": "3500",
        "refunds": "500",
        "net": "3000",
        "average_order": "1750",
        "currency": "usd",
    }
    assert len(rows) == 3
    response = await _get(
        client,
        admin,
        "/api/v1/admin/reports/top-products?from=2026-01-01&to=2026-01-31",
        Accept="text/csv",
    )
    lines = (await response.get_data(as_text=True)).splitlines()
    assert lines[0] == "product_id,name,units,revenue,currency"
    assert lines[1] == f"{P2},Stoneware Mug,2,4200,usd"


def test_csv_cells_are_never_formulas():
    text = sales.to_csv(
        [{"product_id": "x", "name": "=HYPERLINK(1)", "units": 1, "revenue": 2, "currency": "usd"}],
        sales.TOP_COLUMNS,
    )
    assert "'=HYPERLINK(1)" in text


async def test_days_are_the_stores_days(client, admin, app, settings):
    settings.STORE_TIMEZONE = "America/New_York"
    # 03:00 UTC on Mar 2 is 22:00 on Mar 1 in New York (EST, UTC-5); clocks go forward on
    # Mar 8, so 03:30 UTC on Mar 9 is still Mar 8 (EDT, UTC-4) and 04:30 UTC is Mar 9.
    await order("2026-03-02T03:00:00", lines=[line(P1, 1, 100)], statuses=["paid"])
    await order("2026-03-09T03:30:00", lines=[line(P1, 1, 200)], statuses=["paid"])
    await order("2026-03-09T04:30:00", lines=[line(P1, 1, 400)], statuses=["paid"])
    await order("2026-03-01T04:59:59", lines=[line(P1, 1, 800)], statuses=["paid"])  # Feb 28
    rows = await (
        await _get(client, admin, "/api/v1/admin/reports/sales?from=2026-03-01&to=2026-03-09")
    ).get_json()
    gross = {row["period"]: row["gross"] for row in rows if row["gross"]}
    assert gross == {"2026-03-01": 100, "2026-03-08": 200, "2026-03-09": 400}


@pytest.mark.parametrize(
    "query",
    [
        "from=2026-01-31&to=2026-01-01",  # backwards
        "from=2026-01-01&to=2030-01-01",  # too long
        "from=2026-1-1&to=2026-01-31",
        "from=2026-02-30&to=2026-03-01",
        "from=1700000000&to=2026-01-31",
        "to=2026-01-31",
        "from=2026-01-01&to=2026-01-31&interval=year",
        "from=2026-01-01&to=2026-01-31&bogus=1",
    ],
)
async def test_bad_ranges_are_422(client, admin, query):
    response = await client.get(f"/api/v1/admin/reports/sales?{query}", headers=admin[1])
    assert response.status_code == 422


async def test_the_date_range_is_served_by_an_index_declared_on_orders(app, month):
    """The aggregation starts with a range on `created_at` and names its index; on a real
    server the plan says that index is scanned (explain over the wire)."""
    declared = {index.document["name"]: index.document["key"] for index in Order.Settings.indexes}
    assert next(iter(declared[sales.RANGE_INDEX])) == "created_at"
    cuts = sales.periods(
        at("2026-01-01").date(),
        at("2026-01-31").date(),
        "day",
        ZoneInfo("UTC"),
    )
    for pipeline in (
        sales.sales_pipeline(cuts),
        sales.top_products_pipeline(cuts[0].start, cuts[-1].end, 10),
    ):
        first = pipeline[0]["$match"]
        assert set(first["created_at"]) == {"$gte", "$lt"}
    if not os.environ.get("MONGODB_URI"):
        return  # the embedded engine has no query planner to ask
    database = db.get_db(app).database
    for pipeline in (
        sales.sales_pipeline(cuts),
        sales.top_products_pipeline(cuts[0].start, cuts[-1].end, 10),
    ):
        plan = await database.command(
            {
                "explain": {
                    "aggregate": "orders",
                    "pipeline": pipeline,
                    "cursor": {},
                    "hint": sales.RANGE_INDEX,
                },
                "verbosity": "queryPlanner",
            }
        )
        text = str(plan)
        assert "IXSCAN" in text and f"'indexName': '{sales.RANGE_INDEX}'" in text
        assert "COLLSCAN" not in text
