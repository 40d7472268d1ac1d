"""Seeding the demo shop: the catalog's demo data (app/catalog/demo.py), each product with its
opening stock in the stock ledger.

Idempotent: categories and products are keyed by slug, so seeding twice (or after an admin
edited the demo data) creates only what is missing and changes nothing that exists. Here
rather than in the catalog because the opening stock is the inventory's to write, and the
inventory builds on the catalog, never the other way round.
"""

from __future__ import annotations

from typing import Any

from pymongo.errors import DuplicateKeyError

from app.catalog.cache import bump_catalog_version
from app.catalog.demo import missing_demo_products, seed_demo_categories
from app.catalog.models import Product
from app.catalog.variants import register_skus
from app.core import db
from app.inventory.stock import record_initial_stock


async def seed_demo_catalog() -> dict[str, int]:
    """Create the demo categories and products that are missing; return the counts created."""
    categories, created_categories = await seed_demo_categories()
    created = {"categories": created_categories, "products": 0}
    for product in await missing_demo_products(categories):

        async def work(session: Any, product: Product = product) -> None:
            # With its opening stock's ledger row, as every created product: the ledger adds
            # up to the stock, even if the process dies in between.
            await product.insert(session=session)
            await register_skus(product.id, after=product.variants, session=session)
            for variant in product.variants:
                await record_initial_stock(
                    product_id=product.id,
                    stock=variant.stock,
                    variant=variant,
                    actor="system",
                    session=session,
                )

        try:
            await db.run_in_transaction(work)
        except DuplicateKeyError:  # a concurrent seeder got there first
            continue
        created["products"] += 1
    if any(created.values()):
        await bump_catalog_version()
    return created
