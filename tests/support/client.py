"""The test client of the `client` fixture."""

from __future__ import annotations

import asyncio

from quart.testing import QuartClient


class IsolatedClient(QuartClient):
    """Every request gets its own application context (and so its own `g`), as under a real
    server. Quart's test client would otherwise reuse the test's app context, and requests
    run concurrently with asyncio.gather would share (and overwrite) one `g`."""

    async def open(self, *args, **kwargs):
        async def run():
            async with self.app.app_context():
                return await QuartClient.open(self, *args, **kwargs)

        return await asyncio.create_task(run())
