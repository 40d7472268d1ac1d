"""Walks over documents: the copy a query returns, and faster stand-ins for mongomock-ng's
two walks over every document a write takes in (and for its check that a written value can be
stored as BSON, which converted the collection's codec options to PyMongo's on every call).

mongomock-ng makes datetimes naive and cuts them to milliseconds, and snapshots the document
an update is compared with and restored from; the stand-ins decide plain values with a set
lookup instead of a call each, and hand anything else (subclasses included) to mongomock-ng's
own function, so the answers are the same. They are installed for the whole process at import
(mongomock-ng calls them through its module attributes): they are not a fast path with logic
of their own, and `mongomock_edge.own_walks()` puts mongomock-ng's back for a comparison.
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any

from app.core.memory.mongomock_edge import (
    OWN_BSON_ENCODE,
    OWN_CLONE,
    OWN_PATCH_DATETIMES,
    MongomockCodecOptions,
    ObjectId,
    install_walks,
)

_IMMUTABLE = (str, int, float, bool, type(None), bytes, ObjectId, uuid.UUID)
# The exact types of _IMMUTABLE: a set lookup decides most values without a call.
_LEAVES = frozenset(_IMMUTABLE)


def copy_value(value: Any, tz_aware: bool) -> Any:
    """A deep copy of a stored value, as `make_datetime_timezone_aware_in_document` shapes it:
    datetimes in UTC when the client is tz-aware, tuples as lists."""
    kind = type(value)
    if kind is dict:  # plain containers first, their plain values kept without a call
        return {k: v if type(v) in _LEAVES else copy_value(v, tz_aware) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _LEAVES else copy_value(v, tz_aware) for v in value]
    if kind in _LEAVES:
        return value
    if isinstance(value, dict):
        return {k: copy_value(v, tz_aware) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [copy_value(v, tz_aware) for v in value]
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if tz_aware else value
    if isinstance(value, _IMMUTABLE):
        return value
    return copy.deepcopy(value)


_PLAIN = frozenset({str, int, float, bool, type(None), bytes, ObjectId})
_CLONE_PLAIN = _PLAIN | {datetime}


def patched_datetimes(value: Any) -> Any:
    """mongomock-ng's patch_datetime_awareness_in_document, faster on plain values."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {k: v if type(v) in _PLAIN else patched_datetimes(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _PLAIN else patched_datetimes(v) for v in value]
    return OWN_PATCH_DATETIMES(value)


def cloned(document: Any) -> Any:
    """mongomock-ng's _clone_document, faster on plain values."""
    kind = type(document)
    if kind in _CLONE_PLAIN:
        return document
    if kind is dict:
        return {k: v if type(v) in _CLONE_PLAIN else cloned(v) for k, v in document.items()}
    if kind is list:
        return [v if type(v) in _CLONE_PLAIN else cloned(v) for v in document]
    return OWN_CLONE(document)


# A collection's codec options (immutable) and PyMongo's for them, by the options' id.
_CONVERTED: dict[int, tuple[Any, Any]] = {}


def bson_encoded(document: Any, check_keys: bool, codec_options: Any) -> Any:
    """mongomock-ng's _bson_encode (every inserted document and `$set` value is encoded to
    check it can be stored), with a collection's codec options converted to PyMongo's once,
    not on every call (a new PyMongo CodecOptions each time)."""
    if type(codec_options) is MongomockCodecOptions:
        held = _CONVERTED.get(id(codec_options))
        if held is None or held[0] is not codec_options:
            if len(_CONVERTED) >= 256:  # options of collections long gone
                _CONVERTED.clear()
            held = (codec_options, codec_options.to_pymongo())
            _CONVERTED[id(codec_options)] = held
        if held[1] is None:  # no PyMongo: mongomock-ng encodes nothing either
            return None
        codec_options = held[1]
    return OWN_BSON_ENCODE(document, check_keys=check_keys, codec_options=codec_options)


install_walks(patched_datetimes, cloned, bson_encoded)
