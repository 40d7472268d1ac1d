"""Catalog services: listing and search, product pages, the category tree, admin writes.

Services take keyword-only arguments and never touch the request; writes take `session=None`
so callers can compose them inside one transaction.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from beanie import PydanticObjectId
from beanie.exceptions import RevisionIdWasChanged
from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.catalog import search
from app.catalog.cache import bump_catalog_version
from app.catalog.models import (
    DEFAULT_SORT,
    SORTS,
    Category,
    Facets,
    Product,
    ProductImage,
    stock_status,
    utcnow,
)
from app.catalog.schemas import (
    AdminProductItem,
    AdminProductQuery,
    CategoryNode,
    CategoryRef,
    ProductIn,
    ProductListItem,
    ProductOut,
    ProductQuery,
)
from app.core import db
from app.core.clock import as_utc
from app.core.pagination import Page
from app.errors import Conflict, ErrorCode, Invalid, NotFound
from app.inventory import service as inventory

log = logging.getLogger("app.catalog")

# What a list item needs from the database, and nothing more.
LIST_PROJECTION = {
    "status": 1,
    "name": 1,
    "slug": 1,
    "price": 1,
    "currency": 1,
    "brand": 1,
    "category_id": 1,
    "images": 1,
    "rating": 1,
    "stock": 1,
    "low_stock_threshold": 1,
}
SLUG_ATTEMPTS = 5
SLUG_BATCH = 50  # suffixes looked up at once when a name is taken


# -- slugs -----------------------------------------------------------------------------------


def slugify(text: str, *, fallback: str = "item", max_length: int = 80) -> str:
    """A URL slug: ASCII, lower case, words joined by dashes ("Café Crème 2" -> "cafe-creme-2")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or fallback


async def _free_slug(document, base: str, *, session=None) -> str:
    """`base`, or `base-2`, `base-3`... whichever is free first.

    The candidates are asked for by exact value, `base` alone first (a new name is free at
    once), then a batch of suffixes at a time: each is a point lookup in the unique slug
    index, so the cost follows how often the name is taken, never the collection's size
    (a pattern over all slugs was a scan on the embedded engine)."""
    collection = document.get_pymongo_collection()
    batch, suffix = [base], 2
    while True:
        cursor = collection.find({"slug": {"$in": batch}}, {"slug": 1, "_id": 0}, session=session)
        taken = {row["slug"] for row in await cursor.to_list()}
        free = next((slug for slug in batch if slug not in taken), None)
        if free is not None:
            return free
        batch = [f"{base}-{n}" for n in range(suffix, suffix + SLUG_BATCH)]
        suffix += SLUG_BATCH


async def _insert_with_free_slug(document, base: str, *, session=None) -> None:
    """Insert `document` under the first free slug from `base`; a concurrent insert that took
    the same slug first (unique index) makes us pick the next one."""
    for _ in range(SLUG_ATTEMPTS):
        document.slug = await _free_slug(type(document), base, session=session)
        try:
            await document.insert(session=session)
            return
        except DuplicateKeyError:
            document.id = None
            log.info("slug %s taken concurrently, retrying", document.slug)
    raise Conflict("Could not find a free slug; try again.", code=ErrorCode.SLUG_TAKEN)


def _object_id(value: str) -> PydanticObjectId | None:
    return PydanticObjectId(value) if PydanticObjectId.is_valid(value) else None


# -- categories ------------------------------------------------------------------------------


async def category_refs(ids) -> dict[PydanticObjectId, CategoryRef]:
    """Names and slugs of many categories in one query (no N+1 on list pages)."""
    wanted = list({i for i in ids if i is not None})
    if not wanted:
        return {}
    cursor = Category.get_pymongo_collection().find(
        {"_id": {"$in": wanted}}, {"name": 1, "slug": 1}
    )
    return {
        row["_id"]: CategoryRef(id=str(row["_id"]), slug=row["slug"], name=row["name"])
        for row in await cursor.to_list()
    }


