"""HTTP caching of the public catalog reads, correct with any number of workers.

- Every public catalog read answers with a strong `ETag` (a hash of the body) and
  `Cache-Control: public, max-age=0, must-revalidate`: browsers and CDNs may keep the page
  but must ask again each time, and `If-None-Match` with the current ETag gets a bodiless 304.
  So a change is visible on the very next read through any cache, and an unchanged page
  costs a few hundred bytes.
- Each worker keeps the responses it computed in memory, keyed by the catalog version: one
  MongoDB document (`CatalogVersion`) that every change a list page or the category tree can
  show bumps. Every read looks the version up (one primary-key read), so a change made
  through any worker is seen by all of them on their next request. A product page is also
  keyed by its product's `updated_at`, `stock` and revision (one indexed read), so stock
  movements refresh it without touching any shared document.

The hook for other domains is `bump_catalog_version()` (or `stock_changed()` for stock
movements): call it after any change that a list page or the category tree shows.
"""

from __future__ import annotations

import hashlib
import secrets
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, Literal

from pymongo.errors import DuplicateKeyError
from quart import Response, current_app, request

from app.catalog.models import CatalogVersion, Product, stock_status
from app.core.ids import parse_object_id

CACHE_CONTROL = "public, max-age=0, must-revalidate"
VERSION_ID = "catalog"
Scope = Literal["catalog", "product"]


async def bump_catalog_version(*, session=None) -> None:
    """Say that what list pages or the category tree show has changed (a product or category
    edited, a product crossing between in, low and out of stock, a new rating); every
    worker's cached pages of the older version stop being served on their next request.

    Call it *after* the change is written, or with the change's `session=` inside its
    transaction (on the embedded engine a call without it there raises TransactionMisuse):
    a reader that saw the old version then computed its page from data at least as new, so
    no stale page is ever kept under the new version. Bumping before the write is the one
    wrong order.
    """
    await CatalogVersion.get_pymongo_collection().update_one(
        {"_id": VERSION_ID},
        {"$inc": {"catalog": 1}, "$setOnInsert": {"epoch": secrets.token_hex(8)}},
        upsert=True,
        session=session,
    )


async def stock_changed(*, before: int, after: int, threshold: int, session=None) -> None:
    """A variant's stock (the catalog's stock key: list pages show the best of a product's
    variants, option filters with `in_stock` and the facets match one) moved from `before`
    to `after`: bump the catalog version when its stock status (in, low, out of stock)
    changed. Product pages follow every stock change by themselves; only list pages need
    this. Same rules as `bump_catalog_version`."""
    if stock_status(before, threshold) != stock_status(after, threshold):
        await bump_catalog_version(session=session)


async def current_version() -> tuple[str, int]:
    """(epoch, catalog) as stored now; creates the document on first use."""
    collection = CatalogVersion.get_pymongo_collection()
    row = await collection.find_one({"_id": VERSION_ID})
    if row is None:
        try:
            await collection.insert_one(
                {"_id": VERSION_ID, "epoch": secrets.token_hex(8), "catalog": 0}
            )
        except DuplicateKeyError:  # another worker (or a bump) created it first
            pass
        row = await collection.find_one({"_id": VERSION_ID})
        assert row is not None  # inserted just now, here or by another worker
    return row["epoch"], row.get("catalog", 0)


async def _product_fingerprint(reference: str) -> tuple | None:
    """What a product page's freshness depends on beyond the catalog version: the product's
    id, `updated_at` (every writer sets it), stock (each variant's) and revision. None when
    not found."""
    oid = parse_object_id(reference)
    by = {"$or": [{"_id": oid}, {"slug": reference}]} if oid else {"slug": reference}
    row = await Product.get_pymongo_collection().find_one(
        {**by, "status": "active"},
        {"updated_at": 1, "stock": 1, "revision_id": 1, "variants.stock": 1},
    )
    if row is None:
        return None
    return (
        str(row["_id"]),
        str(row.get("updated_at")),
        row.get("stock"),
        tuple(v.get("stock") for v in row.get("variants") or ()),
        str(row.get("revision_id")),
    )


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    content_type: str
    etag: str


class ResponseCache:
    """One worker's responses for one catalog version (LRU, bounded in bytes)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.version: tuple | None = None
        self._entries: OrderedDict[tuple, CachedResponse] = OrderedDict()
        self._bytes = 0

    def get(self, version: tuple, key: tuple) -> CachedResponse | None:
        if version != self.version:
            # A newer version (or a new epoch) makes every entry stale; an older one is a
            # request that read the version before a change: it neither reads nor evicts.
            if self.version is None or version[0] != self.version[0] or version > self.version:
                self._reset(version)
            return None
        entry = self._entries.get(key)
        if entry is not None:
            self._entries.move_to_end(key)
        return entry

    def put(self, version: tuple, key: tuple, entry: CachedResponse) -> None:
        if version != self.version or len(entry.body) > self.max_bytes:
            return
        old = self._entries.pop(key, None)
        self._bytes -= len(old.body) if old else 0
        self._entries[key] = entry
        self._bytes += len(entry.body)
        while self._bytes > self.max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self._bytes -= len(evicted.body)

    def __len__(self) -> int:
        return len(self._entries)

    def _reset(self, version: tuple) -> None:
        self.version = version
        self._entries.clear()
        self._bytes = 0


def _cache() -> ResponseCache:
    extensions = current_app.extensions
    if "catalog_cache" not in extensions:
        max_bytes = current_app.config["SETTINGS"].CATALOG_CACHE_MB * 1024 * 1024
        extensions["catalog_cache"] = ResponseCache(max_bytes)
    return extensions["catalog_cache"]


def etag_of(body: bytes) -> str:
    return f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"'


def _not_modified(etag: str) -> bool:
    """If-None-Match (weak comparison, RFC 9110 13.1.2) against our current ETag."""
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def _respond(entry: CachedResponse) -> Response:
    if _not_modified(entry.etag):
        response = Response(b"", status=304)
    else:
        response = Response(entry.body, status=200, content_type=entry.content_type)
    response.headers["ETag"] = entry.etag
    response.headers["Cache-Control"] = CACHE_CONTROL
    return response


def cached_read(scope: Scope):
    """Serve a public catalog read from this worker's cache for the current catalog version,
    with ETag / If-None-Match and Cache-Control. `scope="product"`: the route's `reference`
    is a product, whose own fingerprint is part of the key. Only 200 responses are kept;
    errors pass through untouched.

    Put it right under the route decorator (outside the validation decorators).
    """

    def decorator(view: Callable[..., Awaitable]):
        @wraps(view)
        async def wrapper(*args, **kwargs):
            cache = _cache()
            entry: CachedResponse | None = None
            version: Any = None
            key: Any = None
            if cache.max_bytes:
                version = await current_version()
                key = (request.path, tuple(sorted(request.args.items(multi=True))))
                if scope == "product":
                    key = (*key, await _product_fingerprint(kwargs["reference"]))
                entry = cache.get(version, key)
            if entry is None:
                response = await current_app.make_response(await view(*args, **kwargs))
                if response.status_code != 200:
                    return response
                body = await response.get_data()  # type: ignore[misc]  # Quart's, not werkzeug's
                entry = CachedResponse(body, response.content_type, etag_of(body))
                if cache.max_bytes:
                    cache.put(version, key, entry)
            return _respond(entry)

        return wrapper

    return decorator
