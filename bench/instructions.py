"""`python -m bench.instructions`: the server's work per checkout flow and per created product,
counted in CPU instructions (valgrind's callgrind), which other work on the machine does not move.

The bench's server (`bench.asgi` under hypercorn, or `--server`; one worker, the embedded
engine, the bench's settings) runs under `valgrind --tool=callgrind` with instrumentation off;
it is switched on (`callgrind_control -i on`) only around the requests measured, so start-up
and seeding are not counted. Two figures, each the server processes' instructions divided by
the requests' count:

- checkout: 8 shoppers at once, each `--flows` times: add one unit, `POST /orders`,
  `POST /orders/{id}/pay` with `pm_card_visa` (two warm-up flows each first);
- creation: `POST /admin/products` (distinct names), the first `--chunk` products and, after
  `--create` more made uninstrumented, the next `--chunk`: equal figures mean flat.

Under valgrind the server runs ~30x slower: keep the counts small. Compare two trees by
running it from each (e.g. a `git worktree` of another branch with the venvs linked in).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import httpx

from bench.asgi import BENCH_PASSWORD
from bench.harness import ADDRESS, SERVERS, free_port

HERE = Path(__file__).resolve().parent
SHOPPERS = 8


def _server(kind: str, products: int, out: Path, port: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "APP_ENV": "development",
        "SEED_DEMO_CATALOG": "true",
        "EMAIL_WORKER_ENABLED": "false",
        "RATE_LIMIT_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        "BENCH_PRODUCTS": str(products),
        "BENCH_USERS": str(SHOPPERS),
        "BENCH_ADMIN": "true",
        "BCRYPT_ROUNDS": "4",  # logins are not what is counted
        "PYTHONHASHSEED": "0",
    }
    env.pop("MONGODB_URI", None)
    command = [
        "valgrind", "--tool=callgrind", "--trace-children=yes", "--instr-atstart=no",
        f"--callgrind-out-file={out}/callgrind.%p", sys.executable,
        *(a.format(bind=f"127.0.0.1:{port}", port=port) for a in SERVERS[kind]),
    ]  # fmt: skip
    log = (out / "server.log").open("w")
    return subprocess.Popen(
        command, cwd=HERE.parent, env=env, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


class _Counter:
    """Switches callgrind's instrumentation in the server's processes and reads the counts."""

    def __init__(self, process: subprocess.Popen, out: Path) -> None:
        self.process, self.out = process, out

    def _pids(self) -> list[str]:
        found = subprocess.run(
            ["pgrep", "-s", str(self.process.pid)], capture_output=True, text=True
        )
        return found.stdout.split()

    def _control(self, *args: str) -> None:
        for pid in self._pids():
            subprocess.run(["callgrind_control", *args, pid], capture_output=True)

    async def count(self, work) -> int:
        """Instructions the server ran during `work()` (a dump per call: counters restart)."""
        before = set(self.out.glob("callgrind.*"))
        self._control("-i", "on")
        await work()
        self._control("-i", "off")
        self._control("-d")
        for _ in range(100):  # the dump is written asynchronously
            dumps = set(self.out.glob("callgrind.*")) - before
            if len(dumps) >= len(self._pids()):
                break
            await asyncio.sleep(0.1)
        return sum(_totals(path) for path in dumps)


def _totals(path: Path) -> int:
    for line in path.read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    return 0


async def _measure(base: str, counter: _Counter, *, flows: int, create: int, chunk: int) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=600) as http:
        for _ in range(900):
            try:
                if (await http.get("/health")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(1)
        else:
            raise RuntimeError("the server did not start (see server.log)")

        async def login(email: str) -> dict[str, str]:
            answer = await http.post(
                "/api/v1/auth/login", json={"email": email, "password": BENCH_PASSWORD}
            )
            return {"Authorization": f"Bearer {answer.json()['access_token']}"}

        shoppers = [await login(f"shopper{n}@bench.test") for n in range(SHOPPERS)]
        admin = await login("admin@bench.test")
        listing = await http.get("/api/v1/products", params={"in_stock": "true", "per_page": 100})
        ids = []
        for item in listing.json()["items"]:
            product = (await http.get(f"/api/v1/products/{item['slug']}")).json()
            if product["stock"] >= 40:
                ids.append(product["id"])
        ids = ids[:20]
        category = (await http.get("/api/v1/categories")).json()
        category = category["items"][0]["id"] if isinstance(category, dict) else category[0]["id"]

        async def shopper(index: int, headers: dict[str, str], count: int) -> None:
            for turn in range(count):
                product = ids[(index + SHOPPERS * turn) % len(ids)]
                added = await http.post(
                    "/api/v1/cart/items",
                    json={"product_id": product, "quantity": 1},
                    headers=headers,
                )
                assert added.status_code in (200, 201), added.text
                placed = await http.post(
                    "/api/v1/orders",
                    json={"shipping_address": ADDRESS},
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                )
                assert placed.status_code == 201, placed.text
                paid = await http.post(
                    f"/api/v1/orders/{placed.json()['id']}/pay",
                    json={"payment_method": "pm_card_visa"},
                    headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
                )
                assert paid.status_code == 200, paid.text

        async def checkouts(count: int) -> None:
            await asyncio.gather(*(shopper(i, h, count) for i, h in enumerate(shoppers)))

        made = iter(range(10**6))

        async def creations(count: int) -> None:
            for _ in range(count):
                answer = await http.post(
                    "/api/v1/admin/products",
                    json={
                        "name": f"Counted Product {next(made):06d}",
                        "description": "Created by bench.instructions.",
                        "price": 1999,
                        "category": category,
                        "stock": 25,
                    },
                    headers=admin,
                )
                assert answer.status_code == 201, answer.text

        if flows:
            await checkouts(2)  # warm-up
            spent = await counter.count(lambda: checkouts(flows))
            print(
                f"checkout: {SHOPPERS * flows} flows, "
                f"{spent / (SHOPPERS * flows) / 1e6:.2f} M instructions per flow"
            )
        if chunk:
            await creations(5)  # warm-up
            first = await counter.count(lambda: creations(chunk))
            await creations(create)
            last = await counter.count(lambda: creations(chunk))
            print(
                f"creation: {first / chunk / 1e6:.3f} M instructions per product for the first "
                f"{chunk}, {last / chunk / 1e6:.3f} M for {chunk} after {create:,} more "
                f"({last / first:.1%})"
            )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    parser.add_argument("--server", default="hypercorn", choices=sorted(SERVERS))
    parser.add_argument("--products", type=int, default=0, help="synthetic products seeded")
    parser.add_argument("--flows", type=int, default=10, help="checkout flows per shopper")
    parser.add_argument("--create", type=int, default=2000, help="products made between chunks")
    parser.add_argument("--chunk", type=int, default=100, help="products counted per chunk")
    args = parser.parse_args()
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        sys.exit("bench.instructions needs valgrind (callgrind and callgrind_control)")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # bench.asgi's app set INFO up
    out = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    port = free_port()
    process = _server(args.server, args.products, out, port)
    try:
        asyncio.run(
            _measure(
                f"http://127.0.0.1:{port}",
                _Counter(process, out),
                flows=args.flows,
                create=args.create,
                chunk=args.chunk,
            )
        )
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)
        shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
