"""Counting the documents a request touches on the embedded engine.

`async with touched() as counts:` replaces every collection's document map with one that
counts, per collection, each document read from it: one for each document a lookup returns
and one for each document (or key) a pass over the collection yields. A request whose cost
follows the data shows it here as a count that follows the data; the tests compare counts
at two sizes of the data, never timings.

It counts whatever reads the map, the engine's own code and mongomock-ng's alike, so a scan
that comes back anywhere below the facade is seen.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from contextlib import asynccontextmanager

from app.core import db
from app.core.memory import MemoryClient


class _Counting(OrderedDict):
    counts: Counter
    name: str

    def _count(self, n: int = 1) -> None:
        self.counts[self.name] += n

    def __getitem__(self, key):
        self._count()
        return super().__getitem__(key)

    def get(self, key, default=None):
        found = super().get(key, default)
        if key in self:
            self._count()
        return found

    def __iter__(self):
        for key in super().__iter__():
            self._count()
            yield key

    def keys(self):
        return iter(self)

    def values(self):
        for value in super().values():
            self._count()
            yield value

    def items(self):
        for item in super().items():
            self._count()
            yield item


def _stores(client):
    client = client or db.get_db().client
    assert isinstance(client, MemoryClient), "counting needs the embedded engine"
    for database in client._inner._store._databases.values():
        yield from database._collections.values()


@asynccontextmanager
async def touched(client: MemoryClient | None = None):
    """Counts for every collection of `client` (the app's by default)."""
    counts: Counter = Counter()
    wrapped = []
    for store in _stores(client):
        counting = _Counting(store._documents)
        counting.counts, counting.name = counts, store.name
        store._documents = counting
        wrapped.append((store, counting))
    try:
        yield counts
    finally:
        for store, counting in wrapped:
            # A store that swapped its map meanwhile (a drop, an abort restoring order) was
            # no longer counted: the measurement would be void.
            assert store._documents is counting, f"{store.name}: the count was cut short"
            counting.counts = Counter()  # copying it back is not the request's doing
            store._documents = OrderedDict(counting)
