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
import copy
import heapq
import re
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock_ng
import pymongo.errors
from mongomock_ng import collection as mongomock_collection
from mongomock_ng import filtering, helpers
from mongomock_ng import store as mongomock_store
from sentinels import NOTHING

GATE_TIMEOUT_SECONDS = 30.0
# Query results remembered per collection until it changes (see _TrackedStore).
RESULTS_PER_COLLECTION = 64
FEW = 64  # matches worth filtering again rather than remembering


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
        if not self._lock.locked() and not self._lock._waiters:
            # Free with nobody queued: asyncio.Lock takes it at once, so no timer is armed
            # (one per database call, about ten times the cost of taking the lock).
            await self._lock.acquire()
            return
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


_FIND_OPTIONS = ("filter", "projection", "skip", "limit", "sort")
_NEAR = ("$near", "$nearSphere")
_ID_TYPES = (str, int, mongomock_ng.ObjectId, uuid.UUID)


class _FindArgs:
    """A find() call's filter, projection, sort, skip and limit, when those are all it has."""

    def __init__(self, filter=None, projection=None, skip=0, limit=0, sort=None) -> None:
        self.filter = {} if filter is None else filter
        self.projection = projection
        self.skip = skip or 0
        self.limit = limit or 0
        self.sort = helpers.create_index_list(sort) if sort else None

    @classmethod
    def of(cls, *args, **kwargs) -> _FindArgs | None:
        """None for anything else (cursor options, hints...): mongomock-ng runs those."""
        if len(args) > 2 or set(kwargs) - set(_FIND_OPTIONS[len(args) :]):
            return None
        return cls(*args, **kwargs)

    def modified(self, name: str, *args, **kwargs) -> _FindArgs:
        if name == "sort":
            self.sort = helpers.create_index_list(*args, **kwargs)
        elif name == "skip":
            self.skip = args[0]
        elif name == "limit":
            self.limit = args[0]
        return self

    @property
    def simple(self) -> bool:
        """Whether `_find` gives exactly mongomock-ng's answer (else mongomock-ng runs it)."""
        if not isinstance(self.filter, Mapping) or not isinstance(self.skip, int):
            return False
        if not isinstance(self.limit, int) or self.skip < 0:
            return False
        if self.projection is not None and not (
            isinstance(self.projection, (list, tuple))
            or (
                isinstance(self.projection, Mapping)
                and all(value in (0, 1) for value in self.projection.values())
            )
        ):
            return False  # projection operators and computed fields
        if self.sort and any(key.startswith("$") for key, _ in self.sort):
            return False  # $natural
        return not any(
            isinstance(value, Mapping) and any(op in value for op in _NEAR)
            for value in self.filter.values()
        )


