"""URL slugs of products and categories: making one from a name, and inserting a document
under the first free one."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from beanie import Document
from pymongo.errors import DuplicateKeyError

from app.core import db
from app.errors import Conflict, ErrorCode

log = logging.getLogger("app.catalog")

SLUG_ATTEMPTS = 5
SLUG_BATCH = 50  # suffixes looked up at once when a name is taken

T = TypeVar("T")


def slugify(text: str, *, fallback: str = "item", max_length: int = 80) -> str:
    """A URL slug: ASCII, lower case, words joined by dashes ("Café Crème 2" -> "cafe-creme-2")."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-") or fallback


async def free_slug(document: type[Document], base: str, *, session: Any = None) -> str:
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


async def insert_under_free_slug(
    document: type[Document], base: str, insert: Callable[[str, Any], Awaitable[T]]
) -> T:
    """Run `insert(slug, session)` in a transaction with the first free slug from `base`.

    A concurrent insert that took the same slug first fails ours on the unique index; that
    aborts the whole transaction on a server, so the whole of it runs again with a fresh
    slug (a retry inside the same session would write into an aborted transaction).
    """

    async def work(session: Any) -> T:
        slug = await free_slug(document, base, session=session)
        return await insert(slug, session)

    for _ in range(SLUG_ATTEMPTS):
        try:
            return await db.run_in_transaction(work)
        except DuplicateKeyError:
            log.info("a slug from %s was taken concurrently, retrying", base)
    raise Conflict("Could not find a free slug; try again.", code=ErrorCode.SLUG_TAKEN)


async def ensure_slug_free(
    document: type[Document], slug: str, *, own_id: Any = None, session: Any = None
) -> None:
    """Raises Conflict `slug_taken` when another document of `document` has `slug`."""
    found = await document.find_one({"slug": slug}, session=session)
    if found is not None and found.id != own_id:
        raise Conflict(f"The slug '{slug}' is already in use.", code=ErrorCode.SLUG_TAKEN)
