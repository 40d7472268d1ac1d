"""The database: one client per app, Beanie models, and the transaction helper.

With `MONGODB_URI` set this is PyMongo's `AsyncMongoClient`; without it, the embedded engine
(`app.core.memory`). Code above this module never knows which one it talks to. The handle
lives on the app (`get_db()`), so two apps in one process (tests, a CLI command) each have
their own.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import beanie
import beanie.odm.documents
import beanie.odm.utils.pydantic
from beanie.odm.actions import ActionDirections, ActionRegistry, EventTypes
from beanie.odm.utils.init import Initializer
from beanie.odm.utils.projection import get_projection
from pydantic import TypeAdapter
from pymongo import TEXT, AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import OperationFailure, PyMongoError
from quart import Quart, current_app

from app.core.memory import MemoryClient, MemoryDatabase
from config import Settings

log = logging.getLogger("app.db")
T = TypeVar("T")
_EMBEDDED_ATTEMPTS = 5


@functools.cache
def _type_adapter(object_type: Any) -> TypeAdapter[Any]:
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

D = TypeVar("D", bound=beanie.Document)
_INSERT_ACTIONS = [
    (EventTypes.INSERT, ActionDirections.BEFORE),
    (EventTypes.INSERT, ActionDirections.AFTER),
]


def plain_insert_row(document: beanie.Document) -> dict[str, Any] | None:
    """The row Beanie's `insert()` writes for `document`, from pydantic's `model_dump`, when
    its class needs nothing of Beanie's insert: no revision, state management, validation on
    save, custom encoders, links or insert actions. None otherwise (then insert with Beanie).

    Beanie encodes the model through its recursive Python `Encoder` (a large share of a
    checkout's order and ledger inserts); for fields of BSON types (str, int, datetime,
    ObjectId, lists and models of them) that is the model's dump by alias, without an
    unset `_id` (tests/core/test_db.py compares the two for the models written this way)."""
    cls = type(document)
    settings = cls.get_settings()
    if (
        settings.use_revision
        or settings.use_state_management
        or settings.validate_on_save
        or not settings.keep_nulls
        or settings.bson_encoders
        or settings.union_doc is not None
        or cls.get_link_fields()
        or any(ActionRegistry.get_action_list(cls, *action) for action in _INSERT_ACTIONS)
    ):
        return None
    row: dict[str, Any] = document.model_dump(
        by_alias=True, exclude=_UNSET_ID if document.id is None else None
    )
    return row


_UNSET_ID = {"id"}


_PROJECTIONS: dict[type[beanie.Document], dict[str, int] | None] = {}


def _projection(model: type[beanie.Document]) -> dict[str, int] | None:
    """The projection Beanie's find_one sends for `model` (its fields), computed once."""
    if model not in _PROJECTIONS:
        _PROJECTIONS[model] = get_projection(model)
    return _PROJECTIONS[model]


async def find_one(model: type[D], filter: dict[str, Any], *, session: Any = None) -> D | None:
    """`model.find_one(filter, session=session)` for a filter of plain values: the same
    query (with the projection Beanie sends) through the driver, and the document validated
    into the model, as Beanie parses it. Beanie builds a query object, encodes the filter
    and parses through several layers for the same answer. A model with caching, state
    management, links or inheritance goes through Beanie."""
    if not _plainly_read(model):
        return await model.find_one(filter, session=session)
    row = await model.get_pymongo_collection().find_one(
        filter, projection=_projection(model), session=session
    )
    return None if row is None else model.model_validate(row)


async def find_all(model: type[D], filter: dict[str, Any], *, session: Any = None) -> list[D]:
    """`model.find(filter, session=session).to_list()`, as `find_one` reads one."""
    if not _plainly_read(model):
        return await model.find(filter, session=session).to_list()
    cursor = model.get_pymongo_collection().find(
        filter, projection=_projection(model), session=session
    )
    return [model.model_validate(row) async for row in cursor]


def _plainly_read(model: type[beanie.Document]) -> bool:
    """Whether Beanie's reads of `model` only validate the driver's documents into it."""
    settings = model.get_settings()
    return not (
        settings.use_cache
        or settings.use_state_management
        or settings.union_doc is not None
        or model._inheritance_inited
        or model.get_link_fields()
    )


async def insert(document: D, *, session: Any = None) -> D:
    """`document.insert(session=session)`, written with the driver when Beanie's insert
    would add nothing (see `plain_insert_row`): its id set from the insert, as Beanie does."""
    row = plain_insert_row(document)
    if row is None:
        await document.insert(session=session)
        return document
    cls = type(document)
    result = await cls.get_pymongo_collection().insert_one(row, session=session)
    document.id = _parse_object_as(cls.model_fields["id"].annotation, result.inserted_id)
    return document


