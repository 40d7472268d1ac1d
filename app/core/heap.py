"""The server process's garbage collector: start-up's objects are left out of its full walks,
and a full walk comes after 100 collections of the middle generation instead of 10.

A full collection walks every object the collector tracks. After start-up that is some
120,000 objects that live as long as the process (modules, models and schemas, the seeded
catalog on the embedded engine): about 0.1 s per full collection on our machines, a pause
every request on the worker waits out. `gc.freeze()` moves everything alive at that moment
into a permanent generation that no collection walks; later objects are collected as before
(and frozen ones are still freed by reference counting when they are dropped).

What the process keeps after start-up (on the embedded engine: the documents written since,
and the query maps built on first use) is still walked by each full collection. With
CPython's default thresholds one came about every 1,000 products created, so the cost per
request rose with the data (1.29 ms of CPU per created product at first, 1.57 ms after 5,000
in `make bench`). After 100 middle-generation collections instead of 10 it stays flat (1.12
to 1.24 ms). Objects that are garbage only as a cycle wait that much longer; those that
are not are freed by reference counting at once, as always.

Only server processes do this (`wsgi.py`, `app.serve`, the bench's app): a test process
creates an app per test, and freezing there would keep each test's objects for good.
"""

from __future__ import annotations

import gc

from quart import Quart

# CPython's defaults are (700, 10, 10).
THRESHOLDS = (700, 10, 100)


def freeze() -> None:
    """A full collection, a freeze of whatever survived it, and the thresholds above."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)


def freeze_after_start(app: Quart) -> None:
    """Register `freeze()` after the app's own start-up hooks (so after the seeding). Call it
    last on a server's app."""

    @app.before_serving
    async def _freeze_start_up_heap() -> None:
        freeze()
