"""Sales reports (app/reports): sales by period and the best sellers, JSON or CSV."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from functools import wraps
from typing import Annotated, Any, TypeVar, cast

from pydantic import BeforeValidator, Field, RootModel
from quart import Response, current_app, request
from quart_schema import validate_querystring, validate_response

from app.admin import bp
from app.core.openapi import also_csv, problems
from app.core.schemas import ObjectIdStr, OutModel, QueryModel
from app.core.security import admin_required
from app.reports import sales as reports
from app.reports.sales import Interval

_F = TypeVar("_F", bound=Callable[..., Any])
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _calendar_day(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(DATE_PATTERN, value):
        raise ValueError("a date is written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_calendar_day)]


class _Range(QueryModel):
    # `from` is a Python keyword: the field is `date_from`, spelled `from` in the query.
    date_from: Day = Field(
        alias="from",
        description="First day (`YYYY-MM-DD`, store time zone)",
        json_schema_extra={"required": True, "format": "date"},
    )
    date_to: Day = Field(
        alias="to",
        description="Last day, included (`YYYY-MM-DD`); at most 1,099 days from `from`",
        json_schema_extra={"required": True, "format": "date"},
    )


class SalesQuery(_Range):
    interval: Interval = "day"


class TopProductsQuery(_Range):
    limit: int = Field(default=10, ge=1, le=100)


class SalesRow(OutModel):
    period: str = Field(description="`YYYY-MM-DD` (a day, or the Monday a week starts), `YYYY-MM`")
    orders: int = Field(description="Paid orders placed in the period")
    gross: int = Field(description="Their totals, minor units")
    refunds: int = Field(description="What was refunded of them (confirmed refunds)")
    net: int = Field(description="gross - refunds")
    average_order: int = Field(description="gross / orders, rounded half up")
    currency: str = Field(description="The store's currency (ISO 4217, lower case)")


class SalesReport(RootModel[list[SalesRow]]):
    pass


class TopProductRow(OutModel):
    product_id: ObjectIdStr
    name: str
    units: int
    revenue: int = Field(description="The lines' totals, minor units")
    currency: str = Field(description="The store's currency (ISO 4217, lower case)")


class TopProductsReport(RootModel[list[TopProductRow]]):
    pass


def _wants_csv() -> bool:
    best = request.accept_mimetypes.best_match(["application/json", "text/csv"])
    return best == "text/csv"


def _csv_when_asked(columns: tuple[str, ...], name: str) -> Callable[[_F], _F]:
    """With `Accept: text/csv` the validated rows go out as CSV (a spreadsheet's download)."""

    def decorator(func: _F) -> _F:
        @wraps(func)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = await func(*args, **kwargs)
            if not _wants_csv():
                return result
            model = result[0] if isinstance(result, tuple) else result
            rows = model.model_dump(mode="json")
            response = Response(reports.to_csv(rows, columns), mimetype="text/csv")
            response.headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
            return response

        return cast(_F, wrapper)

    return decorator


def _store() -> dict[str, str]:
    settings = current_app.config["SETTINGS"]
    return {"time_zone": settings.STORE_TIMEZONE, "currency": settings.STORE_CURRENCY}


@bp.get("/reports/sales")
@also_csv
@admin_required
@problems(422)
@_csv_when_asked(reports.SALES_COLUMNS, "sales")
@validate_querystring(SalesQuery)
@validate_response(SalesReport)
async def sales_report(query_args: SalesQuery) -> SalesReport:
    """Sales by day, week or month: orders, gross, refunds, net, average order."""
    rows = await reports.sales(
        date_from=query_args.date_from,
        date_to=query_args.date_to,
        interval=query_args.interval,
        **_store(),
    )
    return SalesReport.model_validate(rows)


@bp.get("/reports/top-products")
@also_csv
@admin_required
@problems(422)
@_csv_when_asked(reports.TOP_COLUMNS, "top-products")
@validate_querystring(TopProductsQuery)
@validate_response(TopProductsReport)
async def top_products_report(query_args: TopProductsQuery) -> TopProductsReport:
    """The best-selling products of a date range, by revenue."""
    rows = await reports.top_products(
        date_from=query_args.date_from,
        date_to=query_args.date_to,
        limit=query_args.limit,
        **_store(),
    )
    return TopProductsReport.model_validate(rows)
