"""Reads on the fast path: find, count and bulk loading over a TrackedStore.

mongomock-ng copies (and projects, and makes time-zone aware) every document of a collection
on every query, then filters, sorts and cuts the page. Here the stored documents are found
through the store's maps when the filter allows it, filtered and sorted in place (the result
remembered until the collection changes), the page is cut, and only its documents are copied.
Anything unusual (cursor options, $near, projection operators...) is left to mongomock-ng:
`FindArgs.simple` says which.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Hashable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

import pymongo.errors

from app.core.memory import walks
from app.core.memory.mongomock_edge import (
    MISSING,
    Collection,
    Document,
    ObjectId,
    SortKeys,
    filtering,
    helpers,
    mongomock_collection,
)
from app.core.memory.store import MAPPED, Key, TrackedStore, tracked

FEW = 64  # matches worth filtering again rather than remembering

_FIND_OPTIONS = ("filter", "projection", "skip", "limit", "sort")
_NEAR = ("$near", "$nearSphere")
_ID_TYPES = (str, int, ObjectId, uuid.UUID)


class FindArgs:
    """A find() call's filter, projection, sort, skip and limit, when those are all it has."""

    def __init__(
        self,
        filter: object = None,
        projection: object = None,
        skip: object = 0,
        limit: object = 0,
        sort: Any = None,  # what pymongo's find() takes: a key, or keys and directions
    ) -> None:
        # As the caller gave them: `simple` says whether they are what `find` understands.
        self.filter: Any = {} if filter is None else filter
        self.projection: Any = projection
        self.skip: Any = skip or 0
        self.limit: Any = limit or 0
        # A find's sort directions are 1 or -1 (create_index_list's type allows index kinds).
        self.sort = cast(SortKeys, helpers.create_index_list(sort)) if sort else None

    @classmethod
    def of(cls, *args: object, **kwargs: object) -> FindArgs | None:
        """None for anything else (cursor options, hints...): mongomock-ng runs those."""
        if len(args) > 2 or set(kwargs) - set(_FIND_OPTIONS[len(args) :]):
            return None
        return cls(*args, **kwargs)

    def modified(self, name: str, *args: Any, **kwargs: Any) -> FindArgs:
        if name == "sort":
            self.sort = cast(SortKeys, helpers.create_index_list(*args, **kwargs))
        elif name == "skip":
            self.skip = args[0]
        elif name == "limit":
            self.limit = args[0]
        return self

    @property
    def simple(self) -> bool:
        """Whether `find` gives exactly mongomock-ng's answer (else mongomock-ng runs it)."""
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


def _pinned_ids(filter: object) -> list[Hashable] | None:
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


def _wanted_values(condition: object) -> list[Hashable] | None:
    """The values a top-level condition requires one of, when they can be looked up in an
    equality map: `"x"`, `{"$eq": "x"}`, `{"$in": ["x", "y"]}` (strings and ObjectIds)."""
    if isinstance(condition, MAPPED):
        return [condition]
    if isinstance(condition, Mapping) and len(condition) == 1:
        if "$eq" in condition and isinstance(condition["$eq"], MAPPED):
            return [condition["$eq"]]
        wanted = condition.get("$in")
        if isinstance(wanted, list) and all(isinstance(v, MAPPED) for v in wanted):
            return wanted
    return None


def _candidate_keys(store: TrackedStore, filter: object) -> set[Key] | None:
    """Keys of a superset of the documents `filter` matches, from the maps (an `_id`, an
    equality or `$in` on a string or ObjectId field, a `$or` whose every branch has such a
    condition); None when the maps cannot narrow it (then every document is a candidate)."""
    if not isinstance(filter, Mapping):
        return None
    best: set[Key] | None = None
    keys: set[Key] | None
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


def narrowed(store: TrackedStore, filter: object) -> set[Key] | None:
    """`_candidate_keys`, or None when they are hardly fewer than all the documents."""
    keys = _candidate_keys(store, filter)
    if keys is None or len(keys) > len(store._documents) // 2 > FEW:
        return None
    return keys


class _Unhashable(Exception):
    pass


_SCALARS = (bool, int, float, str, type(None), datetime, ObjectId, uuid.UUID, bytes)


def _frozen(value: object) -> Hashable:
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


def key_of(*parts: object) -> Hashable | None:
    """A key for remembered results, or None when `parts` hold something unfamiliar."""
    try:
        return _frozen(parts)
    except _Unhashable:
        return None


def _is_id(value: object) -> bool:
    return isinstance(value, _ID_TYPES) and not isinstance(value, bool)