class _TrackedStore(mongomock_store.CollectionStore):
    """A collection store that counts its changes, so query results can be remembered, and
    keeps what lets a query or a write look at the documents it concerns and no others.

    mongomock-ng changes documents only through `__setitem__` / `__delitem__` (updates write the
    document back), `drop()`, TTL expiry (through `__delitem__`) and a transaction's abort. A
    write that fails half-way may leave a document changed in place and not written back: the
    facade then forgets the maps below (they are rebuilt when next needed).

    Every structure here is kept up to date by each write at a cost that does not depend on
    the collection's size; only building one the first time (or after it was forgotten)
    reads every document.
    """

    changes = 0
    results: OrderedDict

    # Stored order: each key's place, in the order of `_documents` (an OrderedDict appends
    # new keys and keeps replaced ones in place), so documents found through a map come back
    # in the order a scan would give, without a scan.
    positions: dict
    next_position: int = 0

    # Equality maps, one per top-level field a query has asked about: value -> keys of the
    # documents holding it (as the field or in an array), and key -> those values (a document
    # may be changed in place before it is written back: its old values are found by key).
    # Only strings and ObjectIds are mapped (exact-type equality in MongoDB, hashable).
    fields: dict

    # TTL indexes: a heap of (moment, sequence, key), one entry per write of a document that
    # may expire; expiry pops what is due instead of testing every document on every access
    # (mongomock-ng's way). None when unknown: the next access scans, as mongomock-ng does.
    expiry: list | None = None
    expiry_sequence: int = 0

    def drop(self) -> None:
        super().drop()
        self.forget_maps()
        self.positions, self.next_position = {}, 0
        self.changed()

    # A transaction's snapshot, copy-on-write: each document's state before its first change
    # in the transaction (_ABSENT for one inserted by it), and the places of the documents it
    # deleted. mongomock-ng copies the whole collection instead, so a transaction that
    # touched one product of 10,000 copied 10,000. Documents reach an update only through
    # `_iter_documents` (see _FastCollection), which saves them first; inserts and deletes
    # come through `__setitem__` / `__delitem__`.
    saved: dict | None = None
    saved_positions: dict | None = None

    # Unique indexes as hash maps, kept up to date by every write (mongomock-ng checks a
    # unique index by scanning the whole collection on every insert and update): per index
    # name, entry -> ids and id -> entries. None until first needed; False when an entry
    # cannot be hashed (mongomock-ng's scan decides until the maps are forgotten).
    uniques: dict | bool | None = None

    def unique_maps(self) -> dict | None:
        if self.uniques is None:
            self.uniques = {
                name: ({}, {}) for name, index in self.indexes.items() if index.get("unique")
            }
            for key in self._documents:
                self._index(key)
        return self.uniques or None

    def _index(self, key) -> None:
        if not self.uniques:
            return
        try:
            for name, (owners, of) in self.uniques.items():
                entries = _unique_entries(self.indexes[name], self._documents[key])
                of[key] = entries
                for entry in entries:
                    owners.setdefault(entry, set()).add(key)
        except TypeError:
            self.uniques = False

    def _unindex(self, key) -> None:
        if not self.uniques:
            return
        for owners, of in self.uniques.values():
            for entry in of.pop(key, ()):
                holders = owners.get(entry)
                if holders is not None:
                    holders.discard(key)

    def forget_maps(self) -> None:
        """After a change the maps may have missed (a write that failed half-way)."""
        self.uniques = None
        self.fields = {}
        self.expiry = None

    def create_index(self, index_name, index_dict) -> None:
        super().create_index(index_name, index_dict)
        self.forget_maps()

    def drop_index(self, index_name) -> None:
        super().drop_index(index_name)
        self.forget_maps()

    # -- equality maps

    def keys_with(self, field: str, value) -> set:
        """Keys of the documents whose top-level `field` equals `value` (a string or an
        ObjectId) or is an array holding it."""
        found = self.fields.get(field)
        if found is None:
            found = self.fields[field] = ({}, {})
            for key, document in self._documents.items():
                self._map_field(found, field, key, document)
        return found[0].get(value, _NO_KEYS)

    @staticmethod
    def _map_field(maps, field: str, key, document: dict) -> None:
        value = document.get(field)
        if isinstance(value, _MAPPED):
            values = (value,)
        elif isinstance(value, list):
            values = tuple({item for item in value if isinstance(item, _MAPPED)})
        else:
            return
        owners, of = maps
        of[key] = values
        for item in values:
            owners.setdefault(item, set()).add(key)

    def _map(self, key) -> None:
        document = self._documents[key]
        for field, maps in self.fields.items():
            self._map_field(maps, field, key, document)

    def _unmap(self, key) -> None:
        for owners, of in self.fields.values():
            for value in of.pop(key, ()):
                holders = owners.get(value)
                if holders is not None:
                    holders.discard(key)
                    if not holders:
                        del owners[value]

    def in_stored_order(self, keys) -> list[dict]:
        documents, positions = self._documents, self.positions
        present = [key for key in keys if key in documents]
        present.sort(key=positions.__getitem__)
        return [documents[key] for key in present]

    # -- TTL expiry

    def _expiring(self):
        """(field, seconds) of each TTL index mongomock-ng applies."""
        for index in self._ttl_indexes.values():
            try:
                seconds = int(index["expireAfterSeconds"])
            except ValueError:
                continue
            if len(index["key"]) == 1:
                yield next(iter(index["key"]))[0], seconds

    def _schedule(self, key) -> None:
        if self.expiry is None or not self._ttl_indexes:
            return
        document = self._documents[key]
        for field, seconds in self._expiring():
            moment = mongomock_store._get_min_datetime_from_value(
                helpers.get_value_by_dot(document, field)
            )
            if not isinstance(moment, datetime) or moment == datetime.max:
                continue
            try:
                due = _naive_utc(moment) + timedelta(seconds=seconds)
            except OverflowError:
                continue
            self.expiry_sequence += 1
            heapq.heappush(self.expiry, (due, self.expiry_sequence, key))

    def _remove_expired_documents(self) -> None:
        if not self._ttl_indexes:
            return
        if self.expiry is None:
            super()._remove_expired_documents()
            self.expiry = []
            for key in list(self._documents):
                self._schedule(key)
            return
        now = mongomock_ng.utcnow()
        naive_now = _naive_utc(now)
        heap = self.expiry
        while heap and heap[0][0] <= naive_now:
            _, _, key = heapq.heappop(heap)
            document = self._documents.get(key)
            if document is None:
                continue
            # mongomock-ng's own test decides; an entry whose document changed since is
            # stale (the change scheduled the document again).
            if any(
                self._value_meets_expiry(helpers.get_value_by_dot(document, field), seconds, now)
                for field, seconds in self._expiring()
            ):
                del self[key]
        if len(heap) > 2 * len(self._documents) + 64:  # stale entries: start afresh
            self.expiry = []
            for key in list(self._documents):
                self._schedule(key)

    # -- writes

    def save(self, key) -> None:
        if self.saved is not None and key not in self.saved:
            document = self._documents.get(key, _ABSENT)
            self.saved[key] = document if document is _ABSENT else _copy(document, False)

    def __setitem__(self, key, value) -> None:
        self.save(key)
        # The stored document may have been changed in place already: its old entries are
        # found by key in the maps (see _FastCollection._ensure_uniques), not recomputed.
        self._unindex(key)
        self._unmap(key)
        super().__setitem__(key, value)
        if key not in self.positions:
            self.positions[key] = self.next_position
            self.next_position += 1
        self._index(key)
        self._map(key)
        self._schedule(key)
        self.changed()

    def __delitem__(self, key) -> None:
        self.save(key)
        if self.saved is not None and key in self.positions:
            self.saved_positions.setdefault(key, self.positions[key])
        self._unindex(key)
        self._unmap(key)
        super().__delitem__(key)
        self.positions.pop(key, None)
        self.changed()

    def begin_transaction(self) -> None:
        self.saved, self.saved_positions = {}, {}
        # Shallow copies: mongomock-ng never changes an index's description in place (it
        # adds, deletes or rebinds whole entries), and deep-copying them cost more than the
        # rest of beginning a transaction (once per collection a transaction touches).
        self._saved_indexes = dict(self.indexes)
        self._saved_ttl_indexes = dict(self._ttl_indexes)

    def commit_transaction(self) -> None:
        self.saved = self.saved_positions = None
        self._saved_indexes = self._saved_ttl_indexes = None

    def abort_transaction(self) -> None:
        if self.saved is None:
            super().abort_transaction()  # begun before this store was tracked: its snapshot
            self.forget_maps()
            self.positions = {key: place for place, key in enumerate(self._documents)}
            self.next_position = len(self.positions)
            self.changed()
            return
        documents = self._documents
        # What the transaction changed goes back, and only that is re-indexed.
        for key, document in self.saved.items():
            self._unindex(key)
            self._unmap(key)
            if document is _ABSENT:
                documents.pop(key, None)
                self.positions.pop(key, None)
            else:
                documents[key] = document
        returned = {
            key: place
            for key, place in self.saved_positions.items()
            if self.saved[key] is not _ABSENT
        }
        if returned:
            # Deleted documents go back in their places (a rare abort: a pass over all).
            self.positions.update(returned)
            self._documents = OrderedDict(
                sorted(documents.items(), key=lambda item: self.positions[item[0]])
            )
        indexes_changed = (self.indexes, self._ttl_indexes) != (
            self._saved_indexes,
            self._saved_ttl_indexes,
        )
        self.indexes = self._saved_indexes
        self._ttl_indexes = self._saved_ttl_indexes
        restored = [key for key, document in self.saved.items() if document is not _ABSENT]
        self.commit_transaction()
        if indexes_changed:
            self.forget_maps()
        for key in restored:
            self._index(key)
            self._map(key)
            self._schedule(key)
        self.changed()

    def changed(self) -> None:
        self.changes += 1
        self.results.clear()

    def remembered(self, key, compute):
        """`compute()`, or what it returned last time for `key` if nothing changed since."""
        if key is None:
            return compute()
        try:
            self.results.move_to_end(key)
            return self.results[key]
        except KeyError:
            value = self.results[key] = compute()
            if len(self.results) > RESULTS_PER_COLLECTION:
                self.results.popitem(last=False)
            return value


