"""The embedded engine: an async facade over mongomock-ng that Beanie accepts.

It mirrors the slice of PyMongo's async API that Beanie and our services use, so the same code
runs on it and on a real replica set.

Transaction semantics (see tests/core/test_memory.py):
- mongomock-ng keeps one snapshot per collection, not per session, so two interleaved
  transactions could wipe each other's writes. The facade therefore serialises them: a single
  gate is held from `start_transaction()` until commit or abort.
- Operations outside the running transaction (no session, or a session that is not in it)
  wait for the gate, so they never see uncommitted writes and cannot be rolled back by
  somebody else's abort. Inside a transaction every operation must pass `session=`: doing
  otherwise from the task that holds the gate would wait on itself forever, so the facade
  raises `TransactionMisuse` instead. A real server needs `session=` there for correctness too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import mongomock_ng

GATE_TIMEOUT_SECONDS = 30.0


class TransactionMisuse(RuntimeError):
    """An operation inside a transaction forgot `session=`."""


class _Gate:
    """One transaction at a time; everyone else waits until it ends."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.owner: MemorySession | None = None
        self.owner_task: asyncio.Task | None = None

    def _check_not_owner(self) -> None:
        if self.owner is not None and self.owner_task is asyncio.current_task():
            raise TransactionMisuse(
                "operation without the transaction's session= inside a transaction: "
                "pass session= to every operation in the transaction"
            )

    async def acquire(self) -> None:
        self._check_not_owner()
        try:
            async with asyncio.timeout(GATE_TIMEOUT_SECONDS):
                await self._lock.acquire()
        except TimeoutError:
            raise TransactionMisuse(
                "waited too long for a transaction to end on the embedded engine"
            ) from None

    def release(self) -> None:
        self._lock.release()

    async def run(self, session: MemorySession | None, fn, *args, enroll=True, **kwargs):
        """Run a synchronous mongomock call, outside or inside the running transaction.

        `enroll=False` is for calls that only read and refuse a session on mongomock-ng.
        """
        if session is not None and session is self.owner:
            return fn(*args, session=session.inner, **kwargs) if enroll else fn(*args, **kwargs)
        await self.acquire()
        try:
            return fn(*args, **kwargs)
        finally:
            self.release()


class MemoryCursor:
    """An async cursor over a mongomock cursor; results are read under the gate on first use."""

    def __init__(self, collection: MemoryCollection, session, make_cursor) -> None:
        self._collection = collection
        self._session = session
        self._make_cursor = make_cursor
        self._modifiers: list[tuple[str, tuple, dict]] = []
        self._items: list[dict] | None = None
        self._index = 0

    def _modify(self, name: str, *args, **kwargs) -> MemoryCursor:
        if self._items is not None:
            raise mongomock_ng.InvalidOperation("cannot change a cursor after reading from it")
        self._modifiers.append((name, args, kwargs))
        return self

    def sort(self, *args, **kwargs) -> MemoryCursor:
        return self._modify("sort", *args, **kwargs)

    def skip(self, *args, **kwargs) -> MemoryCursor:
        return self._modify("skip", *args, **kwargs)

    def limit(self, *args, **kwargs) -> MemoryCursor:
        return self._modify("limit", *args, **kwargs)

    def _read(self) -> list[dict]:
        cursor = self._make_cursor()
        for name, args, kwargs in self._modifiers:
            cursor = getattr(cursor, name)(*args, **kwargs)
        return list(cursor)

    async def _load(self) -> list[dict]:
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

    async def __anext__(self) -> dict:
        items = await self._load()
        if self._index >= len(items):
            raise StopAsyncIteration
        self._index += 1
        return items[self._index - 1]

    async def next(self) -> dict:
        return await self.__anext__()

    async def to_list(self, length: int | None = None) -> list[dict]:
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
    _SESSIONLESS = {"count_documents", "estimated_document_count"}

    def __init__(self, inner, database: MemoryDatabase) -> None:
        self._inner = inner
        self._database = database
        self._gate = database.client._gate

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def full_name(self) -> str:
        return self._inner.full_name

    @property
    def database(self) -> MemoryDatabase:
        return self._database

    def __getattr__(self, name: str):
        method = getattr(self._inner, name)
        if not callable(method):
            return method
        enroll = name not in self._SESSIONLESS

        async def call(*args, session=None, **kwargs):
            kwargs = {k: v for k, v in kwargs.items() if v is not None}
            return await self._gate.run(
                _unwrap(session, self._gate), method, *args, enroll=enroll, **kwargs
            )

        call.__name__ = name
        return call

    def find(self, *args, session=None, **kwargs) -> MemoryCursor:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        return MemoryCursor(self, session, lambda: self._inner.find(*args, **kwargs))

    async def aggregate(self, pipeline: Iterable[dict], session=None, **kwargs) -> MemoryCursor:
        pipeline = list(pipeline)
        cursor = MemoryCursor(self, session, lambda: self._inner.aggregate(pipeline))
        await cursor._load()
        return cursor

    def with_options(self, **kwargs) -> MemoryCollection:
        return MemoryCollection(self._inner.with_options(**kwargs), self._database)


