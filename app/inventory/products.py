"""An admin's product writes that carry stock: creating a product (with its opening stock),
editing one (stock and threshold among the fields), and its variants (add, edit, remove).

The catalog writes the product's own fields (app/catalog/products.py) and never calls the
inventory; the stock half is app/inventory/stock.py's. This module runs both in one
transaction, so a new product and its opening ledger rows, or an edit and its stock
movements, commit together.
"""

from __future__ import annotations

from typing import Any

from beanie import PydanticObjectId

from app.catalog import products as catalog
from app.catalog.models import Product, Variant, variant_keys
from app.catalog.schemas import ProductIn, ProductOut
from app.catalog.slugs import insert_under_free_slug, slugify
from app.catalog.stock_fields import STOCK_FIELDS
from app.catalog.variants import (
    build_variants,
    check_options,
    check_variant,
    new_variant,
    register_skus,
)
from app.core import db
from app.core.ids import parse_object_id
from app.errors import ErrorCode, Invalid, NotFound
from app.inventory import stock

VARIANT_FIELDS = ("options", "variants")


async def create_product(*, data: ProductIn, actor: str | None = None) -> ProductOut:
    """Create a product, its slug from the name (`-2`, `-3`... when taken), its variants
    (one holding `stock` when none are given) and each variant's opening stock's ledger row,
    in one transaction (a slug taken concurrently re-runs it).

    Raises Invalid (422) for an unknown category, a currency the store does not sell in, or
    options and variants that disagree (`variant_invalid`); Conflict `sku_taken`.
    """
    fields = catalog.new_product_fields(data)

    async def insert(slug: str, session: Any) -> Product:
        product = await catalog.insert_product(
            category=data.category, fields=dict(fields), slug=slug, session=session
        )
        await register_skus(product.id, after=product.variants, session=session)
        for variant in product.variants:
            await stock.record_initial_stock(
                product_id=product.id,
                stock=variant.stock,
                variant=variant,
                actor=actor,
                session=session,
            )
        return product

    product = await insert_under_free_slug(Product, slugify(data.name, fallback="product"), insert)
    return await catalog.product_out(product)


async def update_product(
    *, product_id: PydanticObjectId, changes: dict[str, Any], actor: str | None = None
) -> ProductOut:
    """Apply a partial update (archived products too: `status` can bring one back). A new
    `stock` goes through the stock ledger (reason "admin edit", by `actor`) on the product's
    only variant; a new threshold re-derives the low-stock flags (of every variant); new
    `options`/`variants` replace the set (variants matched to the stored ones by their
    option values keep their id; see stock.write_variant_set).

    Raises NotFound, Invalid (unknown category, `variant_required` for a `stock` on a product
    with several variants, `variant_invalid`), Conflict `slug_taken` or `sku_taken`, Conflict
    when the product changed underneath us (revision check; retry).
    """
    own = {k: v for k, v in changes.items() if k not in (*STOCK_FIELDS, *VARIANT_FIELDS)}

    async def work(session: Any) -> Product:
        product = await catalog.edit_product(product_id=product_id, changes=own, session=session)
        after: Product | None = None
        if "options" in changes or "variants" in changes:
            after = await _replace_variants(product, changes, actor=actor, session=session)
        if "low_stock_threshold" in changes:
            after = await stock.set_low_stock_threshold(
                product_id=product.id, threshold=changes["low_stock_threshold"], session=session
            )
        if "stock" in changes and "variants" not in changes:
            change = await stock.set_stock(
                product_id=product.id,
                stock=changes["stock"],
                reason="admin edit",
                actor=actor,
                record_unchanged=False,
                session=session,
            )
            after = change.product if change is not None else after
        return after if after is not None else product

    async with catalog.edit_errors():
        product = await db.run_in_transaction(work)
    return await catalog.product_out(product)


async def _save_variants(
    before: Product,
    variants: list[Variant],
    *,
    options: list[Any] | None = None,
    actor: str | None,
    session: Any,
) -> Product:
    """Store a product's new variant set (`options`: its options, default the stored ones):
    the skus claimed in the register first (409 `sku_taken`), then the set through the ledger."""
    await register_skus(before.id, before=before.variants, after=variants, session=session)
    return await stock.write_variant_set(
        before=before,
        options=before.options if options is None else options,
        variants=variants,
        base_price=before.own_price,
        actor=actor,
        session=session,
    )


def _combination(options: dict[str, str]) -> tuple:
    return tuple(sorted((k, v.casefold()) for k, v in options.items()))