_ABSENT = object()
_NO_KEYS: frozenset = frozenset()
_MAPPED = (str, mongomock_ng.ObjectId)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _pinned_ids(filter) -> list | None:
    """The `_id` a filter pins (`{"_id": x, ...}`, `{"_id": {"$eq": x}, ...}`) as a list, or
    None when it pins none (or one that cannot be a dict key)."""
    if not isinstance(filter, Mapping) or "_id" not in filter:
        return None
    wanted = filter["_id"]
    if isinstance(wanted, Mapping):
        if set(wanted) != {"$eq"}:
            return None
        wanted = wanted["$eq"]
    if isinstance(wanted, list):
        return None  # equality with an array matches array _ids: mongomock-ng decides
    try:
        hash(wanted)
    except TypeError:
        return None
    return [wanted]


def _wanted_values(condition) -> list | None:
    """The values a top-level condition requires one of, when they can be looked up in an
    equality map: `"x"`, `{"$eq": "x"}`, `{"$in": ["x", "y"]}` (strings and ObjectIds)."""
    if isinstance(condition, _MAPPED):
        return [condition]
    if isinstance(condition, Mapping) and len(condition) == 1:
        if "$eq" in condition and isinstance(condition["$eq"], _MAPPED):
            return [condition["$eq"]]
        wanted = condition.get("$in")
        if isinstance(wanted, list) and all(isinstance(v, _MAPPED) for v in wanted):
            return wanted
    return None