def _matching(inner: Collection, spec: Document) -> list[Document]:
    """The stored documents (not copies) that match `spec`: those the store's maps name (an
    `_id`, a batch of them, string or ObjectId equalities...) when they can, else a scan;
    remembered until the collection changes."""
    store = tracked(inner)
    if store.is_empty:  # also expires TTL documents (a change: it forgets remembered results)
        # mongomock-ng validates the filter against an empty document (unknown operators,
        # $text...) even when there is nothing to match: so do we.
        filtering.filter_applies(spec, {})
        return []
    keys = narrowed(store, spec)

    def scan() -> list[Document]:
        pool = store.documents if keys is None else store.in_stored_order(keys)
        return [document for document in pool if filtering.filter_applies(spec, document)]

    if keys is not None and len(keys) <= FEW:
        return scan()
    return store.remembered(key_of("match", spec), scan)


def _sorted(inner: Collection, spec: Document, sort: SortKeys) -> list[Document]:
    """The matches of `spec` in `sort` order (remembered until the collection changes)."""

    def order() -> list[Document]:
        documents = _matching(inner, spec)
        # Stable sorts, last key first, as mongomock-ng sorts (and in its BSON order).
        for name, direction in reversed(sort):
            keys = _sort_keys(name, documents)
            places = sorted(range(len(documents)), key=keys.__getitem__, reverse=direction < 0)
            documents = [documents[i] for i in places]
        return documents

    return tracked(inner).remembered(key_of("sort", spec, sort), order)


# Types whose values Python orders as BSON does, when all of a sort key's values are of one.
_NATIVE_ORDER = (str, (int, float), datetime, ObjectId)


def _sort_keys(name: str, documents: list[Document]) -> list[Any]:
    """Sort keys for one field: the values themselves when they are all of one BSON type that
    Python orders the same way (much faster), else mongomock-ng's BSON-comparable keys."""
    if "." in name:
        values = [filtering.resolve_key(name, document) for document in documents]
    else:
        values = [document.get(name, MISSING) for document in documents]
    types = {type(value) for value in values}
    if _natively_ordered(types) and not (float in types and any(v != v for v in values)):
        return values
    return [filtering.resolve_sort_key(name, document) for document in documents]


def _natively_ordered(types: set[type]) -> bool:
    if bool in types:
        return types == {bool}
    return any(all(issubclass(kind, family) for kind in types) for family in _NATIVE_ORDER)


def find(inner: Collection, query: FindArgs) -> list[Document]:
    """mongomock-ng's find(), except that only the documents returned are copied.

    mongomock-ng copies (and projects, and makes time-zone aware) every matching document,
    then applies skip and limit: a page of 20 from 10,000 products copied 10,000. Here the
    stored documents are filtered and sorted in place, the page is cut, and only its
    documents are copied, by mongomock-ng's own projection code.
    """
    spec: Document = helpers.patch_datetime_awareness_in_document(query.filter)
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
    results: list[Document] = []
    for document in documents:
        if fields is not None:
            include, names = fields
            if include:
                kept = {k: v for k, v in document.items() if k in names}
            else:
                kept = {k: v for k, v in document.items() if k not in names}
            copied = walks.copy_value(kept, tz_aware)
        else:  # dotted paths: mongomock-ng's own projection
            given = query.projection
            projection = dict(given) if isinstance(given, Mapping) else list(given)
            copied = inner._copy_only_fields(document, projection, dict, filter=spec)
            if options.tz_aware:
                copied = helpers.make_datetime_timezone_aware_in_document(copied)
        results.append(mongomock_collection._cast_document_class(copied, options.document_class))
    return results


def _top_level_fields(projection: object) -> tuple[bool, set[str]] | None:
    """(include?, names) for a projection of top-level fields only (or none), else None."""
    if not projection:
        return False, set()
    if not isinstance(projection, Mapping):
        assert isinstance(projection, Sequence)  # FindArgs.simple: a list or a tuple
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


def count(inner: Collection, filter: Mapping[str, Any]) -> int:
    return len(_matching(inner, helpers.patch_datetime_awareness_in_document(filter)))


def bulk_load(inner: Collection, documents: list[Document]) -> None:
    """Insert many documents at once (see MemoryCollection.bulk_load): unique indexes are
    checked in one pass of hashing, and a clash inserts nothing. Works on any store."""
    store = inner._store
    prepared: list[Document] = []
    for document in documents:
        document = helpers.patch_datetime_awareness_in_document(dict(document))
        document.setdefault("_id", ObjectId())
        prepared.append(document)
    ids = [document["_id"] for document in prepared]
    if len(set(ids)) != len(ids) or any(i in store for i in ids):
        raise pymongo.errors.DuplicateKeyError("E11000 duplicate key error (_id)", 11000)
    for index in store.indexes.values():
        if not index.get("unique") or index.get("partialFilterExpression"):
            continue
        seen: set[Hashable] = set()
        for document in [*store.documents, *prepared]:
            entries = inner._compute_index_entries(document, index["key"], index.get("sparse"))
            for key in {key_of(entry) for entry in entries or ()}:
                if key is None or key in seen:
                    raise pymongo.errors.DuplicateKeyError(
                        f"E11000 duplicate key error ({index['key']})", 11000
                    )
                seen.add(key)
    for document in prepared:
        store[document["_id"]] = document
