"""A product's options and variants as the admin sends them: checked against each other
and built into the embedded `Variant`s, with the product fields derived from them (`price`
the lowest variant price, `stock` the sum).

Pure functions: the writes are the catalog's (own fields) and the inventory's (stock).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.catalog.models import (
    Product,
    ProductOption,
    Variant,
    VariantSku,
    legacy_sku,
    variant_keys,
)
from app.catalog.schemas import OptionOut, VariantOut
from app.errors import Conflict, ErrorCode, Invalid


def _invalid(loc: list[Any], message: str) -> Invalid:
    return Invalid(message, code=ErrorCode.VARIANT_INVALID, errors=[{"loc": loc, "msg": message}])


def check_options(options: Sequence[dict[str, Any]]) -> list[ProductOption]:
    """The product's options: distinct names, distinct values (case-insensitively)."""
    seen: set[str] = set()
    built: list[ProductOption] = []
    for i, option in enumerate(options):
        name = option["name"]
        if name in seen:
            raise _invalid(["options", i, "name"], f"option {name!r} is given twice")
        seen.add(name)
        folded = [value.casefold() for value in option["values"]]
        if len(set(folded)) != len(folded):
            raise _invalid(["options", i, "values"], f"option {name!r} repeats a value")
        built.append(ProductOption(name=name, values=list(option["values"])))
    return built


def _canonical(options: list[ProductOption], given: dict[str, str], loc: list[Any]) -> dict:
    """A variant's option values checked against the product's options (every option once,
    a listed value), spelled as the option lists them."""
    names = [option.name for option in options]
    if set(given) != set(names):
        raise _invalid(
            loc,
            f"a variant gives a value of each option: {', '.join(names)}"
            if names
            else "a product without options has no option values",
        )
    canonical: dict[str, str] = {}
    for option in options:
        value = given[option.name]
        match = next((v for v in option.values if v.casefold() == value.casefold()), None)
        if match is None:
            raise _invalid([*loc, option.name], f"{value!r} is not a value of {option.name!r}")
        canonical[option.name] = match
    return canonical


def check_variant(
    variant: Variant,
    *,
    options: list[ProductOption],
    others: Sequence[Variant],
    loc: list[Any],
) -> None:
    """One variant against its product's options and the other variants: its values in the
    options, its combination and sku not another's (the store-wide sku check is the unique
    index's)."""
    variant.options = _canonical(options, variant.options, [*loc, "options"])
    combination = {k: v.casefold() for k, v in variant.options.items()}
    for other in others:
        if other.id == variant.id:
            continue
        if {k: v.casefold() for k, v in other.options.items()} == combination:
            raise _invalid([*loc, "options"], "another variant has these option values")
        if other.sku.casefold() == variant.sku.casefold():
            raise _invalid(
                [*loc, "sku"], f"another variant of this product has sku {variant.sku!r}"
            )


def build_variants(
    *,
    product_id: PydanticObjectId,
    options: list[ProductOption],
    variants: Sequence[dict[str, Any]] | None,
    stock: int | None,
    threshold: int,
    attributes: dict[str, str],
) -> list[Variant]:
    """The variants of a new product (or a product's whole new set). Without `variants`: one
    variant, id the product's, holding `stock` (a product without options). With them, the
    product's `stock` is their sum, so a `stock` that is not is refused."""
    if variants is None:
        if options:
            raise _invalid(["variants"], "a product with options lists its variants")
        if stock is None:
            raise _invalid(["stock"], "give the stock (or variants, each with its own)")
        only = Variant(
            id=str(product_id),
            sku=legacy_sku(product_id),
            stock=stock,
            low_stock_threshold=threshold,
            low_stock=stock <= threshold,
        )
        only.keys = variant_keys({}, attributes)
        return [only]
    if stock is not None and stock != sum(v["stock"] for v in variants):
        raise _invalid(["stock"], "with variants, the stock is the sum of theirs (leave it out)")
    built: list[Variant] = []
    for i, given in enumerate(variants):
        variant_threshold = given.get("low_stock_threshold")
        if variant_threshold is None:
            variant_threshold = threshold
        variant_id = str(product_id) if len(variants) == 1 else str(PydanticObjectId())
        variant = new_variant(
            variant_id=variant_id,
            given={**given, "low_stock_threshold": variant_threshold},
            product_id=product_id,
        )
        check_variant(variant, options=options, others=built, loc=["variants", i])
        variant.keys = variant_keys(variant.options, attributes)
        built.append(variant)
    return built


def new_variant(*, variant_id: str, given: dict[str, Any], product_id: PydanticObjectId) -> Variant:
    stock = given.get("stock") or 0
    threshold = given["low_stock_threshold"]
    return Variant(
        id=variant_id,
        sku=given.get("sku") or f"{legacy_sku(product_id)}-{variant_id[-6:]}",
        options=dict(given.get("options") or {}),
        price=given.get("price"),
        stock=stock,
        low_stock_threshold=threshold,
        low_stock=stock <= threshold,
    )


def lowest_price(base_price: int, variants: Sequence[Variant]) -> int:
    """The product's `price`: its cheapest variant's."""
    return min(
        (v.price if v.price is not None else base_price for v in variants), default=base_price
    )


def options_out(product: Product) -> list[OptionOut]:
    return [OptionOut(name=o.name, values=list(o.values)) for o in product.options]


def variants_out(product: Product) -> list[VariantOut]:
    return [
        VariantOut(
            id=v.id,
            sku=v.sku,
            options=product.options_of(v),
            price=product.price_of(v),
            stock=v.stock,
            stock_status=v.stock_status,
            low_stock_threshold=v.low_stock_threshold,
        )
        for v in product.variants
    ]


def sku_conflict(sku: str | None = None) -> Conflict:
    if sku is None:
        return Conflict("A sku is already used by another product.", code=ErrorCode.SKU_TAKEN)
    return Conflict(
        f"The sku {sku!r} is already used by another product.", code=ErrorCode.SKU_TAKEN, sku=sku
    )


async def register_skus(
    product_id: PydanticObjectId,
    *,
    before: Sequence[Variant] = (),
    after: Sequence[Variant],
    session: Any = None,
) -> None:
    """Bring the sku register in line with a product's variants going from `before` to
    `after` (in the caller's transaction): skus no longer used are released, new ones
    claimed. Raises Conflict `sku_taken` when another product holds one (nothing of this
    product's is then kept: the caller's transaction aborts)."""
    old = {v.sku: v.id for v in before}
    new = {v.sku: v.id for v in after}
    collection = VariantSku.get_pymongo_collection()
    released = [sku for sku in old if sku not in new]
    if released:
        await collection.delete_many(
            {"_id": {"$in": released}, "product_id": product_id}, session=session
        )
    for sku, variant_id in new.items():
        if old.get(sku) == variant_id:
            continue
        if sku in old:  # moved to another variant of this product
            await collection.update_one(
                {"_id": sku, "product_id": product_id},
                {"$set": {"variant_id": variant_id}},
                session=session,
            )
            continue
        held = await collection.find_one({"_id": sku}, session=session)
        if held is not None and held["product_id"] != product_id:
            raise sku_conflict(sku)
        try:
            await collection.update_one(
                {"_id": sku, "product_id": product_id},
                {"$set": {"variant_id": variant_id}},
                upsert=True,
                session=session,
            )
        except DuplicateKeyError:  # claimed concurrently by another product
            raise sku_conflict(sku) from None