def _candidate_keys(store: _TrackedStore, filter) -> set | None:
    """Keys of a superset of the documents `filter` matches, from the maps (an `_id`, an
    equality or `$in` on a string or ObjectId field, a `$or` whose every branch has such a
    condition); None when the maps cannot narrow it (then every document is a candidate)."""
    if not isinstance(filter, Mapping):
        return None
    best = None
    for name, condition in filter.items():
        if name == "_id":
            ids = _pinned_ids(filter)
            if ids is None and isinstance(condition, Mapping) and list(condition) == ["$in"]:
                if isinstance(condition["$in"], list) and all(map(_is_id, condition["$in"])):
                    ids = condition["$in"]
            keys = None if ids is None else {i for i in ids if i in store._documents}
        elif name == "$or" and isinstance(condition, list) and condition:
            keys = set()
            for branch in condition:
                found = _candidate_keys(store, branch)
                if found is None:
                    keys = None
                    break
                keys |= found
        elif name.startswith("$") or "." in name:
            continue
        else:
            values = _wanted_values(condition)
            if values is None:
                continue
            keys = set()
            for value in values:
                keys |= store.keys_with(name, value)
        if keys is not None and (best is None or len(keys) < len(best)):
            best = keys
    return best


def _narrowed(store: _TrackedStore, filter) -> set | None:
    """`_candidate_keys`, or None when they are hardly fewer than all the documents."""
    keys = _candidate_keys(store, filter)
    if keys is None or len(keys) > len(store._documents) // 2 > FEW:
        return None
    return keys


