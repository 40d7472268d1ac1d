"""One product: its reads (product page, the admin's edit form, many by id) and the writes of
its own fields (create, edit, archive).

Stock is not written here: a product's stock fields belong to app/inventory/stock.py. The
admin's create and edit are app/inventory/products.py, which runs these writes and the
stock's in one transaction (a new product is inserted with its opening stock, whose ledger
row the inventory writes beside it; an edit's stock and threshold go through the inventory).
The catalog never calls the inventory: the inventory builds on the catalog.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from beanie import PydanticObjectId
from beanie.exceptions import RevisionIdWasChanged
from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.catalog.cache import bump_catalog_version
from app.catalog.categories import category_refs, find_category, invalid
from app.catalog.models import Category, Facets, Product, ProductImage, utcnow, variant_keys
from app.catalog.schemas import ProductIn, ProductOut
from app.catalog.slugs import ensure_slug_free
from app.catalog.stock_fields import DEFAULT_LOW_STOCK_THRESHOLD, STOCK_FIELDS
from app.catalog.variants import (
    build_variants,
    check_options,
    lowest_price,
    options_out,
    variants_out,
)
from app.core import db
from app.core.clock import as_utc
from app.core.ids import parse_object_id
from app.errors import Conflict, ErrorCode, Invalid, NotFound

# -- reads -----------------------------------------------------------------------------------


async def product_out(product: Product) -> ProductOut:
    categories = await category_refs([product.category_id])
    return ProductOut(
        id=str(product.id),
        slug=product.slug,
        name=product.name,
        price=product.price,
        currency=product.currency,
        brand=product.brand,
        category=categories.get(product.category_id),
        images=[image.model_dump() for image in product.images],
        rating=product.rating.model_dump(),
        stock_status=product.stock_status,
        description=product.description,
        attributes=product.attributes,
        options=options_out(product),
        variants=variants_out(product),
        stock=product.stock,
        low_stock_threshold=product.low_stock_threshold,
        status=product.status,
        tax_class=product.tax_class,
        weight_grams=product.weight_grams,
        created_at=as_utc(product.created_at),
        updated_at=as_utc(product.updated_at),
    )


async def get_product_any_status(*, product_id: PydanticObjectId) -> ProductOut:
    """A product by id, archived or not (the admin's edit form). Raises NotFound."""
    return await product_out(await product_any_status(product_id))


async def get_product(*, reference: str) -> ProductOut:
    """An active product by id or slug. Raises NotFound (archived products included)."""
    oid = parse_object_id(reference)
    by = {"$or": [{"_id": oid}, {"slug": reference}]} if oid else {"slug": reference}
    product = await Product.find_one({**by, "status": "active"})
    if product is None:
        raise NotFound("No such product.")
    return await product_out(product)


async def products_by_id(
    ids: Iterable[PydanticObjectId | str], *, session: Any = None
) -> dict[PydanticObjectId, Product]:
    """Many products (any status) in one query: carts, checkout and orders price from it."""
    wanted = list({PydanticObjectId(i) for i in ids})
    if not wanted:
        return {}
    found = await db.find_all(Product, {"_id": {"$in": wanted}}, session=session)
    return {product.id: product for product in found}


async def product_any_status(product_id: PydanticObjectId, *, session: Any = None) -> Product:
    """A product by id, archived or not. Raises NotFound."""
    product = await Product.get(product_id, session=session)
    if product is None:
        raise NotFound("No such product.")
    return product


async def get_active_product(*, product_id: PydanticObjectId, session: Any = None) -> Product:
    """An active product by id (not slug). Raises NotFound (archived products included)."""
    product = await Product.find_one({"_id": product_id, "status": "active"}, session=session)
    if product is None:
        raise NotFound("No such product.")
    return product


# -- writes of the product's own fields ------------------------------------------------------


async def _category_for_product(reference: str, *, session: Any = None) -> Category:
    category = await find_category(reference, session=session)
    if category is None:
        raise invalid("category", "No such category (give its id or slug).")
    return category


def store_currency(currency: str | None) -> str:
    """The store sells in one currency (carts and orders total one sum): anything else is 422."""
    store: str = current_app.config["SETTINGS"].STORE_CURRENCY
    if currency is not None and currency != store:
        raise Invalid(
            f"This store sells in {store.upper()}; {currency.upper()} prices are not accepted.",
            code=ErrorCode.CURRENCY_NOT_SUPPORTED,
        )
    return store


def build_product(*, category: Category, **fields: Any) -> Product:
    """A new (unsaved) product with its derived fields (category path, facets, variants and
    the price and stock derived from them) filled in. Without `variants`, one variant holds
    `stock`. Raises Invalid (`variant_invalid`) for options and variants that disagree."""
    attributes = fields.get("attributes") or {}
    product_id = fields.pop("id", None) or PydanticObjectId()
    threshold = fields.pop("low_stock_threshold", None)
    if threshold is None:
        threshold = DEFAULT_LOW_STOCK_THRESHOLD
    options = check_options(fields.pop("options", None) or [])
    variants = build_variants(
        product_id=product_id,
        options=options,
        variants=fields.pop("variants", None),
        stock=fields.pop("stock", None),
        threshold=threshold,
        attributes=attributes,
    )
    base_price = fields.pop("price")
    return Product(
        id=product_id,
        **fields,
        price=lowest_price(base_price, variants),
        base_price=base_price,
        stock=sum(v.stock for v in variants),
        low_stock_threshold=threshold,
        low_stock=any(v.low_stock for v in variants),
        options=options,
        variants=variants,
        category_id=category.id,
        category_path=category.path,
        facets=Facets.of(brand=fields.get("brand"), attributes=attributes),
    )


def new_product_fields(data: ProductIn) -> dict[str, Any]:
    """The fields of a new product from the admin's form (422 for a foreign currency)."""
    fields = data.model_dump(exclude={"category"})
    fields["currency"] = store_currency(data.currency)
    fields["tax_class"] = data.tax_class or "standard"
    return fields


async def insert_product(
    *, category: str, fields: dict[str, Any], slug: str, session: Any = None
) -> Product:
    """Insert a product under `slug` in `category` (id or slug; Invalid when unknown), its
    stock fields as given: the caller records its opening stock in the same `session`."""
    found = await _category_for_product(category, session=session)
    product = build_product(category=found, slug=slug, **fields)
    await product.insert(session=session)
    await bump_catalog_version(session=session)
    return product


async def edit_product(
    *, product_id: PydanticObjectId, changes: dict[str, Any], session: Any = None
) -> Product:
    """Apply a partial update of the product's own fields (archived products too: `status`
    can bring one back); `changes` holds none of STOCK_FIELDS. The product after it.

    Raises NotFound, Invalid (unknown category), Conflict `slug_taken`;
    RevisionIdWasChanged when the product changed underneath us (see `edit_errors`).
    """
    product = await product_any_status(product_id, session=session)
    fields = {k: v for k, v in changes.items() if k != "category"}
    if "price" in fields:
        # The product's own price; its `price` stays the lowest of its variants'.
        fields["base_price"] = fields["price"]
        fields["price"] = lowest_price(fields["price"], product.variants)
    if "currency" in fields:
        fields["currency"] = store_currency(fields["currency"])
    if "images" in fields:
        fields["images"] = [ProductImage(**image) for image in fields["images"]]
    if "category" in changes:
        category = await _category_for_product(changes["category"], session=session)
        fields["category_id"], fields["category_path"] = category.id, category.path
    if "slug" in fields and fields["slug"] != product.slug:
        await ensure_slug_free(Product, fields["slug"], own_id=product.id, session=session)
    if "brand" in fields or "attributes" in fields:
        fields["facets"] = Facets.of(
            brand=fields.get("brand", product.brand),
            attributes=fields.get("attributes", product.attributes),
        )
    if fields:
        fields["updated_at"] = utcnow()
        # Beanie's revision check: a concurrent edit between our read and this write
        # fails instead of being overwritten.
        await product.set(fields, session=session)
        if "attributes" in fields:
            await _rekey_variants(product, session=session)
        await bump_catalog_version(session=session)
    return product


async def _rekey_variants(product: Product, *, session: Any = None) -> None:
    """A product's `color`/`size` attributes filter its option-less variants (their `keys`):
    re-derive every stored variant's keys, in one update that touches nothing else."""
    keys: Any = "$$v.keys"
    for variant in product.variants:
        variant.keys = variant_keys(variant.options, product.attributes)
        keys = {"$cond": [{"$eq": ["$$v.id", variant.id]}, {"$literal": variant.keys}, keys]}
    await Product.get_pymongo_collection().update_one(
        {"_id": product.id, "variants": {"$exists": True}},
        [
            {
                "$set": {
                    "variants": {
                        "$map": {
                            "input": "$variants",
                            "as": "v",
                            "in": {"$mergeObjects": ["$$v", {"keys": keys}]},
                        }
                    }
                }
            }
        ],
        session=session,
    )


async def update_product(*, product_id: PydanticObjectId, changes: dict[str, Any]) -> ProductOut:
    """Apply a partial update of a product's own fields in one transaction (the admin's edit,
    which may carry stock or threshold, is app/inventory/products.update_product).

    Raises NotFound, Invalid (unknown category), Conflict `slug_taken`, Conflict when the
    product changed underneath us (revision check; retry); ValueError for a stock field.
    """
    if any(field in changes for field in STOCK_FIELDS):
        raise ValueError("stock fields are written by app/inventory/stock.py")

    async def work(session: Any) -> Product:
        return await edit_product(product_id=product_id, changes=changes, session=session)

    async with edit_errors():
        product = await db.run_in_transaction(work)
    return await product_out(product)


@asynccontextmanager
async def edit_errors() -> AsyncIterator[None]:
    """Around the transaction of an edit: a slug taken concurrently is 409 `slug_taken`, a
    product changed concurrently (revision check) a 409 to retry."""
    try:
        yield
    except DuplicateKeyError:
        raise Conflict("The slug is already in use.", code=ErrorCode.SLUG_TAKEN) from None
    except RevisionIdWasChanged:
        raise Conflict("The product was changed concurrently; try again.") from None


async def archive_product(*, product_id: PydanticObjectId) -> None:
    """Archive a product: it leaves the catalog; orders keep their copies. Idempotent.

    Raises NotFound.
    """
    product = await product_any_status(product_id)
    if product.status != "archived":
        # Archiving wins over a concurrent edit; the revision still moves on.
        await product.set({"status": "archived", "updated_at": utcnow()}, ignore_revision=True)
        await bump_catalog_version()
