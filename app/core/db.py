"""The database: one client per app, Beanie models, and the transaction helper.

With `MONGODB_URI` set this is PyMongo's `AsyncMongoClient`; without it, the embedded engine
(`app.core.memory`). Code above this module never knows which one it talks to.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import beanie.odm.documents
import beanie.odm.utils.pydantic
from beanie.odm.utils.init import Initializer
from pydantic import TypeAdapter
from pymongo import TEXT, AsyncMongoClient
from pymongo.errors import OperationFailure, PyMongoError

from app.core.memory import MemoryClient

log = logging.getLogger("app.db")
T = TypeVar("T")
_EMBEDDED_ATTEMPTS = 5


@functools.cache
def _type_adapter(object_type: Any) -> TypeAdapter:
    return TypeAdapter(object_type)


def _parse_object_as(object_type: Any, data: Any) -> Any:
    """Beanie's `parse_object_as`, with one TypeAdapter per type instead of one per call.

    Beanie 2 validates the id of every `Document.get()` and `insert()` through a TypeAdapter
    built on the spot (~0.3 ms each: ten per checkout flow, a fifth of its CPU time); the
    adapter for a type validates the same way every time, so it is built once."""
    try:
        adapter = _type_adapter(object_type)
    except TypeError:  # an unhashable type: as Beanie does
        adapter = TypeAdapter(object_type)
    return adapter.validate_python(data)


beanie.odm.utils.pydantic.parse_object_as = _parse_object_as
beanie.odm.documents.parse_object_as = _parse_object_as  # imported there by name

# Every Beanie document of the app, as dotted paths so that `core` imports no domain.
DOCUMENT_MODELS: list[str] = [
    "app.email.models.OutboxEmail",
    "app.auth.models.User",
    "app.auth.models.AuthSession",
    "app.auth.models.RefreshToken",
    "app.auth.models.RevokedAccessToken",
    "app.auth.models.AccountToken",
    "app.auth.models.LoginCounter",
    "app.auth.models.AccountEmailRequest",
    "app.core.ratelimit.RateLimitBucket",
    "app.core.idempotency.IdempotencyRecord",
    "app.catalog.models.Category",
    "app.catalog.models.Product",
    "app.catalog.models.CatalogVersion",
    "app.cart.models.Cart",
    "app.cart.models.GuestCart",
    "app.orders.models.Order",
    "app.orders.models.UnpaidHold",
    "app.reviews.models.Review",
    "app.payments.models.DevPaymentIntent",
    "app.payments.models.PaymentEvent",
    "app.inventory.models.StockMovement",
]


@dataclass
class _State:
    client: Any = None
    database: Any = None
    embedded: bool = True
    supports_transactions: bool = False
    # How product search runs: "text" ($text on the text index) or "regex" (the fallback in
    # app.catalog.search). Decided once at start-up from SEARCH_MODE and the server.
    search_mode: str = "regex"


state = _State()


async def init_db(settings) -> None:
    """Connect, register the models with Beanie (creating their indexes), probe transactions."""
    if settings.MONGODB_URI:
        client = AsyncMongoClient(settings.MONGODB_URI, tz_aware=True, appname="shop")
        state.embedded = False
    else:
        client = MemoryClient()
        state.embedded = True
    database = client[settings.MONGODB_DB]
    state.client, state.database = client, database
    # The embedded engine has no `$text`; on a server `auto` tries the text index and falls
    # back to regex search when the server refuses it.
    mode = "regex" if state.embedded else settings.SEARCH_MODE
    initializer = _Initializer(database=database, document_models=DOCUMENT_MODELS, mode=mode)
    await initializer
    state.search_mode = "text" if initializer.text_indexes else "regex"
    if initializer.refusal is not None:
        log.warning(
            "product search: regex (this server refuses text indexes: %s); set "
            "SEARCH_MODE=text to require $text instead",
            initializer.refusal,
        )
    else:
        log.info("product search: %s", _SEARCH_MODES[state.search_mode])
    state.supports_transactions = await _probe_transactions(database)
    if not state.supports_transactions:
        log.warning(
            "MongoDB is not a replica set: running WITHOUT multi-document transactions; "
            "guarded updates and compensation keep data consistent"
        )


_SEARCH_MODES = {
    "text": "text ($text on the text index)",
    "regex": "regex (whole-word regular expressions; no text index)",
}
# The server cannot build that index (SecantusDB answers this to a text index).
CANNOT_CREATE_INDEX = 67


def _is_text_index(index) -> bool:
    return TEXT in dict(index.index.document["key"]).values()


class _Initializer(Initializer):
    """Beanie's initializer, creating the text indexes only when search uses them.

    mode "text": they are created and a refusal is fatal; "regex": they are left out;
    "auto": they are created, and a server that refuses them with CannotCreateIndex switches
    search to regex (`refusal` says why) instead of failing to start.
    """

    def __init__(self, *, mode: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mode = mode
        self.text_indexes = mode != "regex"
        self.refusal: str | None = None

    async def init_indexes(self, cls, allow_index_dropping: bool = False) -> None:
        settings = cls.get_settings()
        declared = settings.indexes
        has_text = any(_is_text_index(index) for index in declared)
        if has_text and self.text_indexes:
            try:
                await super().init_indexes(cls, allow_index_dropping)
                return
            except OperationFailure as error:
                if self.mode != "auto" or error.code != CANNOT_CREATE_INDEX:
                    raise
                message = (error.details or {}).get("errmsg") or str(error)
                self.text_indexes, self.refusal = False, f"error {error.code}: {message}"
        settings.indexes = [index for index in declared if not _is_text_index(index)]
        try:
            await super().init_indexes(cls, allow_index_dropping)
        finally:
            settings.indexes = declared


async def _probe_transactions(database) -> bool:
    if state.embedded:
        return True
    hello = await database.command("hello")
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"


async def close_db() -> None:
    if state.client is not None:
        await state.client.close()
    state.client = state.database = None


async def ping(seconds: float = 2.0) -> bool:
    """True when the database answers within `seconds`."""
    if state.database is None:
        return False
    try:
        async with asyncio.timeout(seconds):
            await state.database.command("ping")
        return True
    except (TimeoutError, PyMongoError, OSError):
        return False


@asynccontextmanager
async def transaction() -> AsyncIterator[Any]:
    """A multi-document transaction; yields the session to pass as `session=`.

    Without transaction support it yields `None`: each write then stands alone, and callers
    rely on guarded updates (and compensation) for consistency.
    """
    if not state.supports_transactions:
        yield None
        return
    async with state.client.start_session() as session:
        async with await session.start_transaction():
            yield session


async def run_in_transaction(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(session)` in a transaction, retried as a whole on transient conflicts.

    On a server this is the driver's `with_transaction`: write conflicts and elections
    (`TransientTransactionError`) re-run `work` with backoff for up to two minutes, and an
    unknown commit result retries the commit alone, never the work (which could apply it
    twice). The embedded engine serialises transactions, so they never conflict there.
    `work` must be safe to re-run: no network calls and no side effects outside `session`.
    """
    if state.supports_transactions and not state.embedded:
        async with state.client.start_session() as session:
            return await session.with_transaction(work)
    for attempt in range(1, _EMBEDDED_ATTEMPTS + 1):
        try:
            async with transaction() as session:
                return await work(session)
        except OperationFailure as error:
            if not error.has_error_label("TransientTransactionError") or (
                attempt == _EMBEDDED_ATTEMPTS
            ):
                raise
            await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


async def drop_all_collections() -> None:
    """Empty every collection (tests); indexes stay."""
    for name in await state.database.list_collection_names():
        await state.database[name].delete_many({})
