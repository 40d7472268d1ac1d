"""Everything the engine takes from mongomock-ng beyond its public API, in one place.

mongomock-ng is untyped; the names below give its objects types at this edge, and the rest of
the package imports mongomock-ng's internals from here only. They are private to mongomock-ng,
so only the version pin (requirements.txt) protects them: RELIED_ON lists each one, and
tests/core/test_memory_canary.py fails, naming it, when one disappears or changes shape.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final

import mongomock_ng
from mongomock_ng import codec_options as mongomock_codec_options
from mongomock_ng import collection as mongomock_collection
from mongomock_ng import filtering, helpers
from mongomock_ng import store as mongomock_store
from sentinels import NOTHING

# A stored or returned document. Its values are BSON values of any type: Any is honest here.
Document = dict[str, Any]
# A filter, a projection, an update: shapes the caller chose, passed on to mongomock-ng.
Spec = dict[str, Any]
# A sort as mongomock-ng normalises it.
SortKeys = list[tuple[str, int]]

ObjectId = mongomock_ng.ObjectId
Collection = mongomock_collection.Collection
CollectionStore = mongomock_store.CollectionStore
InvalidOperation = mongomock_ng.InvalidOperation
MISSING: Final = NOTHING  # mongomock-ng's marker for a field a document lacks

# The package calls mongomock-ng's functions through these modules, looked up at each call
# (filtering.filter_applies, helpers.get_value_by_dot...), so a test's spy on one sees every
# call. Each name used is in RELIED_ON.
__all__ = [
    "MISSING",
    "Collection",
    "CollectionStore",
    "Document",
    "InvalidOperation",
    "ObjectId",
    "SortKeys",
    "Spec",
    "filtering",
    "helpers",
    "mongomock_collection",
    "mongomock_ng",
    "mongomock_store",
]


# mongomock-ng's own walks, kept before walks.py replaces them.
OWN_PATCH_DATETIMES: Final = helpers.patch_datetime_awareness_in_document
OWN_CLONE: Final = helpers._clone_document
OWN_BSON_ENCODE: Final = mongomock_collection._bson_encode
MongomockCodecOptions = mongomock_codec_options.CodecOptions


def install_walks(
    patch_datetimes: Callable[[Any], Any],
    clone: Callable[[Any], Any],
    bson_encode: Callable[..., Any] = OWN_BSON_ENCODE,
) -> None:
    helpers.patch_datetime_awareness_in_document = patch_datetimes
    mongomock_collection._clone_document = clone  # imported there by name
    mongomock_collection._bson_encode = bson_encode


@contextmanager
def own_walks() -> Iterator[None]:
    """mongomock-ng's own walks for the duration (a plain mongomock-ng, for comparisons)."""
    installed = (
        helpers.patch_datetime_awareness_in_document,
        mongomock_collection._clone_document,
        mongomock_collection._bson_encode,
    )
    install_walks(OWN_PATCH_DATETIMES, OWN_CLONE)
    try:
        yield
    finally:
        install_walks(*installed)


# (where, name, kind): "attr" on a module or class, "instance" on a fresh object (the canary
# builds one of each), "method" a callable on the class.
RELIED_ON: Final[list[tuple[str, str, str]]] = [
    ("mongomock_ng", "utcnow", "attr"),
    ("mongomock_ng.filtering", "filter_applies", "attr"),
    ("mongomock_ng.filtering", "resolve_key", "attr"),
    ("mongomock_ng.filtering", "resolve_sort_key", "attr"),
    ("mongomock_ng.helpers", "create_index_list", "attr"),
    ("mongomock_ng.helpers", "get_value_by_dot", "attr"),
    ("mongomock_ng.helpers", "patch_datetime_awareness_in_document", "attr"),
    ("mongomock_ng.helpers", "make_datetime_timezone_aware_in_document", "attr"),
    ("mongomock_ng.helpers", "_clone_document", "attr"),
    ("mongomock_ng.collection", "_clone_document", "attr"),
    ("mongomock_ng.collection", "_cast_document_class", "attr"),
    ("mongomock_ng.collection", "_bson_encode", "attr"),
    ("mongomock_ng.codec_options.CodecOptions", "to_pymongo", "method"),
    ("mongomock_ng.collection", "filter_applies", "attr"),
    ("mongomock_ng.collection", "_enroll_session", "attr"),
    ("mongomock_ng.store", "_get_min_datetime_from_value", "attr"),
    ("mongomock_ng.collection.Collection", "_iter_documents", "method"),
    ("mongomock_ng.collection.Collection", "_ensure_uniques", "method"),
    ("mongomock_ng.collection.Collection", "_compute_index_entries", "method"),
    ("mongomock_ng.collection.Collection", "_copy_only_fields", "method"),
    ("mongomock_ng.collection.Collection", "_find_and_modify", "method"),
    ("mongomock_ng.collection.Collection", "_update", "method"),
    ("mongomock_ng.collection.Collection", "_store", "instance"),
    ("mongomock_ng.collection.Collection", "codec_options", "instance"),
    ("mongomock_ng.store.CollectionStore", "begin_transaction", "method"),
    ("mongomock_ng.store.CollectionStore", "commit_transaction", "method"),
    ("mongomock_ng.store.CollectionStore", "abort_transaction", "method"),
    ("mongomock_ng.store.CollectionStore", "_remove_expired_documents", "method"),
    ("mongomock_ng.store.CollectionStore", "_value_meets_expiry", "method"),
    ("mongomock_ng.store.CollectionStore", "_documents", "instance"),
    ("mongomock_ng.store.CollectionStore", "_ttl_indexes", "instance"),
    ("mongomock_ng.store.CollectionStore", "_saved_indexes", "instance"),
    ("mongomock_ng.store.CollectionStore", "_saved_ttl_indexes", "instance"),
    ("mongomock_ng.store.CollectionStore", "indexes", "instance"),
    ("mongomock_ng.store.CollectionStore", "is_empty", "instance"),
    ("mongomock_ng.store.CollectionStore", "documents", "instance"),
    ("mongomock_ng.session.ClientSession", "_ensure_collection_in_transaction", "method"),
    # tests/touched.py counts documents read through these.
    ("mongomock_ng.mongo_client.MongoClient", "_store", "instance"),
    ("mongomock_ng.store.ServerStore", "_databases", "instance"),
    ("mongomock_ng.store.DatabaseStore", "_collections", "instance"),
]