async def category_tree() -> list[CategoryNode]:
    """Every category, nested under its parent; siblings by name. One query."""
    cursor = Category.get_pymongo_collection().find(
        {}, {"name": 1, "slug": 1, "description": 1, "parent_id": 1}, sort=[("name", 1)]
    )
    rows = await cursor.to_list()
    children: dict[Any, list[dict]] = {}
    for row in rows:
        children.setdefault(row.get("parent_id"), []).append(row)

    def build(row: dict, seen: frozenset) -> CategoryNode:
        below = [] if row["_id"] in seen else children.get(row["_id"], [])
        return CategoryNode(
            id=str(row["_id"]),
            name=row["name"],
            slug=row["slug"],
            description=row.get("description"),
            children=[build(child, seen | {row["_id"]}) for child in below],
        )

    return [build(row, frozenset()) for row in children.get(None, [])]


async def _get_category(category_id: str, *, session=None) -> Category:
    oid = _object_id(category_id)
    category = await Category.get(oid, session=session) if oid else None
    if category is None:
        raise NotFound("No such category.")
    return category


async def _find_category(reference: str, *, session=None) -> Category | None:
    """A category by id or slug."""
    oid = _object_id(reference)
    query = {"$or": [{"_id": oid}, {"slug": reference}]} if oid else {"slug": reference}
    return await Category.find_one(query, session=session)


def _invalid(field: str, message: str, *, code: ErrorCode = ErrorCode.VALIDATION_ERROR):
    return Invalid(message, code=code, errors=[{"loc": [field], "msg": message}])


async def _parent(parent_id: str | None, *, session=None) -> Category | None:
    if parent_id is None:
        return None
    oid = _object_id(parent_id)
    parent = await Category.get(oid, session=session) if oid else None
    if parent is None:
        raise _invalid("parent_id", "No such parent category.")
    return parent


async def _ensure_slug_free(document, slug: str, *, own_id=None, session=None) -> None:
    found = await document.find_one({"slug": slug}, session=session)
    if found is not None and found.id != own_id:
        raise Conflict(f"The slug '{slug}' is already in use.", code=ErrorCode.SLUG_TAKEN)


async def create_category(
    *,
    name: str,
    slug: str | None = None,
    description: str | None = None,
    parent_id: str | None = None,
    session=None,
) -> Category:
    """Create a category under `parent_id` (or at the root).

    Raises Invalid (422) for an unknown parent, Conflict `slug_taken` for a given slug in use.
    A generated slug gets a `-2`, `-3`... suffix instead.
    """
    parent = await _parent(parent_id, session=session)
    category = Category(
        name=name,
        slug=slug or "",
        description=description,
        parent_id=parent.id if parent else None,
        ancestors=parent.path if parent else [],
    )
    if slug is None:
        await _insert_with_free_slug(category, slugify(name, fallback="category"), session=session)
    else:
        await _ensure_slug_free(Category, slug, session=session)
        try:
            await category.insert(session=session)
        except DuplicateKeyError:
            raise Conflict(
                f"The slug '{slug}' is already in use.", code=ErrorCode.SLUG_TAKEN
            ) from None
    await bump_catalog_version(session=session)
    return category


async def update_category(*, category_id: str, changes: dict[str, Any]) -> Category:
    """Rename, re-slug or move a category. A move rewrites the ancestors of the whole sub-tree
    and the category path of its products, in one transaction.

    Raises NotFound, Invalid (unknown parent; `category_cycle` when the new parent is the
    category itself or one of its descendants), Conflict `slug_taken`.
    """

    async def work(session) -> Category:
        category = await _get_category(category_id, session=session)
        updates: dict[str, Any] = {}
        for key in ("name", "description"):
            if key in changes:
                updates[key] = changes[key]
        if "slug" in changes and changes["slug"] != category.slug:
            await _ensure_slug_free(Category, changes["slug"], own_id=category.id, session=session)
            updates["slug"] = changes["slug"]
        if "parent_id" in changes and _object_id(changes["parent_id"] or "") != category.parent_id:
            parent = await _parent(changes["parent_id"], session=session)
            if parent is not None and (parent.id == category.id or category.id in parent.ancestors):
                raise _invalid(
                    "parent_id",
                    "A category cannot move under itself or its own sub-categories.",
                    code=ErrorCode.CATEGORY_CYCLE,
                )
            ancestors = parent.path if parent else []
            await _move_subtree(category, ancestors, session=session)
            updates["parent_id"] = parent.id if parent else None
            updates["ancestors"] = ancestors
        if updates:
            updates["updated_at"] = utcnow()
            await Category.get_pymongo_collection().update_one(
                {"_id": category.id}, {"$set": updates}, session=session
            )
            for key, value in updates.items():
                setattr(category, key, value)
            await bump_catalog_version(session=session)
        return category

    try:
        return await db.run_in_transaction(work)
    except DuplicateKeyError:
        raise Conflict("The slug is already in use.", code=ErrorCode.SLUG_TAKEN) from None