# Every Beanie document of the app, as dotted paths so that `core` imports no domain.
DOCUMENT_MODELS: list[str] = [
    "app.email.models.OutboxEmail",
    "app.auth.models.User",
    "app.auth.models.AuthSession",
    "app.auth.models.RefreshToken",
    "app.auth.models.AccountToken",
    "app.auth.models.LoginCounter",
    "app.auth.models.AccountEmailRequest",
    "app.core.ratelimit.RateLimitBucket",
    "app.core.idempotency.IdempotencyRecord",
    "app.catalog.models.Category",
    "app.catalog.models.Product",
    "app.catalog.models.CatalogVersion",
    "app.catalog.models.VariantSku",
    "app.cart.models.Cart",
    "app.cart.models.GuestCart",
    "app.orders.models.Order",
    "app.orders.models.UnpaidHold",
    "app.reviews.models.Review",
    "app.payments.models.DevPaymentIntent",
    "app.payments.models.PaymentEvent",
    "app.inventory.models.StockMovement",
    "app.hooks.models.WebhookEndpoint",
    "app.hooks.models.WebhookDelivery",
    "app.hooks.models.WebhookSequence",
    # Priced checkout (issue 19)
    "app.charges.models.ShippingMethod",
    "app.charges.models.TaxRate",
    "app.charges.models.Discount",
    "app.charges.models.DiscountUse",
]


EXTENSION = "shop.database"  # the app's Database, in app.extensions


@dataclass(frozen=True)
class Database:
    """The app's database handle: the client, the database, and what the server can do.

    One per app (`app.extensions[EXTENSION]`, set by `init_db`); `get_db()` reads it. Frozen:
    a test that needs a server without transactions uses the `no_transactions` fixture
    (tests/conftest.py), which puts a changed copy in its app. Beanie binds its document
    classes process-wide to the database initialised last (a Beanie limit): two apps serving
    in one process at once would share the models' database, whatever their handles say."""

    client: AsyncMongoClient[Any] | MemoryClient
    database: AsyncDatabase[Any] | MemoryDatabase
    embedded: bool
    supports_transactions: bool


def get_db(app: Quart | None = None) -> Database:
    """The database of `app`, or of the app in context (a request, a CLI command, a worker
    started when the app started serving)."""
    owner = current_app if app is None else app
    try:
        handle: Database = owner.extensions[EXTENSION]
    except KeyError:
        raise RuntimeError(
            "the app has no database: init_db(app, settings) runs when it starts serving"
        ) from None
    return handle


async def init_db(app: Quart, settings: Settings) -> Database:
    """Connect, register the models with Beanie (creating their indexes, text indexes aside:
    product search creates its own, see app.catalog.search.init_search), probe transactions;
    the handle goes on `app.extensions`."""
    client: AsyncMongoClient[Any] | MemoryClient
    if settings.MONGODB_URI:
        client = AsyncMongoClient(settings.MONGODB_URI, tz_aware=True, appname="shop")
    else:
        client = MemoryClient()
    embedded = isinstance(client, MemoryClient)
    database = client[settings.MONGODB_DB]
    # The embedded engine's MemoryDatabase stands in for the AsyncDatabase Beanie is typed for.
    await _Initializer(database=database, document_models=DOCUMENT_MODELS)  # type: ignore[arg-type]
    supports_transactions = embedded or await _probe_transactions(database)
    if not supports_transactions:
        log.warning(
            "MongoDB is not a replica set: running WITHOUT multi-document transactions; "
            "guarded updates and compensation keep data consistent"
        )
    handle = Database(
        client=client,
        database=database,
        embedded=embedded,
        supports_transactions=supports_transactions,
    )
    app.extensions[EXTENSION] = handle
    return handle


def is_text_index(index: Any) -> bool:
    """Whether a Beanie index declaration (IndexModelField) is a text index."""
    return TEXT in dict(index.index.document["key"]).values()


class _Initializer(Initializer):
    """Beanie's initializer, leaving text indexes out: whether search uses them is product
    search's decision, and it creates them itself (app.catalog.search.init_search)."""

    async def init_indexes(self, cls: Any, allow_index_dropping: bool = False) -> None:
        settings = cls.get_settings()
        declared = settings.indexes
        settings.indexes = [index for index in declared if not is_text_index(index)]
        try:
            await super().init_indexes(cls, allow_index_dropping)
        finally:
            settings.indexes = declared


async def _probe_transactions(database: Any) -> bool:
    hello = await database.command("hello")
    return bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"


async def close_db(app: Quart) -> None:
    handle = app.extensions.pop(EXTENSION, None)
    if handle is not None:
        await handle.client.close()


async def ping(seconds: float = 2.0) -> bool:
    """True when the database answers within `seconds`."""
    handle = current_app.extensions.get(EXTENSION)
    if handle is None:
        return False
    try:
        async with asyncio.timeout(seconds):
            await handle.database.command("ping")
        return True
    except (TimeoutError, PyMongoError, OSError):
        return False


@asynccontextmanager
async def transaction() -> AsyncIterator[Any]:
    """A multi-document transaction; yields the session to pass as `session=`.

    Without transaction support it yields `None`: each write then stands alone, and callers
    rely on guarded updates (and compensation) for consistency.
    """
    handle = get_db()
    if not handle.supports_transactions:
        yield None
        return
    async with handle.client.start_session() as session:
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
    handle = get_db()
    if handle.supports_transactions and not handle.embedded:
        client = cast(AsyncMongoClient[Any], handle.client)  # not embedded: the driver's
        async with client.start_session() as session:
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


async def drop_all_collections(app: Quart | None = None) -> None:
    """Empty every collection of `app`'s database (tests); indexes stay."""
    database = get_db(app).database
    for name in await database.list_collection_names():
        await database[name].delete_many({})
