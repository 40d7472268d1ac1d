"""`bench.asgi:app`: the shop as the benchmark serves it, under any ASGI server.

The real app (`create_app`), with its settings from the environment the benchmark sets, plus:
- `GET /bench/bare`: the ceiling: the same app, hooks and middleware, a handler that does
  nothing;
- at start-up, after the demo catalog: `BENCH_PRODUCTS` synthetic products and
  `BENCH_USERS` verified customers (`shopper{n}@bench.test`, password `BENCH_PASSWORD`), and
  with `BENCH_ADMIN` an admin (`admin@bench.test`, the same password), and `BENCH_ORDERS`
  orders spread over the last year (the reports' part);
- `PUT /bench/catalog-cache/<on|off>`: switch this worker's response cache, to time the
  database read path itself on the same server.
"""

from __future__ import annotations

import os

from quart import current_app

from app import create_app
from app.auth.models import User
from app.catalog.cache import bump_catalog_version
from app.core.heap import freeze_after_start
from app.core.security import hash_password
from bench.catalog import seed_products
from config import Settings

BENCH_PASSWORD = "Bench-Password-2026"

app = create_app(Settings(_env_file=None))


@app.get("/bench/bare")
async def bare():
    return {"status": "ok"}


@app.put("/bench/catalog-cache/<state>")
async def catalog_cache(state: str):
    from app.catalog.cache import _cache

    cache = _cache()
    settings_bytes = current_app.config["SETTINGS"].CATALOG_CACHE_MB * 1024 * 1024
    cache.max_bytes = settings_bytes if state == "on" else 0
    cache._reset(None)
    return {"catalog_cache": state}


@app.put("/bench/stock/<product_id>/<int:stock>")
async def set_stock(product_id: str, stock: int):
    """Leave exactly `stock` units of a product (the contention case's last units), through
    the one writer of stock: its only variant's stock is what checkout's guard reads."""
    from beanie import PydanticObjectId

    from app.inventory import stock as inventory

    await inventory.set_stock(product_id=PydanticObjectId(product_id), stock=stock, reason="bench")
    return {"stock": stock}


@app.before_serving
async def _seed() -> None:
    products = int(os.environ.get("BENCH_PRODUCTS", "0"))
    if products:
        await seed_products(products, currency=app.config["SETTINGS"].STORE_CURRENCY)
        await bump_catalog_version()
    password_hash = await hash_password(BENCH_PASSWORD)  # once: a bcrypt hash takes ~0.25 s
    for n in range(int(os.environ.get("BENCH_USERS", "0"))):
        await User(
            email=f"shopper{n}@bench.test",
            name=f"Shopper {n}",
            email_verified=True,
            password_hash=password_hash,
        ).insert()
    orders = int(os.environ.get("BENCH_ORDERS", "0"))
    if orders:
        from bench.orders import seed_orders

        await seed_orders(orders, currency=app.config["SETTINGS"].STORE_CURRENCY)
    if os.environ.get("BENCH_ADMIN"):
        await User(
            email="admin@bench.test",
            name="Bench Admin",
            role="admin",
            email_verified=True,
            password_hash=password_hash,
        ).insert()


# Last, as the entry point (wsgi.py) does: after the seeding above.
freeze_after_start(app)
