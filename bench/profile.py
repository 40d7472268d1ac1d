"""`python -m bench.profile`: the write paths in-process, on the embedded engine, at two catalog
sizes: where a request's time goes, without HTTP, a server or wrk.

For each size (the demo catalog and `--products`): add to cart, the checkout flow (add one
unit, `POST /orders`, `POST /orders/{id}/pay`) and admin product creation, through the app's
test client, one request at a time; prints the CPU time per request (the machine may be
busy with other work: wall time would count that too) and, with `--profile`, the
functions that took the time (cProfile, cumulative). The ratio of the two sizes is the
figure that matters: a request's cost must not grow with the data.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import time
import uuid

from bench.harness import ADDRESS

SCENARIOS = ("add", "checkout", "create")
SORT = "cumulative"
SHOPPERS = 8  # add to cart: the bench's shoppers, each cart growing to the 20 products


class _GarbageCollector:
    """Time spent in Python's garbage collector while active: a full collection walks every
    object in memory, so it is a cost that grows with the data (the catalog's documents)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started = 0.0

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._started

    def __enter__(self):
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self._callback)


def _settings():
    from config import Settings

    return Settings(
        APP_ENV="development",
        SEED_DEMO_CATALOG=True,
        EMAIL_WORKER_ENABLED=False,
        ORDER_JOBS_ENABLED=False,
        RATE_LIMIT_ENABLED=False,
        BCRYPT_ROUNDS=4,
        LOG_LEVEL="WARNING",
        MONGODB_URI=None,
        _env_file=None,
    )


async def _run_size(
    products: int, *, rounds: int, scenarios, profile: bool
) -> dict[str, tuple[float, float]]:
    from app import create_app
    from app.auth.models import User
    from app.auth.sessions import issue_access_token
    from app.catalog.cache import bump_catalog_version
    from app.catalog.models import Category, Product
    from app.core import heap
    from bench.catalog import seed_products

    app = create_app(_settings())
    figures: dict[str, tuple[float, float]] = {}
    async with app.test_app(), app.app_context():
        if products:
            await seed_products(products)
            await bump_catalog_version()
        users = []
        for n in range(SHOPPERS + 2):
            user = User(
                email=f"profile{n}@bench.test",
                name=f"Profile {n}",
                role="admin" if n == SHOPPERS + 1 else "customer",
                email_verified=True,
                password_hash="x",
            )
            await user.insert()
            users.append({"Authorization": f"Bearer {await issue_access_token(user)}"})
        *shoppers, buyer, admin = users
        # As the bench picks them: in stock, with room for the run's sales.
        stocked = await Product.find({"stock": {"$gte": 40}, "status": "active"}).to_list()
        ids = [str(p.id) for p in stocked[:20]]
        category = await Category.find_one({})
        client = app.test_client()
        # As a server process does after start-up: what is here now is left out of the
        # collector's walks, and full collections come as seldom.
        thresholds = gc.get_threshold()
        heap.freeze()

        async def add(headers, n):
            answer = await client.post(
                "/api/v1/cart/items",
                json={"product_id": ids[n % len(ids)], "quantity": 1},
                headers=headers,
            )
            assert answer.status_code in (200, 201), await answer.get_data()

        async def checkout(n):
            await add(buyer, n)
            placed = await client.post(
                "/api/v1/orders",
                json={"shipping_address": ADDRESS},
                headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert placed.status_code == 201, await placed.get_data()
            order = (await placed.get_json())["id"]
            paid = await client.post(
                f"/api/v1/orders/{order}/pay",
                json={"payment_method": "pm_card_visa"},
                headers={**buyer, "Idempotency-Key": uuid.uuid4().hex},
            )
            assert paid.status_code == 200, await paid.get_data()

        async def create(n):
            made = await client.post(
                "/api/v1/admin/products",
                json={
                    "name": f"Profiled Product {n}",
                    "description": "made by bench.profile",
                    "price": 1999,
                    "category": str(category.id),
                    "stock": 10,
                },
                headers=admin,
            )
            assert made.status_code == 201, await made.get_data()

        steps = {
            "add": lambda n: add(shoppers[n % SHOPPERS], n // SHOPPERS),
            "checkout": checkout,
            "create": create,
        }
        for name in scenarios:
            await steps[name](-1)  # warm up
            gc.collect()  # the start-up's garbage is not this scenario's
            profiler = cProfile.Profile() if profile else None
            collector = _GarbageCollector()
            started = time.process_time()
            if profiler:
                profiler.enable()
            with collector:
                for n in range(rounds):
                    await steps[name](n)
            if profiler:
                profiler.disable()
            cpu = (time.process_time() - started) * 1000 / rounds
            figures[name] = (cpu, collector.seconds * 1000 / rounds)
            if profiler:
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).sort_stats(SORT).print_stats(35)
                print(f"--- {name}, {products} synthetic products ---")
                print(out.getvalue())
    gc.unfreeze()  # the next size's app starts from a collectable heap
    gc.set_threshold(*thresholds)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--scenarios", default=",".join(SCENARIOS))
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    args = parser.parse_args()
    scenarios = [s for s in args.scenarios.split(",") if s]
    results = {}
    for size in (0, args.products):
        results[size] = asyncio.run(
            _run_size(size, rounds=args.rounds, scenarios=scenarios, profile=args.profile)
        )
    print(f"CPU ms per request (checkout: add, order and pay), demo catalog and +{args.products:,}")
    print("(of which in the garbage collector)")
    print(f"{'scenario':<10} {'demo':>14} {f'+{args.products:,}':>14} {'ratio':>7}")
    for name in scenarios:
        (small, small_gc), (big, big_gc) = results[0][name], results[args.products][name]
        print(
            f"{name:<10} {small:>6.2f} ({small_gc:>4.2f}) {big:>6.2f} ({big_gc:>4.2f}) "
            f"{big / small:>7.2f}"
        )


if __name__ == "__main__":
    main()
