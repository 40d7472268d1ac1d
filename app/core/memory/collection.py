"""mongomock-ng's collection with the fast paths: the documents a write or a read considers
found through the store's maps, and saved for the running transaction's rollback first.

The facade reassigns a mongomock-ng collection's class to FastCollection (mongomock-ng
creates the objects itself); the subclass adds no state, so the object stays what mongomock-ng
expects.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pymongo.errors
from pymongo import ReturnDocument

from app.core.memory.mongomock_edge import (
    Collection,
    Document,
    filtering,
    helpers,
    mongomock_collection,
)
from app.core.memory.query import FindArgs, find, narrowed
from app.core.memory.store import TrackedStore


class FastCollection(Collection):
    """mongomock-ng's collection, with the documents a write or read considers found through
    the store's maps when the filter allows it (mongomock-ng evaluates the filter on every
    document), and saved for the running transaction's rollback before anything changes
    them."""

    def _iter_documents(self, filter: Any) -> Iterable[Document]:
        store = self._store
        if not isinstance(store, TrackedStore) or store.is_empty:  # is_empty expires TTLs
            found: Iterable[Document] = super()._iter_documents(filter)
        else:
            keys = narrowed(store, filter)
            if keys is None:
                found = super()._iter_documents(filter)
            else:
                candidates = store.in_stored_order(keys)
                found = (d for d in candidates if filtering.filter_applies(filter, d))
        if not isinstance(store, TrackedStore) or store.saved is None:
            return found
        return _saved_each(store, found)

    def find_one(self, filter: Any = None, *args: Any, **kwargs: Any) -> Document | None:
        """mongomock-ng's find_one, which its find_one_and_update and find_one_and_delete call
        twice (the document before, then the one returned), through `query.find` when the
        query is simple: the stored document is looked at in place and only the answer is
        copied, by `walks.copy_value` (mongomock-ng's find copies, projects, then makes
        datetimes aware, each a walk over the whole document)."""
        if filter is None:
            filter = {}
        if not isinstance(filter, Mapping):
            filter = {"_id": filter}
        query = FindArgs.of(filter, *args, **kwargs)
        if query is None or not query.simple or not isinstance(self._store, TrackedStore):
            found: Document | None = super().find_one(filter, *args, **kwargs)
            return found
        query.limit = 1
        page = find(self, query)
        return page[0] if page else None

    def _find_and_modify(
        self,
        query: Any,
        projection: Any = None,
        update: Any = None,
        upsert: bool = False,
        sort: Any = None,
        return_document: Any = ReturnDocument.BEFORE,
        session: Any = None,
        **kwargs: Any,
    ) -> Document | None:
        """mongomock-ng's find_one_and_update returning the document after it: the
        document before is looked up by its `_id` alone (mongomock-ng copies it whole only to
        read the `_id`). Anything else (the document before, deletes, upserts...) is
        mongomock-ng's own."""
        if kwargs or upsert or not update or return_document is not ReturnDocument.AFTER:
            found: Document | None = super()._find_and_modify(
                query, projection, update, upsert, sort, return_document, session, **kwargs
            )
            return found
        mongomock_collection._enroll_session(session, self._store)
        old = self.find_one(query, {"_id": 1}, sort=sort)
        if old is None:
            return None
        query = {"_id": old["_id"]}
        self._update(query, update, upsert)
        after: Document | None = self.find_one(query, projection)
        return after

    def _ensure_uniques(self, new_data: Document) -> None:
        store = self._store
        maps = store.unique_maps() if isinstance(store, TrackedStore) else None
        if maps is None:
            super()._ensure_uniques(new_data)
            return
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
                super()._ensure_uniques(new_data)
                return
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


def _saved_each(store: TrackedStore, documents: Iterable[Document]) -> Iterator[Document]:
    """Each document as it is handed to an update, saved for the transaction's rollback."""
    for document in documents:
        store.save(document["_id"])
        yield document
