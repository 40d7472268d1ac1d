"""A collection's store as the fast paths keep it (mongomock-ng's CollectionStore, extended).

Every structure here is kept up to date by each write at a cost that does not depend on the
collection's size; only building one the first time (or after it was forgotten) reads every
document. A store becomes a TrackedStore (its class reassigned in place: mongomock-ng creates
it) when the facade first wraps its collection with the fast paths on (see `tracked`).
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final, TypeVar

from app.core.memory import walks
from app.core.memory.mongomock_edge import (
    Collection,
    CollectionStore,
    Document,
    ObjectId,
    filtering,
    helpers,
    mongomock_ng,
    mongomock_store,
)

# Query results remembered per collection until it changes.
RESULTS_PER_COLLECTION = 64

T = TypeVar("T")
Key = Hashable  # a document's _id as a dict key
# Per field (or unique index): value (or entry) -> keys of the documents holding it, and
# key -> those values.
Maps = tuple[dict[Hashable, set[Key]], dict[Key, tuple[Hashable, ...] | list[Hashable]]]


class _Absent:
    """The state saved for a document a transaction inserted: there was none."""


ABSENT: Final = _Absent()
NO_KEYS: Final[frozenset[Key]] = frozenset()
MAPPED: Final = (str, ObjectId)  # the types the equality maps hold (exact-type, hashable)


def naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


class TrackedStore(CollectionStore):
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
    results: OrderedDict[Hashable, Any]

    # Stored order: each key's place, in the order of `_documents` (an OrderedDict appends
    # new keys and keeps replaced ones in place), so documents found through a map come back
    # in the order a scan would give, without a scan.
    positions: dict[Key, int]
    next_position: int = 0

    # Equality maps, one per top-level field a query has asked about: value -> keys of the
    # documents holding it (as the field or in an array), and key -> those values (a document
    # may be changed in place before it is written back: its old values are found by key).
    # Only strings and ObjectIds are mapped (exact-type equality in MongoDB, hashable).
    fields: dict[str, Maps]

    # TTL indexes: a heap of (moment, sequence, key), one entry per write of a document that
    # may expire; expiry pops what is due instead of testing every document on every access
    # (mongomock-ng's way). None when unknown: the next access scans, as mongomock-ng does.
    expiry: list[tuple[datetime, int, Key]] | None = None
    expiry_sequence: int = 0

    def drop(self) -> None:
        super().drop()
        self.forget_maps()
        self.positions, self.next_position = {}, 0
        self.changed()

    # A transaction's snapshot, copy-on-write: each document's state before its first change
    # in the transaction (ABSENT for one inserted by it), and the places of the documents it
    # deleted. mongomock-ng copies the whole collection instead, so a transaction that
    # touched one product of 10,000 copied 10,000. Documents reach an update only through
    # `_iter_documents` (see collection.FastCollection), which saves them first; inserts and deletes
    # come through `__setitem__` / `__delitem__`.
    saved: dict[Key, Document | _Absent] | None = None
    saved_positions: dict[Key, int] | None = None
    _saved_indexes: dict[str, Document] | None
    _saved_ttl_indexes: dict[str, Document] | None

    # Unique indexes as hash maps, kept up to date by every write (mongomock-ng checks a
    # unique index by scanning the whole collection on every insert and update): per index
    # name, entry -> ids and id -> entries. None until first needed; False when an entry
    # cannot be hashed (mongomock-ng's scan decides until the maps are forgotten).
    uniques: dict[str, Maps] | bool | None = None

    def unique_maps(self) -> dict[str, Maps] | None:
        if self.uniques is None:
            self.uniques = {
                name: ({}, {}) for name, index in self.indexes.items() if index.get("unique")
            }
            for key in self._documents:
                self._index(key)
        return self.uniques if isinstance(self.uniques, dict) and self.uniques else None

    def _index(self, key: Key) -> None:
        if not isinstance(self.uniques, dict) or not self.uniques:
            return
        try:
            for name, (owners, of) in self.uniques.items():
                entries = unique_entries(self.indexes[name], self._documents[key])
                of[key] = entries
                for entry in entries:
                    owners.setdefault(entry, set()).add(key)
        except TypeError:
            self.uniques = False

    def _unindex(self, key: Key) -> None:
        if not isinstance(self.uniques, dict) or not self.uniques:
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

    def create_index(self, index_name: str, index_dict: Document) -> None:
        super().create_index(index_name, index_dict)
        self.forget_maps()

    def drop_index(self, index_name: str) -> None:
        super().drop_index(index_name)
        self.forget_maps()

    # -- equality maps

    def keys_with(self, field: str, value: Hashable) -> set[Key] | frozenset[Key]:
        """Keys of the documents whose top-level `field` equals `value` (a string or an
        ObjectId) or is an array holding it."""
        found = self.fields.get(field)
        if found is None:
            found = self.fields[field] = ({}, {})
            for key, document in self._documents.items():
                self._map_field(found, field, key, document)
        return found[0].get(value, NO_KEYS)

    @staticmethod
    def _map_field(maps: Maps, field: str, key: Key, document: Document) -> None:
        value = document.get(field)
        values: tuple[Hashable, ...]
        if isinstance(value, MAPPED):
            values = (value,)
        elif isinstance(value, list):
            values = tuple({item for item in value if isinstance(item, MAPPED)})
        else:
            return
        owners, of = maps
        of[key] = values
        for item in values:
            owners.setdefault(item, set()).add(key)

    def _map(self, key: Key) -> None:
        document = self._documents[key]
        for field, maps in self.fields.items():
            self._map_field(maps, field, key, document)

    def _unmap(self, key: Key) -> None:
        for owners, of in self.fields.values():
            for value in of.pop(key, ()):
                holders = owners.get(value)
                if holders is not None:
                    holders.discard(key)
                    if not holders:
                        del owners[value]

    def in_stored_order(self, keys: Iterable[Key]) -> list[Document]:
        documents, positions = self._documents, self.positions
        present = [key for key in keys if key in documents]
        present.sort(key=positions.__getitem__)
        return [documents[key] for key in present]

    # -- TTL expiry

    def _expiring(self) -> Iterator[tuple[str, int]]:
        """(field, seconds) of each TTL index mongomock-ng applies."""
        for index in self._ttl_indexes.values():
            try:
                seconds = int(index["expireAfterSeconds"])
            except ValueError:
                continue
            if len(index["key"]) == 1:
                yield next(iter(index["key"]))[0], seconds

    def _schedule(self, key: Key) -> None:
        expiry = self.expiry
        if expiry is None or not self._ttl_indexes:
            return
        document = self._documents[key]
        for field, seconds in self._expiring():
            moment = mongomock_store._get_min_datetime_from_value(
                helpers.get_value_by_dot(document, field)
            )
            if not isinstance(moment, datetime) or moment == datetime.max:
                continue
            try:
                due = naive_utc(moment) + timedelta(seconds=seconds)
            except OverflowError:
                continue
            self.expiry_sequence += 1
            heapq.heappush(expiry, (due, self.expiry_sequence, key))

    def _remove_expired_documents(self) -> None:
        if not self._ttl_indexes:
            return
        if self.expiry is None:
            super()._remove_expired_documents()
            self.expiry = []
            for key in list(self._documents):
                self._schedule(key)
            return
        # mongomock-ng's clock as its package exposes it (not in its __all__; tests patch it).
        now = mongomock_ng.utcnow()  # type: ignore[attr-defined]
        naive_now = naive_utc(now)
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

    def save(self, key: Key) -> None:
        if self.saved is not None and key not in self.saved:
            document = self._documents.get(key)
            self.saved[key] = ABSENT if document is None else walks.copy_value(document, False)

    def __setitem__(self, key: Key, value: Document) -> None:
        self.save(key)
        # The stored document may have been changed in place already: its old entries are
        # found by key in the maps (see FastCollection._ensure_uniques), not recomputed.
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

    def __delitem__(self, key: Key) -> None:
        self.save(key)
        if self.saved_positions is not None and key in self.positions:
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
        saved, saved_positions = self.saved, self.saved_positions
        if saved is None or saved_positions is None:
            super().abort_transaction()  # begun before this store was tracked: its snapshot
            self.forget_maps()
            self.positions = {key: place for place, key in enumerate(self._documents)}
            self.next_position = len(self.positions)
            self.changed()
            return
        documents = self._documents
        # What the transaction changed goes back, and only that is re-indexed.
        for key, document in saved.items():
            self._unindex(key)
            self._unmap(key)
            if isinstance(document, _Absent):
                documents.pop(key, None)
                self.positions.pop(key, None)
            else:
                documents[key] = document
        returned = {
            key: place for key, place in saved_positions.items() if saved[key] is not ABSENT
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
        # Saved with `saved` by begin_transaction.
        assert self._saved_indexes is not None and self._saved_ttl_indexes is not None
        self.indexes = self._saved_indexes
        self._ttl_indexes = self._saved_ttl_indexes
        restored = [key for key, document in saved.items() if document is not ABSENT]
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

    def remembered(self, key: Hashable | None, compute: Callable[[], T]) -> T:
        """`compute()`, or what it returned last time for `key` if nothing changed since."""
        if key is None:
            return compute()
        try:
            self.results.move_to_end(key)
            found: T = self.results[key]
            return found
        except KeyError:
            value = self.results[key] = compute()
            if len(self.results) > RESULTS_PER_COLLECTION:
                self.results.popitem(last=False)
            return value


def unique_entries(index: Document, document: Document) -> list[Hashable]:
    """A document's entries in a unique index, as mongomock-ng computes them ([] when the
    index leaves it out: sparse and missing, or outside a partial filter)."""
    partial = index.get("partialFilterExpression")
    if partial is not None and not filtering.filter_applies(partial, document):
        return []
    entries: list[Hashable] = list(
        Collection._compute_index_entries(document, index.get("key"), index.get("sparse")) or ()
    )
    for entry in entries:
        hash(entry)  # TypeError for an unhashable one: the caller gives up on maps
    return entries


def tracked(inner: Collection) -> TrackedStore:
    """The collection's store as a TrackedStore: mongomock-ng's object, its class reassigned
    in place (mongomock-ng creates stores itself and hands them to every collection object of
    the same name), and the structures the class needs added."""
    store = inner._store
    if type(store) is not TrackedStore:
        store.__class__ = TrackedStore
        assert isinstance(store, TrackedStore)
        store.results = OrderedDict()
        store.fields = {}
        store.positions = {key: place for place, key in enumerate(store._documents)}
        store.next_position = len(store.positions)
    return store