def _unwrap(session, gate: _Gate):
    """The session to run under: ours when it owns the gate, else none (wait for the gate)."""
    if session is None:
        return None
    if not isinstance(session, MemorySession):
        raise TypeError("the embedded engine takes sessions from its own client")
    return session if session is gate.owner else None


class MemoryDatabase:
    def __init__(self, inner, client: MemoryClient) -> None:
        self._inner = inner
        self.client = client
        self._collections: dict[str, MemoryCollection] = {}

    @property
    def name(self) -> str:
        return self._inner.name

    def get_collection(self, name: str, **kwargs) -> MemoryCollection:
        if kwargs:
            return MemoryCollection(self._inner.get_collection(name, **kwargs), self)
        if name not in self._collections:
            self._collections[name] = MemoryCollection(self._inner.get_collection(name), self)
        return self._collections[name]

    def __getitem__(self, name: str) -> MemoryCollection:
        return self.get_collection(name)

    async def command(self, command, *args, session=None, **kwargs) -> dict:
        name = next(iter(command)) if isinstance(command, dict) else command
        if name in ("buildInfo", "buildinfo"):
            return self.client._inner.server_info()
        if name == "ping":
            return {"ok": 1.0}
        if name in ("hello", "isMaster", "ismaster"):
            return {"ok": 1.0, "isWritablePrimary": True, "setName": "embedded"}
        return await self.client._gate.run(None, self._inner.command, command, *args, **kwargs)

    async def list_collection_names(self, session=None, **kwargs) -> list[str]:
        # Beanie passes authorizedCollections/nameOnly, which mongomock-ng does not know.
        return self._inner.list_collection_names()

    async def create_collection(self, name: str, session=None, **kwargs) -> MemoryCollection:
        await self.client._gate.run(None, self._inner.create_collection, name, **kwargs)
        return self.get_collection(name)

    async def drop_collection(self, name: str, session=None, **kwargs) -> None:
        await self.client._gate.run(None, self._inner.drop_collection, name)


class _TransactionContext:
    def __init__(self, session: MemorySession) -> None:
        self._session = session

    async def __aenter__(self) -> MemorySession:
        return self._session

    async def __aexit__(self, exc_type, exc, tb) -> None:
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
        return self.inner.in_transaction

    @property
    def has_ended(self) -> bool:
        return self.inner.has_ended

    async def start_transaction(self, *args, **kwargs) -> _TransactionContext:
        gate = self._client._gate
        if self.inner.in_transaction:
            raise mongomock_ng.InvalidOperation("Transaction already in progress")
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

    async def __aexit__(self, exc_type, exc, tb) -> None:
        await self.end_session()


class MemoryClient:
    """Stands in for `pymongo.AsyncMongoClient` on the embedded engine."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("tz_aware", True)
        self._inner = mongomock_ng.MongoClient(**kwargs)
        self._gate = _Gate()
        self._databases: dict[str, MemoryDatabase] = {}

    def append_metadata(self, metadata: Any) -> None:
        """Beanie announces itself to the driver; nobody listens here."""

    def get_database(self, name: str, **kwargs) -> MemoryDatabase:
        if name not in self._databases:
            self._databases[name] = MemoryDatabase(self._inner.get_database(name), self)
        return self._databases[name]

    def __getitem__(self, name: str) -> MemoryDatabase:
        return self.get_database(name)

    @property
    def admin(self) -> MemoryDatabase:
        return self.get_database("admin")

    def start_session(self, **kwargs) -> MemorySession:
        return MemorySession(self)

    async def drop_database(self, name: str) -> None:
        await self._gate.run(None, self._inner.drop_database, name)
        self._databases.pop(name, None)

    async def close(self) -> None:
        self._inner.close()
