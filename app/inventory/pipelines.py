"""The update pipelines of a stock movement, pure builders with no I/O (stock.py runs them):
the guard on one variant, the stage that stores the one variant of a product stored before
variants, and the stage that re-derives the variants' and the product's low-stock flags and
the product's stock from its variants. See stock.py's docstring for why they are one update."""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.catalog.models import legacy_sku
from app.catalog.stock_fields import DEFAULT_LOW_STOCK_THRESHOLD


def threshold_of(prefix: str) -> dict[str, Any]:
    return {"$ifNull": [f"{prefix}low_stock_threshold", DEFAULT_LOW_STOCK_THRESHOLD]}


def rederive_flags() -> dict[str, Any]:
    """Re-derive each variant's `low_stock` flag, and the product's (any variant low)."""
    return {
        "$set": {
            "variants": {
                "$map": {
                    "input": "$variants",
                    "as": "v",
                    "in": {
                        "$mergeObjects": [
                            "$$v",
                            {"low_stock": {"$lte": ["$$v.stock", "$$v.low_stock_threshold"]}},
                        ]
                    },
                }
            },
            "low_stock": {
                "$anyElementTrue": [
                    {
                        "$map": {
                            "input": "$variants",
                            "as": "v",
                            "in": {"$lte": ["$$v.stock", "$$v.low_stock_threshold"]},
                        }
                    }
                ]
            },
            "stock": {
                "$reduce": {
                    "input": "$variants",
                    "initialValue": 0,
                    "in": {"$add": ["$$value", "$$this.stock"]},
                }
            },
        }
    }


def legacy_keys() -> dict[str, Any]:
    def key(name: str) -> dict[str, Any]:
        field = f"$facets.{name}"
        return {"$cond": [{"$gt": [field, None]}, [{"$concat": [f"{name}:", field]}], []]}

    return {"$concatArrays": [key("color"), key("size")]}


def materialise(product_id: PydanticObjectId) -> dict[str, Any]:
    """The pipeline stage that stores the one variant of a product stored before variants
    (no `variants` array) from its stock fields; a no-op on any other product."""
    threshold = threshold_of("$")
    variant = {
        "id": {"$literal": str(product_id)},
        "sku": {"$literal": legacy_sku(product_id)},
        "options": {"$literal": {}},
        "price": None,
        "stock": "$stock",
        "low_stock_threshold": threshold,
        "low_stock": {"$lte": ["$stock", threshold]},
        "low_stock_alerted_at": {"$ifNull": ["$low_stock_alerted_at", None]},
        "low_stock_alert_id": {"$ifNull": ["$low_stock_alert_id", None]},
        "keys": legacy_keys(),
    }
    return {
        "$set": {
            "variants": {"$ifNull": ["$variants", [variant]]},
            "base_price": {"$ifNull": ["$base_price", "$price"]},
            "options": {"$ifNull": ["$options", []]},
        }
    }


def variant_match(
    product_id: PydanticObjectId, variant_id: str, stock: Any = None, **product: Any
) -> dict[str, Any]:
    """The guard of a movement of one variant: the product, and that variant (with `stock`
    matching, when given) in one `$elemMatch`. A product stored before variants matches
    its product-level stock under its one variant's id."""
    element: dict[str, Any] = {"id": variant_id}
    legacy: dict[str, Any] = {"variants": {"$exists": False}}
    if stock is not None:
        element["stock"] = stock
        legacy["stock"] = stock
    branches: list[dict[str, Any]] = [{"variants": {"$elemMatch": element}}]
    if variant_id == str(product_id):
        branches.append(legacy)
    return {"_id": product_id, **product, "$or": branches}


def map_variants(which: dict[str, Any], changed: dict[str, Any]) -> dict[str, Any]:
    """The variants with `changed` (an expression of `$$v`) in place of each one `which`
    selects, the others as they are."""
    return {"$map": {"input": "$variants", "as": "v", "in": {"$cond": [which, changed, "$$v"]}}}