class _FastCollection(mongomock_collection.Collection):
    """mongomock-ng's collection, with the documents a write or read considers found through
    the store's maps when the filter allows it (mongomock-ng evaluates the filter on every
    document), and saved for the running transaction's rollback before anything changes
    them."""

    def _iter_documents(self, filter):
        store = self._store
        if not isinstance(store, _TrackedStore) or store.is_empty:  # is_empty expires TTLs
            found = super()._iter_documents(filter)
        else:
            keys = _narrowed(store, filter)
            if keys is None:
                found = super()._iter_documents(filter)
            else:
                candidates = store.in_stored_order(keys)
                found = (d for d in candidates if filtering.filter_applies(filter, d))
        if getattr(store, "saved", None) is None:
            return found
        return (_saved_first(store, document) for document in found)

    def find_one(self, filter=None, *args, **kwargs):
        """mongomock-ng's find_one, which its find_one_and_update and find_one_and_delete call
        twice (the document before, then the one returned), through `_find` when the query is
        simple: the stored document is looked at in place and only the answer is copied, by
        `_copy` (mongomock-ng's find copies, projects, then makes datetimes aware, each a walk
        over the whole document)."""
        if filter is None:
            filter = {}
        if not isinstance(filter, Mapping):
            filter = {"_id": filter}
        query = _FindArgs.of(filter, *args, **kwargs)
        if query is None or not query.simple or not isinstance(self._store, _TrackedStore):
            return super().find_one(filter, *args, **kwargs)
        query.limit = 1
        found = _find(self, query)
        return found[0] if found else None

    def _ensure_uniques(self, new_data):
        store = self._store
        maps = store.unique_maps() if isinstance(store, _TrackedStore) else None
        if maps is None:
            return super()._ensure_uniques(new_data)
        own = new_data.get("_id")
        for name, (owners, _) in maps.items():
            index = store.indexes[name]
            entries = self._compute_index_entries(new_data, index.get("key"), index.get("sparse"))
            try:
                # Expiry (TTL) removes documents behind the maps' back: only live owners count.
                clash = any(
                    holder != own and holder in store._documents
                    for entry in entries or ()
                    for holder in owners.get(entry, ())
                )
            except TypeError:
                return super()._ensure_uniques(new_data)
            if clash:
                unique = index.get("key")
                raise pymongo.errors.DuplicateKeyError(
                    "E11000 Duplicate Key Error",
                    11000,
                    {
                        "keyPattern": dict(unique),
                        "keyValue": {k: helpers.get_value_by_dot(new_data, k) for k, _ in unique},
                    },
                )
        return None


def _unique_entries(index: dict, document: dict) -> list:
    """A document's entries in a unique index, as mongomock-ng computes them ([] when the
    index leaves it out: sparse and missing, or outside a partial filter)."""
    partial = index.get("partialFilterExpression")
    if partial is not None and not filtering.filter_applies(partial, document):
        return []
    entries = mongomock_collection.Collection._compute_index_entries(
        document, index.get("key"), index.get("sparse")
    )
    for entry in entries or ():
        hash(entry)  # TypeError for an unhashable one: the caller gives up on maps
    return entries or []


def _saved_first(store, document: dict) -> dict:
    store.save(document["_id"])
    return document


def _tracked(inner) -> _TrackedStore:
    store = inner._store
    if type(store) is not _TrackedStore:
        store.__class__ = _TrackedStore
        store.results = OrderedDict()
        store.fields = {}
        store.positions = {key: place for place, key in enumerate(store._documents)}
        store.next_position = len(store.positions)
    return store


class _Unhashable(Exception):
    pass


_SCALARS = (bool, int, float, str, type(None), datetime, mongomock_ng.ObjectId, uuid.UUID, bytes)


