"""The category tree: reads (names for list pages, the whole tree) and the admin's writes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from app.catalog.cache import bump_catalog_version
from app.catalog.models import Category, Product, utcnow
from app.catalog.schemas import CategoryNode, CategoryRef
from app.catalog.slugs import ensure_slug_free, insert_under_free_slug, slugify
from app.core import db
from app.core.ids import parse_object_id
from app.errors import Conflict, ErrorCode, Invalid, NotFound


def invalid(field: str, message: str, *, code: ErrorCode = ErrorCode.VALIDATION_ERROR) -> Invalid:
    return Invalid(message, code=code, errors=[{"loc": [field], "msg": message}])


# -- reads -----------------------------------------------------------------------------------


async def category_refs(
    ids: Iterable[PydanticObjectId | None],
) -> dict[PydanticObjectId, CategoryRef]:
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
    children: dict[Any, list[dict[str, Any]]] = {}
    for row in rows:
        children.setdefault(row.get("parent_id"), []).append(row)

    def build(row: dict[str, Any], seen: frozenset[Any]) -> CategoryNode:
        below = [] if row["_id"] in seen else children.get(row["_id"], [])
        return CategoryNode(
            id=str(row["_id"]),
            name=row["name"],
            slug=row["slug"],
            description=row.get("description"),
            children=[build(child, seen | {row["_id"]}) for child in below],
        )

    return [build(row, frozenset()) for row in children.get(None, [])]


async def find_category(reference: str, *, session: Any = None) -> Category | None:
    """A category by id or slug."""
    oid = parse_object_id(reference)
    query = {"$or": [{"_id": oid}, {"slug": reference}]} if oid else {"slug": reference}
    return await Category.find_one(query, session=session)


# -- admin writes ----------------------------------------------------------------------------


async def _get_category(category_id: PydanticObjectId, *, session: Any = None) -> Category:
    category = await Category.get(category_id, session=session)
    if category is None:
        raise NotFound("No such category.")
    return category


async def _parent(parent_id: str | None, *, session: Any = None) -> Category | None:
    if parent_id is None:
        return None
    oid = parse_object_id(parent_id)
    parent = await Category.get(oid, session=session) if oid else None
    if parent is None:
        raise invalid("parent_id", "No such parent category.")
    return parent


async def create_category(
    *,
    name: str,
    slug: str | None = None,
    description: str | None = None,
    parent_id: str | None = None,
) -> Category:
    """Create a category under `parent_id` (or at the root).

    Raises Invalid (422) for an unknown parent, Conflict `slug_taken` for a given slug in use.
    A generated slug gets a `-2`, `-3`... suffix instead.
    """
    parent = await _parent(parent_id)

    def build(slug: str) -> Category:
        return Category(
            name=name,
            slug=slug,
            description=description,
            parent_id=parent.id if parent else None,
            ancestors=parent.path if parent else [],
        )

    if slug is None:

        async def insert(free: str, session: Any) -> Category:
            category = build(free)
            await category.insert(session=session)
            await bump_catalog_version(session=session)
            return category

        return await insert_under_free_slug(Category, slugify(name, fallback="category"), insert)
    await ensure_slug_free(Category, slug)
    category = build(slug)
    try:
        await category.insert()
    except DuplicateKeyError:
        raise Conflict(f"The slug '{slug}' is already in use.", code=ErrorCode.SLUG_TAKEN) from None
    await bump_catalog_version()
    return category


async def update_category(*, category_id: PydanticObjectId, changes: dict[str, Any]) -> Category:
    """Rename, re-slug or move a category. A move rewrites the ancestors of the whole sub-tree
    and the category path of its products, in one transaction.

    Raises NotFound, Invalid (unknown parent; `category_cycle` when the new parent is the
    category itself or one of its descendants), Conflict `slug_taken`.
    """

    async def work(session: Any) -> Category:
        category = await _get_category(category_id, session=session)
        updates: dict[str, Any] = {}
        for key in ("name", "description"):
            if key in changes:
                updates[key] = changes[key]
        if "slug" in changes and changes["slug"] != category.slug:
            await ensure_slug_free(Category, changes["slug"], own_id=category.id, session=session)
            updates["slug"] = changes["slug"]
        if "parent_id" in changes and parse_object_id(changes["parent_id"]) != category.parent_id:
            parent = await _parent(changes["parent_id"], session=session)
            if parent is not None and (parent.id == category.id or category.id in parent.ancestors):
                raise invalid(
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


async def _move_subtree(
    category: Category, ancestors: list[PydanticObjectId], *, session: Any = None
) -> None:
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


async def delete_category(*, category_id: PydanticObjectId) -> None:
    """Delete an empty category.

    Raises NotFound; Conflict `category_in_use` while it has sub-categories or products
    (archived ones too: they still point at it).
    """

    async def work(session: Any) -> None:
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
