"""Low-stock alerts: which stock update claims one, and the email it sends the admins.

A movement's update claims the alert in its own first pipeline stage (see `claim`), so
however often the stock crosses its threshold, and however many updates race, one update per
LOW_STOCK_ALERT_INTERVAL_SECONDS finds its claim in the document it returns, and only that
one mails the admins, in the movement's own transaction.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from quart import current_app

from app.catalog.models import Product, Variant
from app.users import service as users

log = logging.getLogger("app.inventory")

_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def claim(
    delta: int, *, now: datetime, claim_id: PydanticObjectId, of: str = "$"
) -> dict[str, Any]:
    """The fields of the movement's first pipeline stage (where `$stock` is still the stock
    before it) that claim the low-stock alert: `low_stock_alerted_at` becomes `now` and
    `low_stock_alert_id` this update's own `claim_id` only when this update takes an active
    product from above its threshold to at or under it, and the last alert is at least
    LOW_STOCK_ALERT_INTERVAL_SECONDS old (0: every crossing). The `low_stock` flag (the
    admin's list) flips on every crossing all the same.

    `of` is the prefix of the stock fields: `$$v.` for a variant inside the movement's
    `$map` over the variants (each variant has its own alert), `$` for a top-level one."""
    interval = current_app.config["SETTINGS"].LOW_STOCK_ALERT_INTERVAL_SECONDS
    conditions: list[dict[str, Any]] = [
        {"$eq": ["$status", "active"]},
        {"$gt": [f"{of}stock", f"{of}low_stock_threshold"]},
        {"$lte": [{"$add": [f"{of}stock", delta]}, f"{of}low_stock_threshold"]},
    ]
    if interval > 0:
        last = {"$ifNull": [f"{of}low_stock_alerted_at", _NEVER]}
        conditions.append({"$lte": [last, now - timedelta(seconds=interval)]})
    claimed = {"$and": conditions}
    return {
        "low_stock_alerted_at": {
            "$cond": [claimed, {"$literal": now}, {"$ifNull": [f"{of}low_stock_alerted_at", None]}]
        },
        "low_stock_alert_id": {
            "$cond": [
                claimed,
                {"$literal": claim_id},
                {"$ifNull": [f"{of}low_stock_alert_id", None]},
            ]
        },
    }


async def alert_low_stock(product: Product, variant: Variant, *, session: Any = None) -> None:
    """One `low_stock` email to every active admin about one variant, in the caller's
    transaction."""
    sent = await users.email_admins(
        kind="low_stock",
        context={
            "product_id": str(product.id),
            "name": product.name,
            "slug": product.slug,
            "variant_id": variant.id,
            "sku": variant.sku,
            "options": product.options_of(variant),
            "stock": variant.stock,
            "threshold": variant.low_stock_threshold,
        },
        about=f"product {product.id} variant {variant.id} is low on stock",
        session=session,
    )
    if sent:
        log.info(
            "low-stock alert for product %s variant %s sent to %d admins",
            product.id,
            variant.id,
            sent,
        )