def _frozen(value):
    """A hashable stand-in for a filter or sort that tells apart what MongoDB tells apart
    (`1`, `1.0` and `True` differ here); raises _Unhashable for anything unfamiliar."""
    if isinstance(value, Mapping):
        return ("{", tuple((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, (list, tuple)):
        return ("[", tuple(_frozen(item) for item in value))
    if isinstance(value, re.Pattern):
        return ("re", value.pattern, value.flags)
    for kind in _SCALARS:  # bool before int: True and 1 are different filters
        if isinstance(value, kind):
            return (kind.__name__, value)
    raise _Unhashable


def _key(*parts):
    try:
        return _frozen(parts)
    except _Unhashable:
        return None


def _is_id(value) -> bool:
    return isinstance(value, _ID_TYPES) and not isinstance(value, bool)


def _matching(inner, spec: dict) -> list[dict]:
    """The stored documents (not copies) that match `spec`: those the store's maps name (an
    `_id`, a batch of them, string or ObjectId equalities...) when they can, else a scan;
    remembered until the collection changes."""
    store = _tracked(inner)
    if store.is_empty:  # also expires TTL documents (a change: it forgets remembered results)
        # mongomock-ng validates the filter against an empty document (unknown operators,
        # $text...) even when there is nothing to match: so do we.
        filtering.filter_applies(spec, {})
        return []
    keys = _narrowed(store, spec)

    def scan() -> list[dict]:
        pool = store.documents if keys is None else store.in_stored_order(keys)
        return [document for document in pool if filtering.filter_applies(spec, document)]

    if keys is not None and len(keys) <= FEW:
        return scan()
    return store.remembered(_key("match", spec), scan)


def _sorted(inner, spec: dict, sort: list[tuple[str, int]]) -> list[dict]:
    """The matches of `spec` in `sort` order (remembered until the collection changes)."""

    def order() -> list[dict]:
        documents = _matching(inner, spec)
        # Stable sorts, last key first, as mongomock-ng sorts (and in its BSON order).
        for name, direction in reversed(sort):
            keys = _sort_keys(name, documents)
            order = sorted(range(len(documents)), key=keys.__getitem__, reverse=direction < 0)
            documents = [documents[i] for i in order]
        return documents

    return _tracked(inner).remembered(_key("sort", spec, sort), order)


# Types whose values Python orders as BSON does, when all of a sort key's values are of one.
_NATIVE_ORDER = (str, (int, float), datetime, mongomock_ng.ObjectId)


def _sort_keys(name: str, documents: list[dict]) -> list:
    """Sort keys for one field: the values themselves when they are all of one BSON type that
    Python orders the same way (much faster), else mongomock-ng's BSON-comparable keys."""
    if "." in name:
        values = [filtering.resolve_key(name, document) for document in documents]
    else:
        values = [document.get(name, NOTHING) for document in documents]
    types = {type(value) for value in values}
    if _natively_ordered(types) and not (float in types and any(v != v for v in values)):
        return values
    return [filtering.resolve_sort_key(name, document) for document in documents]


def _natively_ordered(types: set[type]) -> bool:
    if bool in types:
        return types == {bool}
    return any(all(issubclass(kind, family) for kind in types) for family in _NATIVE_ORDER)


def _find(inner, query: _FindArgs) -> list[dict]:
    """mongomock-ng's find(), except that only the documents returned are copied.

    mongomock-ng copies (and projects, and makes time-zone aware) every matching document,
    then applies skip and limit: a page of 20 from 10,000 products copied 10,000. Here the
    stored documents are filtered and sorted in place, the page is cut, and only its
    documents are copied, by mongomock-ng's own projection code.
    """
    spec = helpers.patch_datetime_awareness_in_document(query.filter)
    if query.sort:
        documents = _sorted(inner, spec, query.sort)
    else:
        documents = _matching(inner, spec)
    documents = documents[query.skip :]
    if query.limit:
        documents = documents[: abs(query.limit)]
    options = inner.codec_options
    tz_aware = options.tz_aware
    fields = _top_level_fields(query.projection)
    results = []
    for document in documents:
        if fields is not None:
            include, names = fields
            if include:
                copied = _copy({k: v for k, v in document.items() if k in names}, tz_aware)
            else:
                copied = _copy({k: v for k, v in document.items() if k not in names}, tz_aware)
        else:  # dotted paths: mongomock-ng's own projection
            projection = query.projection
            projection = dict(projection) if isinstance(projection, Mapping) else list(projection)
            copied = inner._copy_only_fields(document, projection, dict, filter=spec)
            if options.tz_aware:
                copied = helpers.make_datetime_timezone_aware_in_document(copied)
        results.append(mongomock_collection._cast_document_class(copied, options.document_class))
    return results


def _top_level_fields(projection) -> tuple[bool, set[str]] | None:
    """(include?, names) for a projection of top-level fields only (or none), else None."""
    if not projection:
        return False, set()
    if not isinstance(projection, Mapping):
        projection = dict.fromkeys(projection, 1)
    if any("." in name or name.startswith("$") for name in projection):
        return None
    names = {name for name in projection if name != "_id"}
    if not names:  # {"_id": 1}: the id alone; {"_id": 0}: everything else
        return bool(projection["_id"]), {"_id"}
    include = bool(projection[next(iter(names))])
    if any(bool(projection[name]) != include for name in names):
        return None  # mixed: let mongomock-ng raise its error
    with_id = bool(projection.get("_id", 1))
    if include and with_id:
        names.add("_id")
    elif not include and not with_id:
        names.add("_id")
    return include, names


_IMMUTABLE = (str, int, float, bool, type(None), bytes, mongomock_ng.ObjectId, uuid.UUID)


# The exact types of _IMMUTABLE: a set lookup decides most values without a call.
_LEAVES = frozenset(_IMMUTABLE)


def _copy(value, tz_aware: bool):
    """A deep copy of a stored value, as `make_datetime_timezone_aware_in_document` shapes it:
    datetimes in UTC when the client is tz-aware, tuples as lists."""
    kind = type(value)
    if kind is dict:  # plain containers first, their plain values kept without a call
        return {k: v if type(v) in _LEAVES else _copy(v, tz_aware) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _LEAVES else _copy(v, tz_aware) for v in value]
    if kind in _LEAVES:
        return value
    if isinstance(value, dict):
        return {k: _copy(v, tz_aware) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_copy(v, tz_aware) for v in value]
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if tz_aware else value
    if isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)


def _count(inner, filter: Mapping) -> int:
    return len(_matching(inner, helpers.patch_datetime_awareness_in_document(filter)))


def _bulk_load(inner, documents: list[dict]) -> None:
    store = _tracked(inner)
    prepared = []
    for document in documents:
        document = helpers.patch_datetime_awareness_in_document(dict(document))
        document.setdefault("_id", mongomock_ng.ObjectId())
        prepared.append(document)
    ids = [document["_id"] for document in prepared]
    if len(set(ids)) != len(ids) or any(i in store for i in ids):
        raise pymongo.errors.DuplicateKeyError("E11000 duplicate key error (_id)", 11000)
    for index in store.indexes.values():
        if not index.get("unique") or index.get("partialFilterExpression"):
            continue
        seen: set = set()
        for document in [*store.documents, *prepared]:
            entries = inner._compute_index_entries(document, index["key"], index.get("sparse"))
            for key in {_key(entry) for entry in entries or ()}:
                if key is None or key in seen:
                    raise pymongo.errors.DuplicateKeyError(
                        f"E11000 duplicate key error ({index['key']})", 11000
                    )
                seen.add(key)
    for document in prepared:
        store[document["_id"]] = document


# mongomock-ng's two walks over every document a write takes in (the datetimes made naive
# and cut to milliseconds; the snapshot an update is compared with and restored from), with
# a set lookup deciding plain values without a call each. Anything else, subclasses
# included, goes to mongomock-ng's own function: the answers are the same.
_PLAIN = frozenset({str, int, float, bool, type(None), bytes, mongomock_ng.ObjectId})
_patch_datetimes = helpers.patch_datetime_awareness_in_document
_clone = helpers._clone_document


def _patched_datetimes(value):
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {k: v if type(v) in _PLAIN else _patched_datetimes(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else _patched_datetimes(v) for v in value]
    return _patch_datetimes(value)


_CLONE_PLAIN = _PLAIN | {datetime}


def _cloned(document):
    kind = type(document)
    if kind in _CLONE_PLAIN:
        return document
    if kind is dict:
        return {k: v if type(v) in _CLONE_PLAIN else _cloned(v) for k, v in document.items()}
    if kind is list:
        return [v if type(v) in _CLONE_PLAIN else _cloned(v) for v in document]
    return _clone(document)


helpers.patch_datetime_awareness_in_document = _patched_datetimes
mongomock_collection._clone_document = _cloned  # imported there by name


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
        return self._make_cursor(self._modifiers)

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
    _READS = {"estimated_document_count", "distinct", "index_information", "list_indexes"}

    def __init__(self, inner, database: MemoryDatabase) -> None:
        if type(inner) is mongomock_collection.Collection:
            inner.__class__ = _FastCollection
        _tracked(inner)  # before any transaction begins on its store
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
            try:
                return await self._gate.run(
                    _unwrap(session, self._gate), method, *args, enroll=enroll, **kwargs
                )
            except (pymongo.errors.DuplicateKeyError, TransactionMisuse):
                raise  # refused before anything changed (mongomock-ng undoes its own attempt)
            except BaseException:
                if name not in self._READS:
                    # A write that failed half-way may have changed a document in place
                    # without writing it back: the maps cannot know.
                    _tracked(self._inner).forget_maps()
                raise
            finally:
                if name not in self._READS:
                    _tracked(self._inner).changed()

        call.__name__ = name
        return call

    def find(self, *args, session=None, **kwargs) -> MemoryCursor:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}

        def read(modifiers) -> list[dict]:
            query = _FindArgs.of(*args, **kwargs)
            for name, margs, mkwargs in modifiers:
                query = query.modified(name, *margs, **mkwargs) if query else None
            if query is not None and query.simple:
                return _find(self._inner, query)
            cursor = self._inner.find(*args, **kwargs)  # anything unusual: mongomock-ng itself
            for name, margs, mkwargs in modifiers:
                cursor = getattr(cursor, name)(*margs, **mkwargs)
            return list(cursor)

        return MemoryCursor(self, session, read)

    async def find_one(self, filter=None, *args, session=None, **kwargs) -> dict | None:
        if filter is not None and not isinstance(filter, Mapping):
            filter = {"_id": filter}
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        query = _FindArgs.of(filter, *args, **kwargs)
        if query is None or not query.simple:
            return await self._gate.run(
                _unwrap(session, self._gate), self._inner.find_one, filter, *args, **kwargs
            )
        query.limit = 1
        found = await self._gate.run(
            _unwrap(session, self._gate), _find, self._inner, query, enroll=False
        )
        return found[0] if found else None

    async def count_documents(self, filter, session=None, **kwargs) -> int:
        if kwargs or not isinstance(filter, Mapping):
            return await self._gate.run(
                _unwrap(session, self._gate),
                self._inner.count_documents,
                filter,
                enroll=False,
                **kwargs,
            )
        return await self._gate.run(
            _unwrap(session, self._gate), _count, self._inner, filter, enroll=False
        )

    async def aggregate(self, pipeline: Iterable[dict], session=None, **kwargs) -> MemoryCursor:
        pipeline = list(pipeline)
        cursor = MemoryCursor(
            self, session, lambda _modifiers: list(self._inner.aggregate(pipeline))
        )
        await cursor._load()
        return cursor

    async def bulk_load(self, documents: list[dict]) -> None:
        """Insert many documents at once, for seeding large data sets (the benchmark's 10,000
        products). mongomock-ng checks unique indexes by scanning the collection on every
        insert, so `insert_many` of n documents costs O(n^2); this checks them in one pass of
        hashing and raises DuplicateKeyError (inserting nothing) on any clash."""
        await self._gate.acquire()
        try:
            _bulk_load(self._inner, documents)
        finally:
            self._gate.release()
            _tracked(self._inner).changed()

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