async def _move_subtree(category: Category, ancestors: list, *, session=None) -> None:
    """Give `category` new `ancestors`: fix its descendants' ancestors and every product path
    below it (each product stores its category's path)."""
    old_depth = len(category.ancestors)
    new_path = [*ancestors, category.id]
    categories = Category.get_pymongo_collection()
    products = Product.get_pymongo_collection()
    descendants = await categories.find(
        {"ancestors": category.id}, {"ancestors": 1}, session=session
    ).to_list()
    paths = {category.id: new_path}
    for row in descendants:
        # Keep the part of the ancestry below the moved category, re-rooted at its new place.
        moved = [*ancestors, *row["ancestors"][old_depth:]]
        await categories.update_one(
            {"_id": row["_id"]}, {"$set": {"ancestors": moved}}, session=session
        )
        paths[row["_id"]] = [*moved, row["_id"]]
    for category_id, path in paths.items():
        await products.update_many(
            {"category_id": category_id}, {"$set": {"category_path": path}}, session=session
        )


async def delete_category(*, category_id: str) -> None:
    """Delete an empty category.

    Raises NotFound; Conflict `category_in_use` while it has sub-categories or products
    (archived ones too: they still point at it).
    """

    async def work(session) -> None:
        category = await _get_category(category_id, session=session)
        categories = Category.get_pymongo_collection()
        if await categories.find_one({"parent_id": category.id}, {"_id": 1}, session=session):
            raise Conflict("The category still has sub-categories.", code=ErrorCode.CATEGORY_IN_USE)
        products = Product.get_pymongo_collection()
        if await products.find_one({"category_id": category.id}, {"_id": 1}, session=session):
            raise Conflict("The category still has products.", code=ErrorCode.CATEGORY_IN_USE)
        await categories.delete_one({"_id": category.id}, session=session)
        await bump_catalog_version(session=session)

    await db.run_in_transaction(work)


# -- catalog reads ---------------------------------------------------------------------------


def _list_item(row: dict, categories: dict) -> ProductListItem:
    return ProductListItem(
        id=str(row["_id"]),
        slug=row["slug"],
        name=row["name"],
        price=row["price"],
        currency=row["currency"],
        brand=row.get("brand"),
        category=categories.get(row.get("category_id")),
        images=row.get("images", []),
        rating=row.get("rating") or {"average": 0.0, "count": 0},
        stock_status=stock_status(row.get("stock", 0), row.get("low_stock_threshold", 5)),
    )


async def list_products(
    *, query: ProductQuery, status: str = "active", item=_list_item
) -> Page[ProductListItem]:
    """One page of products in `status` (the catalog: active) matching the filters, in the
    requested order. Every index leads with `status`, so archived ones list the same way.

    Unknown category slug or a query without searchable words: an empty page.
    """
    filters: dict[str, Any] = {"status": status}
    empty = Page.build([], query=query, total=0)
    if query.category:
        category = await Category.find_one({"slug": query.category})
        if category is None:
            return empty
        filters["category_path"] = category.id
    for name in ("brand", "color", "size"):
        value = getattr(query, name)
        if value:
            filters[f"facets.{name}"] = value.casefold()
    price: dict[str, int] = {}
    if query.min_price is not None:
        price["$gte"] = query.min_price
    if query.max_price is not None:
        price["$lte"] = query.max_price
    if price:
        filters["price"] = price
    # Like a storefront checkbox: `true` narrows to what can be bought, `false` is no filter.
    if query.in_stock:
        filters["stock"] = {"$gt": 0}

    terms = search.terms_of(query.q) if query.q else None
    if query.q and not terms:
        return empty
    collection = Product.get_pymongo_collection()
    sort_key = query.sort or (None if terms else DEFAULT_SORT)
    plan = search.plan(
        filters=filters,
        terms=terms,
        sort=SORTS[sort_key] if sort_key else None,
        text_index=bool(terms) and search.uses_text_index(),
    )
    rows, total = await search.find_page(
        collection, plan, projection=LIST_PROJECTION, skip=query.skip, limit=query.per_page
    )
    categories = await category_refs(row.get("category_id") for row in rows)
    return Page.build([item(row, categories) for row in rows], query=query, total=total)


