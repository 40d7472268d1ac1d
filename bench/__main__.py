"""`python -m bench` (`make bench`): the shop over HTTP, under load, on this machine.

Serves `bench.asgi:app` (the real app plus a bare route) with one server worker on the
embedded engine, drives it with wrk from 127.0.0.1, and writes `bench/out/latest.md` and
`bench/out/ratios.png`. One run, about eight minutes:

1. for the demo catalog, 1,000 and 10,000 products: req/s, p50 and p99 of the bare route
   (the ceiling), the product list (plain, filtered, `q`), a product page, the category tree,
   login, add-to-cart, checkout and payment, each also as a ratio of the bare route; then a
   page of 20 and the other reads with the response cache switched off, one request at a time
   (what the database read path costs), and the server's peak RSS;
2. `/health` p99, idle and while 16 connections log in;
3. 50 shoppers checking out the last 10 units at once: wall time, answers, stock left;
4. Hypercorn, Hypercorn with uvloop, Uvicorn and Granian serving the same app;
5. admin product creation, 5,000 products through the API, timed per 500 (flat or not);
6. add to cart and the checkout flow again on the wire target: the app on PyMongo against a
   SecantusDB single-node replica set the bench starts on a free port (as `make test-wire`),
   at the demo catalog and 10,000 products, beside the embedded engine's figures;
7. add to cart at the demo catalog and at 10,000 products, the two servers up side by side and
   measured in turns (demo, 10,000, demo, ...; `FLAT_ROUNDS` each): the flatness target's
   figures, which a slower minute of the machine would skew if the sizes ran minutes apart;
8. the sales reports over a year of orders (`--orders`, 10,000; 100,000 recorded in
   bench/out/reports-100k.md): sales by day, week and
   month, top products, and CSV, one request at a time on the embedded engine (part
   `reports`; alone: `python -m bench --parts reports`).

`--parts` and `--scenarios` run a subset (e.g. `--parts sizes,wire --scenarios add,checkout`
for the write paths alone); the report states the targets it has figures for. Every load run
also records the app server's CPU time per request, which other work on the machine does
not inflate as it does req/s.

Why wrk: a C event loop that keeps 16 connections busy on a fraction of one core, so on a
two-core machine the server keeps the other; latency percentiles are exact (HdrHistogram);
Lua covers bodies and tokens; it installs from Debian's packages. A Python load generator
would need about as much CPU as the server it measures. The checkout flow (cart, order, pay,
carrying the order id along) runs in a small Python closed loop instead.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import threading
import time
import urllib.request

from app.catalog.demo import PRODUCTS, VARIANT_PRODUCTS
from app.catalog.slugs import slugify
from bench import harness, report
from bench.harness import Result, Server, call, wrk
from bench.report import FlatRun, Run, SizeRun

CONNECTIONS = 16
CHECKOUT_STOCK = 100_000  # units of each product the cart and checkout scenarios use
SIZE_SCENARIOS = frozenset({"reads", "login", "add", "checkout", "uncached"})
PARTS = ("sizes", "health", "contention", "servers", "create", "wire", "flat", "reports")
FLAT_ROUNDS = 3  # turns of add to cart per catalog size in the `flat` part
# A year of orders for the reports part: 10,000 keeps `make bench` within minutes on the
# embedded engine; bench/out/reports-100k.md records `--orders 100000`.
REPORT_ORDERS = 10_000
REPORT_REPEATS = 1
CREATE_COUNT, CREATE_CHUNK = 5_000, 500
SEED_TIMEOUT = 600.0  # 10,000 products over the wire take a while to insert
USERS = 8
DEMO_PRODUCTS = len(PRODUCTS) + len(VARIANT_PRODUCTS)  # the demo catalog
# The server production runs (the Dockerfile's: uvicorn with uvloop and httptools), one worker.
SERVER = "uvicorn"
PASSWORD = "Bench-Password-2026"
PAGE = "/api/v1/products/trail-running-shoe"
READS = [
    ("product list", "/api/v1/products"),
    ("product list, filtered", "/api/v1/products?category=apparel&in_stock=true&sort=price"),
    ("product list, q", "/api/v1/products?q=waterproof+jacket"),
    # Issue 18: a page of 20 with the facets (brand, color, size, category, price range).
    ("product list, facets", "/api/v1/products?facets=true&in_stock=true"),
    ("product page", PAGE),
    ("categories", "/api/v1/categories"),
]


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _login(server: Server, n: int) -> str:
    status, body, _ = call(
        server,
        "POST",
        "/api/v1/auth/login",
        {"email": f"shopper{n}@bench.test", "password": PASSWORD},
    )
    if status != 200:
        raise RuntimeError(f"bench login failed: {status} {body}")
    return body["access_token"]


def _buyable(server: Server, count: int) -> list[str]:
    """Ids of `count` in-stock products of the demo catalog with one variant each: the same
    products at every catalog size, so that sizes compare the same requests (the newest
    products of a big catalog are the synthetic ones, shaped differently). The scenarios
    that buy them set their stock first."""
    ids = []
    for row in PRODUCTS:
        status, product, _ = call(server, "GET", f"/api/v1/products/{slugify(row[1])}")
        if status == 200 and product["stock"] > 0 and len(product["variants"]) == 1:
            ids.append(product["id"])
        if len(ids) == count:
            return ids
    raise RuntimeError(f"the demo catalog has fewer than {count} products to buy")


def _stocked(server: Server, count: int) -> list[str]:
    """`_buyable` products with stock for the whole run (the demo catalog has 40 to 250 units
    of these): an add or a checkout refused for stock would be an error, not a measured
    request."""
    product_ids = _buyable(server, count)
    for product_id in product_ids:
        status, _, _ = call(server, "PUT", f"/bench/stock/{product_id}/{CHECKOUT_STOCK}")
        assert status == 200, f"setting the stock of {product_id} answered {status}"
    return product_ids


def _add_to_cart(
    server: Server, tokens: list[str], product_ids: list[str], *, seconds: float
) -> Result:
    bodies = [f'{{"product_id": "{pid}", "quantity": 1}}' for pid in product_ids]
    return wrk(
        server, "add to cart", "/api/v1/cart/items", seconds=seconds, connections=CONNECTIONS,
        method="POST", bodies=bodies, tokens=tokens,
    )  # fmt: skip


def _route_missing(server: Server, method: str, path: str, **kwargs) -> bool:
    status, _, _ = call(server, method, path, **kwargs)
    return status in (404, 405)


def run_size(
    label: str,
    products: int,
    *,
    seconds: float,
    scenarios: set[str] = SIZE_SCENARIOS,
    mongodb_uri: str | None = None,
) -> SizeRun:
    synthetic = max(0, products - DEMO_PRODUCTS)
    engine = "the wire target" if mongodb_uri else "the embedded engine"
    _log(f"catalog {label}: {SERVER} on {engine} with {synthetic + DEMO_PRODUCTS} products")
    run = SizeRun(label=label, products=synthetic + DEMO_PRODUCTS, wire=bool(mongodb_uri))
    database = f"bench_{products}"
    with Server(
        SERVER,
        products=synthetic,
        users=2 * USERS,
        mongodb_uri=mongodb_uri,
        database=database,
        start_timeout=SEED_TIMEOUT,
    ) as server:
        run.results.append(
            wrk(server, "bare route", "/bench/bare", seconds=seconds, connections=CONNECTIONS)
        )
        if "reads" in scenarios:
            for name, path in READS:
                status, _, _headers = call(server, "GET", path)
                assert status == 200, (path, status)
                run.results.append(
                    wrk(server, name, path, seconds=seconds, connections=CONNECTIONS)
                )
            etag = call(server, "GET", READS[0][1])[2]["ETag"]
            revalidated = wrk(
                server, "product list, revalidated (304)", READS[0][1],
                seconds=seconds, connections=CONNECTIONS, if_none_match=etag,
            )  # fmt: skip
            run.results.append(revalidated)

        tokens = [_login(server, n) for n in range(USERS)]  # they fill carts
        buyers = [_login(server, n) for n in range(USERS, 2 * USERS)]  # they check out
        logins = [
            f'{{"email": "shopper{n}@bench.test", "password": "{PASSWORD}"}}' for n in range(USERS)
        ]
        if "login" in scenarios:
            run.results.append(
                wrk(server, "login", "/api/v1/auth/login", seconds=seconds,
                    connections=CONNECTIONS, method="POST", bodies=logins)
            )  # fmt: skip

        product_ids = _stocked(server, 20)
        if "add" not in scenarios:
            pass
        elif _route_missing(server, "POST", "/api/v1/cart/items", body={}, token=tokens[0]):
            run.results.append(Result("add to cart", skipped="POST /api/v1/cart/items answers 404"))
        else:
            run.results.append(_add_to_cart(server, tokens, product_ids, seconds=seconds))
        if "checkout" not in scenarios:
            pass
        elif _route_missing(server, "POST", "/api/v1/orders", body={}, token=tokens[0]):
            for name in ("checkout", "pay"):
                run.results.append(Result(name, skipped="POST /api/v1/orders answers 404"))
        else:
            checkout, pay = asyncio.run(
                harness.checkout_flow(server, buyers, product_ids, seconds=seconds + 2)
            )
            run.results.extend([checkout, pay])

        # The read path without the response cache: one request at a time, so p50 is what a
        # request costs, not the time it queued.
        if "uncached" in scenarios:
            call(server, "PUT", "/bench/catalog-cache/off")
            for name, path in READS:
                call(server, "GET", path)
                run.uncached.append(
                    wrk(server, name, path, seconds=max(2.0, seconds / 2), connections=1)
                )
            call(server, "PUT", "/bench/catalog-cache/on")
        run.peak_rss_mb = server.peak_rss_mb()
    return run


def run_creation(*, count: int = CREATE_COUNT, chunk: int = CREATE_CHUNK) -> list[Result]:
    """Admin product creation, one chunk after another, from the demo catalog up."""
    _log(f"product creation: {count:,} products through the admin API")
    with Server(SERVER, products=0, admin=True) as server:
        status, body, _ = call(
            server,
            "POST",
            "/api/v1/auth/login",
            {"email": "admin@bench.test", "password": PASSWORD},
        )
        if status != 200:
            raise RuntimeError(f"bench admin login failed: {status} {body}")
        _, categories, _ = call(server, "GET", "/api/v1/categories")
        category = categories[0]["id"]
        return asyncio.run(
            harness.create_products(
                server, body["access_token"], category, count=count, chunk=chunk
            )
        )


def _fetch(server: Server, path: str, *, token: str, accept: str | None) -> int:
    """GET `path` and read the whole answer (JSON or CSV); returns the status."""
    headers = {"Authorization": f"Bearer {token}", "Accept": accept or "application/json"}
    request = urllib.request.Request(server.base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=600) as response:
        response.read()
        return response.status


def _admin_token(server: Server) -> str:
    status, body, _ = call(
        server, "POST", "/api/v1/auth/login", {"email": "admin@bench.test", "password": PASSWORD}
    )
    if status != 200:
        raise RuntimeError(f"bench admin login failed: {status} {body}")
    return body["access_token"]


def run_reports(*, orders: int = REPORT_ORDERS, repeats: int = REPORT_REPEATS) -> list[Result]:
    """The admin's reports over a year of `orders`, one request at a time: each timed
    `repeats` times (p50, slowest), with the server's CPU time per request."""
    _log(f"reports: {orders:,} orders over a year, {repeats} requests per report")
    with Server(
        "hypercorn", products=0, admin=True, orders=orders, start_timeout=SEED_TIMEOUT
    ) as server:
        today = time.strftime("%Y-%m-%d", time.gmtime())
        year_ago = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 365 * 86400))
        span = f"from={year_ago}&to={today}"
        cases = [
            ("sales by day, a year", f"/api/v1/admin/reports/sales?{span}&interval=day", None),
            ("sales by week, a year", f"/api/v1/admin/reports/sales?{span}&interval=week", None),
            ("sales by month, a year", f"/api/v1/admin/reports/sales?{span}&interval=month", None),
            ("top 10 products, a year", f"/api/v1/admin/reports/top-products?{span}", None),
            ("sales by day, a year, CSV", f"/api/v1/admin/reports/sales?{span}", "text/csv"),
            (
                "sales by day, one month",
                f"/api/v1/admin/reports/sales?from={today[:8]}01&to={today}",
                None,
            ),
        ]
        results = []
        for name, path, accept in cases:
            # A fresh token per report: a year of orders can outlast an access token.
            token = _admin_token(server)
            timings = []
            cpu_before = server.cpu_seconds()
            for _ in range(repeats):
                started = time.perf_counter()
                status = _fetch(server, path, token=token, accept=accept)
                timings.append(time.perf_counter() - started)
                if status != 200:
                    raise RuntimeError(f"{path} answered {status}")
            cpu = server.cpu_seconds() - cpu_before
            timings.sort()
            _log(
                f"  {name}: p50 {timings[len(timings) // 2]:.2f} s, {cpu / repeats:.2f} s CPU each"
            )
            results.append(
                Result(
                    name,
                    requests=repeats,
                    seconds=sum(timings),
                    p50_ms=timings[len(timings) // 2] * 1000,
                    p99_ms=timings[-1] * 1000,
                    server_cpu_ms=cpu / repeats * 1000,
                    note=f"{orders:,} orders",
                )
            )
        return results


def run_wire(sizes: list[str], *, seconds: float) -> list[SizeRun]:
    """The write scenarios again, the app on PyMongo against a SecantusDB of our own."""
    _log("wire target: starting SecantusDB")
    runs = []
    with harness.WireServer() as wire:
        for size in sizes:
            products, label = _products(size), _label(size)
            runs.append(
                run_size(
                    label,
                    products,
                    seconds=seconds,
                    scenarios={"add", "checkout"},
                    mongodb_uri=wire.uri,
                )
            )
    return runs


def run_health(*, seconds: float) -> tuple[Result, Result, Result]:
    _log("/health idle and under 16 concurrent logins")
    with Server(SERVER, products=0, users=USERS) as server:
        idle = wrk(server, "/health idle", "/health", seconds=seconds, connections=1)
        logins = [
            f'{{"email": "shopper{n}@bench.test", "password": "{PASSWORD}"}}' for n in range(USERS)
        ]
        background: dict[str, Result] = {}

        def login_load() -> None:
            background["login"] = wrk(
                server, "16 concurrent logins", "/api/v1/auth/login", seconds=seconds + 2,
                connections=16, method="POST", bodies=logins,
            )  # fmt: skip

        thread = threading.Thread(target=login_load)
        thread.start()
        time.sleep(1.0)
        busy = wrk(server, "/health under logins", "/health", seconds=seconds, connections=1)
        thread.join()
    return idle, busy, background["login"]


def run_contention(*, shoppers: int = 50, units: int = 10):
    _log(f"contention: {shoppers} shoppers check out the last {units} units at once")
    with Server(SERVER, products=0, users=shoppers) as server:
        tokens = [_login(server, n) for n in range(shoppers)]
        product_id = _buyable(server, 1)[0]
        return asyncio.run(harness.contention(server, tokens, product_id, units=units))


def run_flat(sizes: list[str], *, seconds: float, rounds: int = FLAT_ROUNDS) -> FlatRun:
    """Add to cart on one server per catalog size, all up at once, measured in turns."""
    labels = [_label(size) for size in sizes]
    _log(f"flatness: add to cart at {', '.join(labels)} products, {rounds} turns each")
    with contextlib.ExitStack() as stack:
        shops = []
        for size in sizes:
            synthetic = max(0, _products(size) - DEMO_PRODUCTS)
            server = stack.enter_context(
                Server(SERVER, products=synthetic, users=USERS, start_timeout=SEED_TIMEOUT)
            )
            tokens = [_login(server, n) for n in range(USERS)]
            shops.append((server, tokens, _stocked(server, 20)))
        flat = FlatRun(labels=labels, rounds=[[] for _ in sizes])
        for _ in range(rounds):
            for index, (server, tokens, product_ids) in enumerate(shops):
                flat.rounds[index].append(
                    _add_to_cart(server, tokens, product_ids, seconds=seconds)
                )
        return flat


def _products(size: str) -> int:
    return DEMO_PRODUCTS if size == "demo" else int(size)


def _label(size: str) -> str:
    return "demo" if size == "demo" else f"{int(size):,}"


def run_servers(*, seconds: float, kinds: list[str]) -> dict[str, list[Result]]:
    figures = {}
    for kind in kinds:
        _log(f"server comparison: {kind}")
        with Server(kind, products=0) as server:
            figures[kind] = [
                wrk(server, name, path, seconds=seconds, connections=CONNECTIONS)
                for name, path in [("bare route", "/bench/bare"), READS[0], READS[3]]
            ]
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="length of each load run")
    parser.add_argument("--sizes", default="demo,1000,10000", help="catalog sizes to run")
    parser.add_argument("--servers", default=",".join(harness.SERVERS), help="servers to compare")
    parser.add_argument(
        "--parts", default=",".join(PARTS), help=f"what to run, of {','.join(PARTS)}"
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(sorted(SIZE_SCENARIOS)),
        help=f"per catalog size, of {','.join(sorted(SIZE_SCENARIOS))}",
    )
    parser.add_argument(
        "--wire-sizes", default="demo,10000", help="catalog sizes for the wire target"
    )
    parser.add_argument(
        "--flat-sizes", default="demo,10000", help="catalog sizes for the flatness turns"
    )
    parser.add_argument(
        "--create", type=int, default=CREATE_COUNT, help="products created through the API"
    )
    parser.add_argument(
        "--orders", type=int, default=REPORT_ORDERS, help="a year of orders for the reports"
    )
    args = parser.parse_args()
    parts = {p for p in args.parts.split(",") if p}
    scenarios = {s for s in args.scenarios.split(",") if s}
    if parts - set(PARTS) or scenarios - SIZE_SCENARIOS:
        parser.error(f"unknown: {sorted((parts - set(PARTS)) | (scenarios - SIZE_SCENARIOS))}")
    harness.ensure_wrk()
    started = time.monotonic()
    run = Run(seconds=args.seconds, connections=CONNECTIONS)
    before = os.getloadavg()[0]
    if "sizes" in parts:
        for size in args.sizes.split(","):
            products, label = _products(size), _label(size)
            run.sizes.append(run_size(label, products, seconds=args.seconds, scenarios=scenarios))
    if "health" in parts:
        run.health_idle, run.health_busy, run.health_logins = run_health(seconds=args.seconds)
    if "contention" in parts:
        run.contention = run_contention()
    if "servers" in parts:
        kinds = [k for k in args.servers.split(",") if k]
        run.servers = run_servers(seconds=args.seconds, kinds=kinds)
    if "create" in parts:
        run.creation = run_creation(count=args.create, chunk=max(1, args.create // 10))
    if "wire" in parts:
        run.wire = run_wire(args.wire_sizes.split(","), seconds=args.seconds)
    if "flat" in parts:
        run.flat = run_flat(args.flat_sizes.split(","), seconds=args.seconds)
    if "reports" in parts:
        run.reports = run_reports(orders=args.orders)
    run.elapsed = time.monotonic() - started
    run.load = (before, os.getloadavg()[0])
    markdown = report.write(run)
    print(markdown)
    _log(f"wrote {report.LATEST} and {report.CHART} in {run.elapsed:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
