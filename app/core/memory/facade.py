"""The async facade: the slice of PyMongo's async API that Beanie and our services use, over
mongomock-ng, with `session=` translated and every call passed through the transaction gate.

`MemoryClient(fast_paths=...)` is the one switch for the fast paths (store.py, query.py,
collection.py): on (the default), collections look documents up through the store's maps,
snapshot transactions copy-on-write and remember query results; off, every call is
mongomock-ng's own (behind the same gate), which is what the differential test compares with.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any

import pymongo.errors

from app.core.memory import query
from app.core.memory.collection import FastCollection
from app.core.memory.gate import Gate, TransactionMisuse, TransactionWaitTimeout
from app.core.memory.mongomock_edge import Collection, Document, InvalidOperation, mongomock_ng
from app.core.memory.store import TrackedStore, tracked

Modifier = tuple[str, tuple[Any, ...], dict[str, Any]]


class MemoryCursor:
    """An async cursor over a mongomock cursor; results are read under the gate on first use."""

    def __init__(
        self,
        collection: MemoryCollection,
        session: MemorySession | None,
        make_cursor: Callable[[list[Modifier]], list[Document]],
    ) -> None:
        self._collection = collection
        self._session = session
        self._make_cursor = make_cursor
        self._modifiers: list[Modifier] = []
        self._items: list[Document] | None = None
        self._index = 0

    def _modify(self, name: str, *args: Any, **kwargs: Any) -> MemoryCursor:
        if self._items is not None:
            raise InvalidOperation("cannot change a cursor after reading from it")
        self._modifiers.append((name, args, kwargs))
        return self

    def sort(self, *args: Any, **kwargs: Any) -> MemoryCursor:
        return self._modify("sort", *args, **kwargs)

    def skip(self, *args: Any, **kwargs: Any) -> MemoryCursor:
        return self._modify("skip", *args, **kwargs)

    def limit(self, *args: Any, **kwargs: Any) -> MemoryCursor:
        return self._modify("limit", *args, **kwargs)

    def _read(self) -> list[Document]:
        return self._make_cursor(self._modifiers)

    async def _load(self) -> list[Document]:
        if self._items is None:
            gate = self._collection._gate
            if self._session is not None and self._session is gate.owner:
                self._items = self._read()
            else:
                await gate.acquire()
                try:
                    self._items = self._read()
                finally:
                    gate.release()
        return self._items

    def __aiter__(self) -> MemoryCursor:
        return self

    async def __anext__(self) -> Document:
        items = await self._load()
        if self._index >= len(items):
            raise StopAsyncIteration
        self._index += 1
        return items[self._index - 1]

    async def next(self) -> Document:
        return await self.__anext__()

    async def to_list(self, length: int | None = None) -> list[Document]:
        items = await self._load()
        end = len(items) if not length else min(len(items), self._index + length)
        chunk = items[self._index : end]
        self._index = end
        return chunk

    async def close(self) -> None:
        self._items = []


class MemoryCollection:
    """Async methods over a mongomock collection, with `session=` translated and gated."""

    # Reads that refuse a session on mongomock-ng; they need no enrolment.
    _SESSIONLESS = frozenset({"count_documents", "estimated_document_count"})
    _READS = frozenset(
        {"estimated_document_count", "distinct", "index_information", "list_indexes"}
    )

    def __init__(self, inner: Collection, database: MemoryDatabase) -> None:
        self._fast = database.client.fast_paths
        if self._fast:
            if type(inner) is Collection:
                inner.__class__ = FastCollection
            tracked(inner)  # before any transaction begins on its store
        self._inner = inner
        self._database = database
        self._gate = database.client._gate

    @property
    def name(self) -> str:
        name: str = self._inner.name
        return name

    @property
    def full_name(self) -> str:
        name: str = self._inner.full_name
        return name

    @property
    def database(self) -> MemoryDatabase:
        return self._database

    def _store(self) -> TrackedStore | None:
        """The tracked store when the fast paths are on."""
        return tracked(self._inner) if self._fast else None

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._inner, name)
        if not callable(method):
            return method
        enroll = name not in self._SESSIONLESS

        async def call(*args: Any, session: MemorySession | None = None, **kwargs: Any) -> Any:
            kwargs = {k: v for k, v in kwargs.items() if v is not None}
            try:
                return await self._gate.run(
                    _unwrap(session, self._gate), method, *args, enroll=enroll, **kwargs
                )
            except (pymongo.errors.DuplicateKeyError, TransactionMisuse, TransactionWaitTimeout):
                raise  # refused before anything changed (mongomock-ng undoes its own attempt)
            except BaseException:
                store = self._store()
                if store is not None and name not in self._READS:
                    # A write that failed half-way may have changed a document in place
                    # without writing it back: the maps cannot know.
                    store.forget_maps()
                raise
            finally:
                store = self._store()
                if store is not None and name not in self._READS:
                    store.changed()

        call.__name__ = name
        return call

    def find(self, *args: Any, session: MemorySession | None = None, **kwargs: Any) -> MemoryCursor:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        fast = self._fast

        def read(modifiers: list[Modifier]) -> list[Document]:
            found = query.FindArgs.of(*args, **kwargs) if fast else None
            for name, margs, mkwargs in modifiers:
                found = found.modified(name, *margs, **mkwargs) if found else None
            if found is not None and found.simple:
                return query.find(self._inner, found)
            cursor = self._inner.find(*args, **kwargs)  # anything unusual: mongomock-ng itself
            for name, margs, mkwargs in modifiers:
                cursor = getattr(cursor, name)(*margs, **mkwargs)
            return list(cursor)

        return MemoryCursor(self, session, read)

    async def find_one(
        self, filter: Any = None, *args: Any, session: MemorySession | None = None, **kwargs: Any
    ) -> Document | None:
        if filter is not None and not isinstance(filter, Mapping):
            filter = {"_id": filter}
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        found = query.FindArgs.of(filter, *args, **kwargs) if self._fast else None
        if found is None or not found.simple:
            result: Document | None = await self._gate.run(
                _unwrap(session, self._gate), self._inner.find_one, filter, *args, **kwargs
            )
            return result
        found.limit = 1
        page = await self._gate.run(
            _unwrap(session, self._gate), query.find, self._inner, found, enroll=False
        )
        return page[0] if page else None

    async def count_documents(
        self, filter: Any, session: MemorySession | None = None, **kwargs: Any
    ) -> int:
        if kwargs or not isinstance(filter, Mapping) or not self._fast:
            result: int = await self._gate.run(
                _unwrap(session, self._gate),
                self._inner.count_documents,
                filter,
                enroll=False,
                **kwargs,
            )
            return result
        return await self._gate.run(
            _unwrap(session, self._gate), query.count, self._inner, filter, enroll=False
        )

    async def aggregate(
        self, pipeline: Iterable[Document], session: MemorySession | None = None, **kwargs: Any
    ) -> MemoryCursor:
        stages = list(pipeline)
        cursor = MemoryCursor(self, session, lambda _modifiers: list(self._inner.aggregate(stages)))
        await cursor._load()
        return cursor

    async def bulk_load(self, documents: list[Document]) -> None:
        """Insert many documents at once, for seeding large data sets (the benchmark's 10,000
        products). mongomock-ng checks unique indexes by scanning the collection on every
        insert, so `insert_many` of n documents costs O(n^2); this checks them in one pass of
        hashing and raises DuplicateKeyError (inserting nothing) on any clash."""
        await self._gate.acquire()
        try:
            query.bulk_load(self._inner, documents)
        finally:
            self._gate.release()
            store = self._store()
            if store is not None:
                store.changed()

    def with_options(self, **kwargs: Any) -> MemoryCollection:
        return MemoryCollection(self._inner.with_options(**kwargs), self._database)


def _unwrap(session: object, gate: Gate) -> MemorySession | None:
    """The session to run under: ours when it owns the gate, else none (wait for the gate)."""
    if session is None:
        return None
    if not isinstance(session, MemorySession):
        raise TypeError("the embedded engine takes sessions from its own client")
    return session if session is gate.owner else None


class MemoryDatabase:
    def __init__(self, inner: Any, client: MemoryClient) -> None:
        self._inner = inner
        self.client = client
        self._collections: dict[str, MemoryCollection] = {}

    @property
    def name(self) -> str:
        name: str = self._inner.name
        return name

    def get_collection(self, name: str, **kwargs: Any) -> MemoryCollection:
        if kwargs:
            return MemoryCollection(self._inner.get_collection(name, **kwargs), self)
        if name not in self._collections:
            self._collections[name] = MemoryCollection(self._inner.get_collection(name), self)
        return self._collections[name]

    def __getitem__(self, name: str) -> MemoryCollection:
        return self.get_collection(name)

    async def command(
        self, command: Any, *args: Any, session: MemorySession | None = None, **kwargs: Any
    ) -> Document:
        name = next(iter(command)) if isinstance(command, dict) else command
        if name in ("buildInfo", "buildinfo"):
            info: Document = self.client._inner.server_info()
            return info
        if name == "ping":
            return {"ok": 1.0}
        if name in ("hello", "isMaster", "ismaster"):
            return {"ok": 1.0, "isWritablePrimary": True, "setName": "embedded"}
        result: Document = await self.client._gate.run(
            None, self._inner.command, command, *args, **kwargs
        )
        return result

    async def list_collection_names(
        self, session: MemorySession | None = None, **kwargs: Any
    ) -> list[str]:
        # Beanie passes authorizedCollections/nameOnly, which mongomock-ng does not know.
        names: list[str] = self._inner.list_collection_names()
        return names

    async def create_collection(
        self, name: str, session: MemorySession | None = None, **kwargs: Any
    ) -> MemoryCollection:
        await self.client._gate.run(None, self._inner.create_collection, name, **kwargs)
        return self.get_collection(name)

    async def drop_collection(
        self, name: str, session: MemorySession | None = None, **kwargs: Any
    ) -> None:
        await self.client._gate.run(None, self._inner.drop_collection, name)


class _TransactionContext:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    async def __aenter__(self) -> MemorySession:
        return self._session

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._session.in_transaction:
            return
        if exc_type is None:
            await self._session.commit_transaction()
        else:
            await self._session.abort_transaction()


class MemorySession:
    """A client session whose transaction really commits or rolls back (one at a time)."""

    def __init__(self, client: MemoryClient) -> None:
        self._client = client
        self.inner = client._inner.start_session()

    @property
    def client(self) -> MemoryClient:
        return self._client

    @property
    def in_transaction(self) -> bool:
        return bool(self.inner.in_transaction)

    @property
    def has_ended(self) -> bool:
        return bool(self.inner.has_ended)

    async def start_transaction(self, *args: Any, **kwargs: Any) -> _TransactionContext:
        gate = self._client._gate
        if self.inner.in_transaction:
            raise InvalidOperation("Transaction already in progress")
        await gate.acquire()
        gate.owner, gate.owner_task = self, asyncio.current_task()
        self.inner.start_transaction()
        return _TransactionContext(self)

    def _end(self) -> None:
        gate = self._client._gate
        gate.owner = gate.owner_task = None
        gate.release()

    async def commit_transaction(self) -> None:
        try:
            self.inner.commit_transaction()
        finally:
            self._end()

    async def abort_transaction(self) -> None:
        try:
            self.inner.abort_transaction()
        finally:
            self._end()

    async def end_session(self) -> None:
        if self.inner.in_transaction:
            await self.abort_transaction()
        self.inner.end_session()

    async def __aenter__(self) -> MemorySession:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.end_session()


class MemoryClient:
    """Stands in for `pymongo.AsyncMongoClient` on the embedded engine.

    `fast_paths=False` turns every fast path off for this client's collections (see the
    module's docstring); answers are the same either way."""

    def __init__(self, *, fast_paths: bool = True, **kwargs: Any) -> None:
        kwargs.setdefault("tz_aware", True)
        self.fast_paths = fast_paths
        self._inner = mongomock_ng.MongoClient(**kwargs)
        self._gate = Gate()
        self._databases: dict[str, MemoryDatabase] = {}

    def append_metadata(self, metadata: object) -> None:
        """Beanie announces itself to the driver; nobody listens here."""

    def get_database(self, name: str, **kwargs: Any) -> MemoryDatabase:
        if name not in self._databases:
            self._databases[name] = MemoryDatabase(self._inner.get_database(name), self)
        return self._databases[name]

    def __getitem__(self, name: str) -> MemoryDatabase:
        return self.get_database(name)

    @property
    def admin(self) -> MemoryDatabase:
        return self.get_database("admin")

    def start_session(self, **kwargs: Any) -> MemorySession:
        return MemorySession(self)

    async def drop_database(self, name: str) -> None:
        await self._gate.run(None, self._inner.drop_database, name)
        self._databases.pop(name, None)

    async def close(self) -> None:
        self._inner.close()