def _admin_list_item(row: dict, categories: dict) -> AdminProductItem:
    return AdminProductItem(
        **_list_item(row, categories).model_dump(),
        stock=row.get("stock", 0),
        low_stock_threshold=row.get("low_stock_threshold", 5),
        status=row["status"],
    )


async def admin_list_products(*, query: AdminProductQuery) -> Page[AdminProductItem]:
    """The admin's product list: the catalog's filters and sorts on either status, each item
    with its stock numbers and status (the same indexes: every one leads with `status`)."""
    return await list_products(query=query, status=query.status, item=_admin_list_item)


async def _product_out(product: Product) -> ProductOut:
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
        stock=product.stock,
        low_stock_threshold=product.low_stock_threshold,
        status=product.status,
        created_at=as_utc(product.created_at),
        updated_at=as_utc(product.updated_at),
    )


async def get_product_any_status(*, product_id: str) -> ProductOut:
    """A product by id, archived or not (the admin's edit form). Raises NotFound."""
    return await _product_out(await _get_product_any_status(product_id))


async def get_product(*, reference: str) -> ProductOut:
    """An active product by id or slug. Raises NotFound (archived products included)."""
    oid = _object_id(reference)
    by = {"$or": [{"_id": oid}, {"slug": reference}]} if oid else {"slug": reference}
    product = await Product.find_one({**by, "status": "active"})
    if product is None:
        raise NotFound("No such product.")
    return await _product_out(product)


# -- admin writes ----------------------------------------------------------------------------


async def _category_for_product(reference: str, *, session=None) -> Category:
    category = await _find_category(reference, session=session)
    if category is None:
        raise _invalid("category", "No such category (give its id or slug).")
    return category


def _store_currency(currency: str | None) -> str:
    """The store sells in one currency (carts and orders total one sum): anything else is 422."""
    store = current_app.config["SETTINGS"].STORE_CURRENCY
    if currency not in (None, store):
        raise Invalid(
            f"This store sells in {store.upper()}; {currency.upper()} prices are not accepted.",
            code=ErrorCode.CURRENCY_NOT_SUPPORTED,
        )
    return store


def build_product(*, category: Category, **fields: Any) -> Product:
    """A new (unsaved) product with its derived fields (category path, facets) filled in."""
    attributes = fields.get("attributes") or {}
    return Product(
        **fields,
        category_id=category.id,
        category_path=category.path,
        facets=Facets.of(brand=fields.get("brand"), attributes=attributes),
    )


async def create_product(*, data: ProductIn, actor: str | None = None) -> ProductOut:
    """Create a product, its slug from the name (`-2`, `-3`... when taken), and its opening
    stock's ledger row, in one transaction (a slug taken concurrently re-runs it).

    Raises Invalid (422) for an unknown category.
    """
    fields = data.model_dump(exclude={"category"})
    fields["currency"] = _store_currency(data.currency)
    base = slugify(data.name, fallback="product")

    async def work(session) -> Product:
        category = await _category_for_product(data.category, session=session)
        product = build_product(category=category, slug="", **fields)
        product.slug = await _free_slug(Product, base, session=session)
        await product.insert(session=session)
        await inventory.record_initial_stock(
            product_id=product.id, stock=product.stock, actor=actor, session=session
        )
        await bump_catalog_version(session=session)
        return product

    for _ in range(SLUG_ATTEMPTS):
        try:
            return await _product_out(await db.run_in_transaction(work))
        except DuplicateKeyError:
            log.info("slug from %s taken concurrently, retrying", base)
    raise Conflict("Could not find a free slug; try again.", code=ErrorCode.SLUG_TAKEN)


async def products_by_id(ids, *, session=None) -> dict[PydanticObjectId, Product]:
    """Many products (any status) in one query: carts, checkout and orders price from it."""
    wanted = list({PydanticObjectId(i) for i in ids})
    if not wanted:
        return {}
    found = await Product.find({"_id": {"$in": wanted}}, session=session).to_list()
    return {product.id: product for product in found}


async def _get_product_any_status(product_id: str, *, session=None) -> Product:
    oid = _object_id(product_id)
    product = await Product.get(oid, session=session) if oid else None
    if product is None:
        raise NotFound("No such product.")
    return product


