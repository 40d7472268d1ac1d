"""Sales figures from the orders, aggregated on the server.

Which orders count: those that were paid (their history has a `paid` entry), whatever
happened to them since: cancelled after payment, refunded, or going on to delivery. An
order counts in the period of the day it was placed (`created_at`, in STORE_TIMEZONE), and so
do its refunds, so each period reconciles with its own orders:

- `orders`: how many; `gross`: the sum of their totals;
- `refunds`: the sum of their refunds the provider confirmed (`succeeded`; pending and failed
  ones are not money returned);
- `net` = gross - refunds; `average_order` = gross / orders, rounded half up (0 without
  orders).

`top_products` ranks the lines of the paid orders that still stand (cancelled and refunded
orders left out) by revenue (the lines' totals), then units.

Both run one aggregation whose first stage is a range on `created_at`, served by the orders'
`newest` index (`created_at`, `_id`), which the aggregation names as its hint; the periods are
`$bucket` boundaries computed here in the store's time zone (daylight saving included), so
the server does the grouping. Periods without orders are listed with zeros.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from app.errors import ErrorCode, Invalid
from app.orders.models import Order

Interval = Literal["day", "week", "month"]
# The index that serves the date range (declared on Order): the aggregation's hint.
RANGE_INDEX = "newest"
MAX_DAYS = 3 * 366 + 1
SALES_COLUMNS = ("period", "orders", "gross", "refunds", "net", "average_order", "currency")
TOP_COLUMNS = ("product_id", "name", "units", "revenue", "currency")


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # UTC, included
    end: datetime  # UTC, excluded


def _refuse(detail: str, field: str) -> Invalid:
    return Invalid(
        detail,
        code=ErrorCode.REPORT_RANGE_INVALID,
        errors=[{"loc": ["query", field], "msg": detail, "type": "report_range_invalid"}],
    )


def _check_range(date_from: date, date_to: date) -> None:
    if date_to < date_from:
        raise _refuse("`to` is before `from`.", "to")
    if (date_to - date_from).days + 1 > MAX_DAYS:
        raise _refuse(f"A report covers at most {MAX_DAYS} days.", "to")


def _period_start(day: date, interval: Interval) -> date:
    if interval == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    if interval == "month":
        return day.replace(day=1)
    return day


def _next(start: date, interval: Interval) -> date:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(days=7)
    return date(start.year + (start.month == 12), start.month % 12 + 1, 1)


def _label(start: date, interval: Interval) -> str:
    return start.strftime("%Y-%m") if interval == "month" else start.isoformat()


def _utc(day: date, zone: ZoneInfo) -> datetime:
    """The instant `day` starts in the store's time zone, in UTC."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def periods(date_from: date, date_to: date, interval: Interval, zone: ZoneInfo) -> list[Period]:
    """The report's periods from `date_from` to `date_to` (both included), cut to the range:
    a week or month that starts before `from` counts from `from`."""
    found = []
    start = _period_start(date_from, interval)
    end_day = date_to + timedelta(days=1)
    while start < end_day:
        following = _next(start, interval)
        found.append(
            Period(
                label=_label(start, interval),
                start=_utc(max(start, date_from), zone),
                end=_utc(min(following, end_day), zone),
            )
        )
        start = following
    return found


def _paid_in(start: datetime, end: datetime) -> dict[str, Any]:
    return {"created_at": {"$gte": start, "$lt": end}, "history.status": "paid"}


def sales_pipeline(cuts: list[Period]) -> list[dict[str, Any]]:
    boundaries = [period.start for period in cuts] + [cuts[-1].end]
    succeeded = {
        "$filter": {"input": "$payment.refunds", "cond": {"$eq": ["$$this.status", "succeeded"]}}
    }
    return [
        {"$match": _paid_in(boundaries[0], boundaries[-1])},
        {
            "$project": {
                "created_at": 1,
                "total": 1,
                "refunded": {"$sum": {"$map": {"input": succeeded, "in": "$$this.amount"}}},
            }
        },
        {
            "$bucket": {
                "groupBy": "$created_at",
                "boundaries": boundaries,
                "output": {
                    "orders": {"$sum": 1},
                    "gross": {"$sum": "$total"},
                    "refunds": {"$sum": "$refunded"},
                },
            }
        },
    ]


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator) if denominator else 0


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def sales(
    *, date_from: date, date_to: date, interval: Interval, time_zone: str, currency: str
) -> list[dict[str, Any]]:
    """One row per period: `period, orders, gross, refunds, net, average_order` (minor units
    of the store's currency). Raises Invalid `report_range_invalid`."""
    _check_range(date_from, date_to)
    cuts = periods(date_from, date_to, interval, ZoneInfo(time_zone))
    cursor = await Order.get_pymongo_collection().aggregate(sales_pipeline(cuts), hint=RANGE_INDEX)
    found = {_as_utc(row["_id"]): row async for row in cursor}
    rows = []
    for period in cuts:
        row = found.get(period.start, {})
        orders, gross, refunds = row.get("orders", 0), row.get("gross", 0), row.get("refunds", 0)
        rows.append(
            {
                "period": period.label,
                "orders": orders,
                "gross": gross,
                "refunds": refunds,
                "net": gross - refunds,
                "average_order": _half_up(gross, orders),
                "currency": currency,
            }
        )
    return rows


def top_products_pipeline(start: datetime, end: datetime, limit: int) -> list[dict[str, Any]]:
    return [
        {"$match": {**_paid_in(start, end), "status": {"$nin": ["cancelled", "refunded"]}}},
        {"$project": {"items": 1}},
        {"$unwind": "$items"},
        {
            "$group": {
                "_id": "$items.product_id",
                "name": {"$max": "$items.name"},
                "units": {"$sum": "$items.quantity"},
                "revenue": {"$sum": "$items.line_total"},
            }
        },
        {"$sort": {"revenue": -1, "units": -1, "_id": 1}},
        {"$limit": limit},
    ]


async def top_products(
    *, date_from: date, date_to: date, limit: int, time_zone: str, currency: str
) -> list[dict[str, Any]]:
    """The best sellers: `product_id, name, units, revenue`. Raises Invalid."""
    _check_range(date_from, date_to)
    zone = ZoneInfo(time_zone)
    start, end = _utc(date_from, zone), _utc(date_to + timedelta(days=1), zone)
    cursor = await Order.get_pymongo_collection().aggregate(
        top_products_pipeline(start, end, limit), hint=RANGE_INDEX
    )
    return [
        {
            "product_id": str(row["_id"]),
            "name": row["name"],
            "units": row["units"],
            "revenue": row["revenue"],
            "currency": currency,
        }
        async for row in cursor
    ]


def to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        # A cell starting with =, +, - or @ is a formula to a spreadsheet: quote it as text.
        writer.writerow(
            {
                key: f"'{value}" if isinstance(value, str) and value[:1] in "=+-@\t\r" else value
                for key, value in row.items()
            }
        )
    return out.getvalue()
