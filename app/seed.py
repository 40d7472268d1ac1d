"""What runs at start-up, and what `quart seed` / `quart create-admin` do."""

from __future__ import annotations

import logging

log = logging.getLogger("app.seed")


async def on_startup(settings) -> None:
    """Create the configured admin when absent; seed the demo catalog when enabled."""
    if settings.ADMIN_EMAIL and settings.ADMIN_PASSWORD:
        from app.auth.service import ensure_admin

        await ensure_admin(email=settings.ADMIN_EMAIL, password=settings.ADMIN_PASSWORD)
    if settings.seed_demo_catalog:
        await seed_demo(settings)


async def seed_demo(settings) -> dict:
    """Load the demo shop (idempotent); returns what was created."""
    from app.inventory.demo import seed_demo_catalog

    result = await seed_demo_catalog()
    log.info("demo catalog: %s", result)
    return result