async def update_product(
    *, product_id: str, changes: dict[str, Any], actor: str | None = None
) -> ProductOut:
    """Apply a partial update (archived products too: `status` can bring one back). A new
    `stock` goes through the stock ledger (reason "admin edit", by `actor`).

    Raises NotFound, Invalid (unknown category), Conflict `slug_taken`, Conflict when the
    product changed underneath us (revision check; retry).
    """
    # Stock and threshold are written by the inventory service (the ledger and the
    # low-stock flag stay exact under concurrent sales); the category is resolved below.
    written_apart = ("category", "stock", "low_stock_threshold")

    async def work(session) -> Product:
        product = await _get_product_any_status(product_id, session=session)
        fields = {k: v for k, v in changes.items() if k not in written_apart}
        if "currency" in fields:
            fields["currency"] = _store_currency(fields["currency"])
        if "images" in fields:
            fields["images"] = [ProductImage(**image) for image in fields["images"]]
        if "category" in changes:
            category = await _category_for_product(changes["category"], session=session)
            fields["category_id"], fields["category_path"] = category.id, category.path
        if "slug" in fields and fields["slug"] != product.slug:
            await _ensure_slug_free(Product, fields["slug"], own_id=product.id, session=session)
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
        after = None
        if "low_stock_threshold" in changes:
            after = await inventory.set_low_stock_threshold(
                product_id=product.id, threshold=changes["low_stock_threshold"], session=session
            )
        if fields:
            await bump_catalog_version(session=session)
        if "stock" in changes:
            after = await inventory.set_stock(
                product_id=product.id,
                stock=changes["stock"],
                reason="admin edit",
                actor=actor,
                record_unchanged=False,
                session=session,
            )
        if after is not None:
            for key in ("stock", "low_stock_threshold", "low_stock", "updated_at"):
                setattr(product, key, after[key])
        return product

    try:
        product = await db.run_in_transaction(work)
    except DuplicateKeyError:
        raise Conflict("The slug is already in use.", code=ErrorCode.SLUG_TAKEN) from None
    except RevisionIdWasChanged:
        raise Conflict("The product was changed concurrently; try again.") from None
    return await _product_out(product)


async def get_active_product(*, product_id: str, session=None) -> Product:
    """An active product by id (not slug). Raises NotFound (archived products included)."""
    oid = _object_id(product_id)
    product = (
        await Product.find_one({"_id": oid, "status": "active"}, session=session) if oid else None
    )
    if product is None:
        raise NotFound("No such product.")
    return product


async def rating_version(*, product_id: PydanticObjectId, session=None) -> int:
    """The product's rating version (any status), to pass to `set_rating`. Raises NotFound."""
    row = await Product.get_pymongo_collection().find_one(
        {"_id": product_id}, {"rating.version": 1}, session=session
    )
    if row is None:
        raise NotFound("No such product.")
    return (row.get("rating") or {}).get("version") or 0


async def set_rating(
    *,
    product_id: PydanticObjectId,
    average: float,
    count: int,
    expected_version: int,
    session=None,
) -> bool:
    """Store a product's rating unless it was rewritten since `expected_version` was read
    (then False: recompute and try again). The one writer of `rating` (reviews call it).

    Not a revision-checked edit: the rating is derived data, written with its own guard, and
    an admin's concurrent edit of other fields must neither fail nor be failed by it.
    """
    result = await Product.get_pymongo_collection().update_one(
        # Products stored before the version existed have none: that is version 0.
        {"_id": product_id, "rating.version": expected_version or {"$in": [0, None]}},
        {"$set": {"rating.average": average, "rating.count": count}, "$inc": {"rating.version": 1}},
        session=session,
    )
    if result.matched_count != 1:
        return False
    await bump_catalog_version(session=session)  # list pages show (and sort by) ratings
    return True


async def archive_product(*, product_id: str) -> None:
    """Archive a product: it leaves the catalog; orders keep their copies. Idempotent.

    Raises NotFound.
    """
    product = await _get_product_any_status(product_id)
    if product.status != "archived":
        # Archiving wins over a concurrent edit; the revision still moves on.
        await product.set({"status": "archived", "updated_at": utcnow()}, ignore_revision=True)
        await bump_catalog_version()
