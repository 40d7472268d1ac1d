"""quart-schema with one pydantic TypeAdapter per type instead of one per request.

quart-schema validates every request body, query string and header model, and dumps every
list or dict answer, through `TypeAdapter(the type)` built on the spot (about a tenth of a
millisecond each, three per checkout flow); an adapter for a type validates and dumps the
same way every time, so it is built once and kept. Imported for its effect by the app
factory, as app.core.db patches Beanie's.
"""

from __future__ import annotations

import functools
from typing import Any

import quart_schema.conversion
from pydantic import TypeAdapter


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def cached_type_adapter(kind: Any, *args: Any, **kwargs: Any) -> TypeAdapter[Any]:
    """`TypeAdapter(kind)`, the same adapter for the same type (options: a new one)."""
    if args or kwargs:
        return TypeAdapter(kind, *args, **kwargs)
    try:
        return _adapter(kind)
    except TypeError:  # an unhashable type: built as quart-schema does
        return TypeAdapter(kind)


# conversion.py names TypeAdapter itself in model_load, model_dump and model_schema.
quart_schema.conversion.TypeAdapter = cached_type_adapter  # type: ignore[misc, assignment]  # a patch
