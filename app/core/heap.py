"""The server process's garbage collector: what start-up made is left out of its full walks.

A full collection walks every object the collector tracks. After start-up that is some
120,000 objects that live as long as the process (modules, models and schemas, the seeded
catalog on the embedded engine): about 0.1 s per full collection on our machines, a pause
that every request on the worker waits out, and that costs more the more the process holds.
`gc.freeze()` moves everything alive at that moment into a permanent generation that no
collection walks; later objects are collected as before (and frozen ones are still freed by
reference counting when they are dropped).

Only server processes do this (`wsgi.py`, `app.serve`, the bench's app): a test process
creates an app per test, and freezing there would keep each test's objects for good.
"""

from __future__ import annotations

import gc

from quart import Quart


def freeze_after_start(app: Quart) -> None:
    """Register, after the app's own start-up hooks (so after the seeding), a full
    collection and a freeze of whatever survived it. Call it last on a server's app."""

    @app.before_serving
    async def _freeze_start_up_heap() -> None:
        gc.collect()
        gc.freeze()
