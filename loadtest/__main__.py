"""`make loadtest`: the store under concurrent load, over real HTTP against a live server.

Starts the app with Hypercorn on a free loopback port (embedded engine, demo catalog), then:
1. 500 shoppers check out at once, competing for the last 50 units of one product: exactly
   50 orders, stock 0, 450 × 409, no 5xx.
2. 200 concurrent logins while catalog reads go on: every login succeeds, no 5xx, and the
   latency of the reads under that load is reported.
3. The last uses of a discount code (`codes.py`): 50 shoppers with the code on their carts
   check out at once with 5 uses left: exactly 5 orders carry it, 45 × 422 discount_invalid.
4. A webhook redelivery storm (`storm.py`): each event applied once, however often it comes.
5. Outgoing webhooks (`hooks.py`): 100 orders paid at once give exactly 100 `order.paid`
   deliveries to a receiver that verifies each signature (and fails some first attempts).
6. The fault run (`faults.py`): several app processes on a SecantusDB of its own, killed with
   SIGKILL at random while shoppers check out, pay and cancel and webhooks arrive; then the
   stock, ledger, outbox, idempotency and payment invariants, read from the database.
`python -m loadtest --only faults` (or LOADTEST_ONLY=faults; names: rush, codes, storm, hooks,
faults, comma-separated) runs some of them.
Prints a summary table and writes it to `loadtest/out/latest.md`; exits non-zero when a
check fails. Rate limiting is switched off for the run (it would rightly refuse 500
registrations from one address) and bcrypt runs at 10 rounds (~60 ms a hash) to keep the
set-up short; everything else is the app as it ships. All traffic goes to 127.0.0.1 and every
loop is bounded.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

OUT = Path(__file__).parent / "out"
PASSWORD = "Load-Test-Passw0rd!"
ADMIN = ("loadtest-admin@example.com", "Load-Test-Admin-Passw0rd!")
SHOPPERS = int(os.environ.get("LOADTEST_SHOPPERS", "500"))
UNITS = int(os.environ.get("LOADTEST_UNITS", "50"))
LOGINS = int(os.environ.get("LOADTEST_LOGINS", "200"))
READERS = 8
ADDRESS = {"line1": "1 Load St", "city": "Testville", "postal_code": "12345", "country": "US"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """The app under Hypercorn in a child process; stopped whatever happens."""

    def __init__(self, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "APP_ENV": "development",
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SEED_DEMO_CATALOG": "true",
            "ADMIN_EMAIL": ADMIN[0],
            "ADMIN_PASSWORD": ADMIN[1],
            "RATE_LIMIT_ENABLED": "false",
            "BCRYPT_ROUNDS": "10",
            "ORDER_JOBS_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            **env,
        }
        self.env.pop("MONGODB_URI", None)
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Server:
        OUT.mkdir(exist_ok=True)
        self.log = (OUT / "server.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.serve"],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"the server exited; see {OUT / 'server.log'}")
            try:
                if httpx.get(f"{self.base}/ready", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit("the server did not become ready in 60 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


@dataclass
class Result:
    name: str
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    wall: float = 0.0
    checks: list[tuple[str, bool]] = field(default_factory=list)
    figures: dict = field(default_factory=dict)

    def record(self, started: float, status: int) -> None:
        self.latencies.append(time.perf_counter() - started)
        self.statuses[status] += 1

    def check(self, what: str, ok: bool) -> None:
        self.checks.append((what, bool(ok)))

    @property
    def ok(self) -> bool:
        return all(ok for _, ok in self.checks)

    def row(self) -> str:
        lat = sorted(self.latencies) or [0.0]
        p50 = statistics.median(lat) * 1000
        p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] * 1000
        codes = ", ".join(f"{code}×{n}" for code, n in sorted(self.statuses.items()))
        return (
            f"| {self.name} | {len(self.latencies)} | {codes} | {p50:.0f} | {p99:.0f} "
            f"| {self.wall:.1f} | {'pass' if self.ok else 'FAIL'} |"
        )


async def timed(result: Result, request) -> httpx.Response:
    started = time.perf_counter()
    response = await request
    result.record(started, response.status_code)
    return response


async def bounded(limit: int, coroutines):
    gate = asyncio.Semaphore(limit)

    async def run(coroutine):
        async with gate:
            return await coroutine

    return await asyncio.gather(*(run(c) for c in coroutines))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def login(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def set_up_shoppers(client: httpx.AsyncClient, count: int) -> list[tuple[str, str]]:
    """Register and log in `count` shoppers: [(email, access token)]."""
    run = secrets.token_hex(3)

    async def one(n: int) -> tuple[str, str]:
        email = f"shopper{n}-{run}@example.com"
        registered = await client.post(
            "/api/v1/auth/register", json={"email": email, "password": PASSWORD, "name": "Shopper"}
        )
        registered.raise_for_status()
        signed_in = await login(client, email, PASSWORD)
        signed_in.raise_for_status()
        return email, signed_in.json()["access_token"]

    return await bounded(32, [one(n) for n in range(count)])


async def scarce_product(client: httpx.AsyncClient, admin_token: str, units: int) -> str:
    headers = bearer(admin_token)
    category = await client.post(
        "/api/v1/admin/categories", json={"name": f"Load {secrets.token_hex(3)}"}, headers=headers
    )
    category.raise_for_status()
    product = await client.post(
        "/api/v1/admin/products",
        json={
            "name": "Last Units Lamp",
            "description": "There are never enough.",
            "price": 4900,
            "currency": "usd",
            "category": category.json()["id"],
            "stock": units,
        },
        headers=headers,
    )
    product.raise_for_status()
    return product.json()["id"]


async def checkout_rush(client, admin_token, shoppers) -> Result:
    result = Result(f"{len(shoppers)} checkouts for {UNITS} units")
    product_id = await scarce_product(client, admin_token, UNITS)
    added = await bounded(
        32,
        [
            client.post(
                "/api/v1/cart/items",
                json={"product_id": product_id, "quantity": 1},
                headers=bearer(token),
            )
            for _, token in shoppers
        ],
    )
    result.check("every cart took the item", all(r.status_code == 200 for r in added))
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(
            timed(
                result,
                client.post(
                    "/api/v1/orders",
                    json={"shipping_address": ADDRESS},
                    headers={**bearer(token), "Idempotency-Key": f"rush-{n}"},
                ),
            )
            for n, (_, token) in enumerate(shoppers)
        )
    )
    result.wall = time.perf_counter() - started
    codes = Counter(r.status_code for r in responses)
    product = (await client.get(f"/api/v1/products/{product_id}")).json()
    orders = await client.get("/api/v1/admin/orders?per_page=1", headers=bearer(admin_token))
    result.check(f"exactly {UNITS} orders (201)", codes[201] == UNITS)
    result.check("the rest 409 insufficient_stock", codes[409] == len(shoppers) - UNITS)
    result.check("no 5xx", not any(code >= 500 for code in codes))
    result.check("stock is 0", product["stock"] == 0)
    result.check(f"{UNITS} orders stored", orders.json()["total"] == UNITS)
    return result


async def logins_under_reads(client, shoppers) -> list[Result]:
    logins = Result(f"{min(LOGINS, len(shoppers))} concurrent logins")
    reads = Result("catalog reads meanwhile")
    done = asyncio.Event()

    async def reader() -> None:
        paths = [
            "/api/v1/products",
            "/api/v1/products?sort=price&per_page=20",
            "/api/v1/categories",
        ]
        n = 0
        while not done.is_set() and n < 10_000:
            await timed(reads, client.get(paths[n % len(paths)]))
            n += 1

    readers = [asyncio.create_task(reader()) for _ in range(READERS)]
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(timed(logins, login(client, email, PASSWORD)) for email, _ in shoppers[:LOGINS])
    )
    logins.wall = time.perf_counter() - started
    done.set()
    await asyncio.gather(*readers)
    reads.wall = logins.wall
    logins.check("every login 200", all(r.status_code == 200 for r in responses))
    reads.check(
        "reads went on (no 5xx)", reads.latencies and not any(c >= 500 for c in reads.statuses)
    )
    return [logins, reads]


async def run(base: str) -> list[Result]:
    limits = httpx.Limits(max_connections=SHOPPERS + 50, max_keepalive_connections=SHOPPERS)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        admin = await login(client, *ADMIN)
        admin.raise_for_status()
        admin_token = admin.json()["access_token"]
        print(f">> registering {SHOPPERS} shoppers", flush=True)
        shoppers = await set_up_shoppers(client, SHOPPERS)
        print(">> checkout rush", flush=True)
        results = [await checkout_rush(client, admin_token, shoppers)]
    # Fresh connections: one left idle since the rush can be closed by the server's keep-alive
    # time-out just as a login goes out on it (httpx.ReadError on a busy machine).
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        print(">> logins under catalog reads", flush=True)
        results += await logins_under_reads(client, shoppers)
    return results


def report(results: list[Result]) -> str:
    lines = [
        "# Load test",
        "",
        "| scenario | requests | statuses | p50 ms | p99 ms | wall s | result |",
        "|---|---|---|---|---|---|---|",
        *(r.row() for r in results),
        "",
    ]
    for result in results:
        for what, ok in result.checks:
            lines.append(f"- {'✔' if ok else '✘'} {result.name}: {what}")
    for result in results:
        if result.figures:
            lines += ["", f"## {result.name}", "", "| figure | value |", "|---|---|"]
            lines += [f"| {name} | {value} |" for name, value in result.figures.items()]
    return "\n".join(lines) + "\n"


SCENARIOS = ("rush", "codes", "storm", "hooks", "faults")


def selected(argv: list[str]) -> set[str]:
    """`--only a,b` or LOADTEST_ONLY=a,b; everything by default."""
    only = os.environ.get("LOADTEST_ONLY", "")
    if "--only" in argv:
        index = argv.index("--only")
        only = argv[index + 1] if index + 1 < len(argv) else ""
    names = {name.strip() for name in only.split(",") if name.strip()} or set(SCENARIOS)
    unknown = names - set(SCENARIOS)
    if unknown:
        raise SystemExit(f"unknown scenario(s) {sorted(unknown)}; choose from {SCENARIOS}")
    return names


def main() -> int:
    from loadtest import codes, faults, hooks, storm

    names = selected(sys.argv[1:])
    results: list[Result] = []
    if "rush" in names:
        with Server() as server:
            results += asyncio.run(run(server.base))
    if "codes" in names:
        print(">> the last uses of a discount code", flush=True)
        results += asyncio.run(codes.run(sys.modules[__name__]))
    if "storm" in names:
        print(">> webhook redelivery storm", flush=True)
        results += asyncio.run(storm.run(sys.modules[__name__]))
    if "hooks" in names:
        print(">> outgoing webhooks: orders paid under load", flush=True)
        results += asyncio.run(hooks.run(sys.modules[__name__]))
    if "faults" in names:
        print(">> fault run: app processes killed at random under load", flush=True)
        results += faults.run(sys.modules[__name__])
    text = report(results)
    OUT.mkdir(exist_ok=True)
    (OUT / "latest.md").write_text(text)
    print(text)
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