async def _replace_variants(
    product: Product, changes: dict[str, Any], *, actor: str | None, session: Any
) -> Product:
    before = await stock.store_variants(product.id, session=session)
    if before is None:
        raise NotFound("No such product.")
    options = (
        check_options(changes["options"]) if changes.get("options") is not None else before.options
    )
    given = changes.get("variants")
    if given is None:
        if [o.model_dump() for o in options] != [o.model_dump() for o in before.options]:
            raise Invalid(
                "New options need the variants that go with them.",
                code=ErrorCode.VARIANT_INVALID,
                errors=[{"loc": ["variants"], "msg": "required with new options"}],
            )
        given = [
            {**v.model_dump(include={"sku", "options", "price", "stock", "low_stock_threshold"})}
            for v in before.variants
        ]
    if "stock" in changes and changes["stock"] != sum(v["stock"] for v in given):
        raise Invalid(
            "With variants, the stock is the sum of theirs (leave it out).",
            code=ErrorCode.VARIANT_INVALID,
            errors=[{"loc": ["stock"], "msg": "the sum of the variants' stock"}],
        )
    built = build_variants(
        product_id=before.id,
        options=options,
        variants=given,
        stock=None,
        threshold=changes.get("low_stock_threshold", before.low_stock_threshold),
        attributes=before.attributes,
    )
    # Keep the ids (and ledgers) of the variants whose option values stay.
    stored = {_combination(v.options): v for v in before.variants}
    for variant in built:
        kept = stored.get(_combination(variant.options))
        if kept is not None:
            variant.id = kept.id
    return await _save_variants(before, built, options=options, actor=actor, session=session)


# -- one variant -------------------------------------------------------------------------------


async def _stored(product_id: PydanticObjectId | str, session: Any) -> Product:
    oid = parse_object_id(product_id)
    product = await stock.store_variants(oid, session=session) if oid else None
    if product is None:
        raise NotFound("No such product.")
    return product


def _variant_of(product: Product, variant_id: str) -> Variant:
    variant = next((v for v in product.variants if v.id == variant_id), None)
    if variant is None:
        raise NotFound("No such variant of this product.")
    return variant


async def add_variant(
    *, product_id: PydanticObjectId | str, data: dict[str, Any], actor: str | None
) -> ProductOut:
    """Add a variant (its option values new to the product) with its opening stock."""

    async def work(session: Any) -> Product:
        product = await _stored(product_id, session)
        variant = new_variant(
            variant_id=str(PydanticObjectId()),
            given={
                **data,
                "low_stock_threshold": data.get("low_stock_threshold")
                if data.get("low_stock_threshold") is not None
                else product.low_stock_threshold,
            },
            product_id=product.id,
        )
        check_variant(variant, options=product.options, others=product.variants, loc=["options"])
        variant.keys = variant_keys(variant.options, product.attributes)
        variants = [*product.variants, variant]
        return await _save_variants(product, variants, actor=actor, session=session)

    async with catalog.edit_errors():
        product = await db.run_in_transaction(work)
    return await catalog.product_out(product)


async def update_variant(
    *,
    product_id: PydanticObjectId | str,
    variant_id: str,
    changes: dict[str, Any],
    actor: str | None,
) -> ProductOut:
    """Change a variant's sku, option values, price, stock (through the ledger) or
    threshold."""

    async def work(session: Any) -> Product:
        product = await _stored(product_id, session)
        variant = _variant_of(product, variant_id).model_copy(deep=True)
        for field in ("sku", "options", "price", "stock", "low_stock_threshold"):
            if field in changes:
                setattr(variant, field, changes[field])
        check_variant(variant, options=product.options, others=product.variants, loc=[])
        variant.keys = variant_keys(variant.options, product.attributes)
        variants = [variant if v.id == variant_id else v for v in product.variants]
        return await _save_variants(product, variants, actor=actor, session=session)

    async with catalog.edit_errors():
        product = await db.run_in_transaction(work)
    return await catalog.product_out(product)


async def delete_variant(
    *, product_id: PydanticObjectId | str, variant_id: str, actor: str | None
) -> ProductOut:
    """Remove a variant (its stock leaves the ledger); a product keeps at least one."""

    async def work(session: Any) -> Product:
        product = await _stored(product_id, session)
        _variant_of(product, variant_id)
        if len(product.variants) == 1:
            raise Invalid(
                "A product keeps at least one variant (archive the product instead).",
                code=ErrorCode.VARIANT_INVALID,
            )
        variants = [v for v in product.variants if v.id != variant_id]
        return await _save_variants(product, variants, actor=actor, session=session)

    async with catalog.edit_errors():
        product = await db.run_in_transaction(work)
    return await catalog.product_out(product)
