"""Servers, load and measurements for `make bench`: everything that touches processes.

Load goes to 127.0.0.1 only, every run is bounded in time (wrk `-d`, the driver's deadline)
and every server started here is stopped here.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HERE = Path(__file__).parent
OUT = HERE / "out"
LUA = HERE / "wrk.lua"
HOST = "127.0.0.1"
REQUEST_TIMEOUT = 15.0

# One worker: the embedded engine lives in the server's memory.
SERVERS: dict[str, list[str]] = {
    "hypercorn": ["-m", "hypercorn", "bench.asgi:app", "--workers", "1", "--bind", "{bind}"],
    "hypercorn+uvloop": [
        "-m", "hypercorn", "bench.asgi:app", "--workers", "1", "--bind", "{bind}",
        "--worker-class", "uvloop",
    ],
    "uvicorn": [
        "-m", "uvicorn", "bench.asgi:app", "--host", HOST, "--port", "{port}",
        "--no-access-log", "--log-level", "warning", "--loop", "uvloop", "--http", "httptools",
    ],
    "granian": [
        "-m", "granian", "--interface", "asgi", "--host", HOST, "--port", "{port}",
        "--workers", "1", "--no-ws", "--log-level", "warning", "bench.asgi:app",
    ],
}  # fmt: skip


def ensure_wrk() -> str:
    """wrk on PATH, installed from Debian's packages when we are root and it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(">> installing wrk (apt-get)", flush=True)
        quiet = {
            "stdout": subprocess.DEVNULL,
            "env": {**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        }
        if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], **quiet).returncode != 0:
            subprocess.run(["apt-get", "update", "-q"], check=True, **quiet)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True, **quiet)
        found = shutil.which("wrk")
    if not found:
        sys.exit("make bench needs wrk: `sudo apt-get install wrk` (or your system's package)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """One ASGI server process (and its children) serving bench.asgi:app."""

    kind: str
    products: int
    users: int = 0
    cache_mb: int = 32
    # A MongoDB server (the wire target) instead of the embedded engine, and the database.
    mongodb_uri: str | None = None
    database: str = "shop"
    admin: bool = False  # also an admin (admin@bench.test), for product creation
    orders: int = 0  # a year of synthetic orders (bench/orders.py), for the reports
    start_timeout: float = 180.0  # until it answers: seeding comes first
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float | None = None) -> Server:
        timeout = timeout or self.start_timeout
        args = [a.format(bind=f"{HOST}:{self.port}", port=self.port) for a in SERVERS[self.kind]]
        env = {
            **os.environ,
            "APP_ENV": "development",
            "SEED_DEMO_CATALOG": "true",
            "EMAIL_WORKER_ENABLED": "false",
            # Logins, registrations... are rate limited per IP: the whole load comes from one.
            "RATE_LIMIT_ENABLED": "false",
            "LOG_LEVEL": "WARNING",
            "CATALOG_CACHE_MB": str(self.cache_mb),
            "BENCH_PRODUCTS": str(self.products),
            "BENCH_USERS": str(self.users),
            "BENCH_ADMIN": "true" if self.admin else "",
            "BENCH_ORDERS": str(self.orders),
        }
        env.pop("MONGODB_URI", None)
        if self.mongodb_uri:
            env.update(
                MONGODB_URI=self.mongodb_uri,
                MONGODB_DB=self.database,
                SECRET_KEY=secrets.token_urlsafe(48),  # required with a server
            )
        OUT.mkdir(exist_ok=True)
        log = (OUT / f"server-{self.kind}.log").open("w")
        self.process = subprocess.Popen(
            [sys.executable, *args],
            cwd=HERE.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped as a whole
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited; see {log.name}")
            try:
                with urllib.request.urlopen(f"{self.base}/health", timeout=2) as response:
                    if response.status == 200:
                        return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer within {timeout:.0f} s")

    def pids(self) -> list[int]:
        """The server and its descendants (hypercorn always forks a worker)."""
        found, frontier = [], [self.process.pid]
        while frontier:
            pid = frontier.pop()
            found.append(pid)
            for task in Path(f"/proc/{pid}/task").glob("*"):
                children = (
                    (task / "children").read_text().split() if (task / "children").exists() else []
                )
                frontier.extend(int(child) for child in children)
        return found

    def peak_rss_mb(self) -> float:
        """The largest peak resident set (VmHWM) among the server's processes: the worker."""
        peaks = []
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        return max(peaks, default=0.0)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by the server's processes."""
        ticks = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        return ticks / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


WIRE_VENV = HERE.parent / ".venv-wire"


def _wire_server_pin() -> str:
    """The SecantusDB release `make test-wire` runs (scripts/test-wire names it)."""
    for line in (HERE.parent / "scripts" / "test-wire").read_text().splitlines():
        if line.startswith("SERVER="):
            return line.split("=", 1)[1]
    raise RuntimeError("scripts/test-wire names no SERVER")


def ensure_wire_server() -> Path:
    """SecantusDB's server command, installed into .venv-wire as `make test-wire` does."""
    pin = _wire_server_pin()
    command = WIRE_VENV / "bin" / "secantusd-py"
    stamp = WIRE_VENV / f".installed-{pin}"
    if not stamp.exists():
        print(f">> installing {pin} into {WIRE_VENV.name} (the wire target)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(WIRE_VENV)], check=True)
        pip = [str(WIRE_VENV / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        subprocess.run([*pip, "install", "-q", pin], check=True)
        stamp.touch()
    return command


@dataclass
class WireServer:
    """A SecantusDB single-node replica set of the bench's own (in memory), on a free port,
    stopped by its pid: the wire target, PyMongo's production path."""

    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    workdir: Path | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://{HOST}:{self.port}/?replicaSet=secantus"

    def start(self, timeout: float = 60.0) -> WireServer:
        import tempfile

        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        command = ensure_wire_server()
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-wire-"))
        config = self.workdir / "secantusd.toml"
        config.write_text("")  # no other config file can change the server
        OUT.mkdir(exist_ok=True)
        log = (OUT / "server-secantusdb.log").open("w")
        self.process = subprocess.Popen(
            [
                str(command), "--config", str(config), "--host", HOST, "--port", str(self.port),
                "--storage-path", ":memory:", "--log-level", "WARNING",
            ],
            env={**os.environ, "TMPDIR": str(self.workdir)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"SecantusDB exited; see {log.name}")
            client = MongoClient(self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
            try:
                client.admin.command("ping")
                return self
            except PyMongoError:  # not up yet
                time.sleep(0.2)
            finally:
                client.close()
        self.stop()
        raise RuntimeError(f"SecantusDB did not answer within {timeout:.0f} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> WireServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class Result:
    name: str
    requests: int = 0
    seconds: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: int = 0
    skipped: str | None = None
    note: str = ""
    # The server's CPU time per request (or per checkout flow) while this ran, when measured.
    server_cpu_ms: float = 0.0

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(
    server: Server,
    name: str,
    path: str,
    *,
    seconds: float,
    connections: int,
    method: str = "GET",
    bodies: list[str] | None = None,
    tokens: list[str] | None = None,
    if_none_match: str | None = None,
) -> Result:
    """Run wrk (one thread: the machine has two cores and the server needs one)."""
    env = {**os.environ, "BENCH_METHOD": method}
    if bodies:
        env["BENCH_BODIES"] = "\n".join(bodies)
    if tokens:
        env["BENCH_TOKENS"] = " ".join(tokens)
    if if_none_match:
        env["BENCH_IF_NONE_MATCH"] = if_none_match
    cpu_before = server.cpu_seconds()
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
        "-s", str(LUA), server.base + path,
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=seconds + 30)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("{")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result for {name}: {done.stdout}{done.stderr}")
    data = json.loads(line)
    errors = sum(data[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts"))
    cpu = server.cpu_seconds() - cpu_before
    return Result(
        name=name,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        errors=errors + data["status_errors"],
        server_cpu_ms=cpu * 1000 / data["requests"] if data["requests"] else 0.0,
    )


def call(server: Server, method: str, path: str, body=None, token=None, headers=None):
    """One request with the standard library: (status, parsed JSON or None, headers)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(server.base + path, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None, response.headers
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return error.code, parsed, error.headers


ADDRESS = {
    "name": "Bench Shopper",
    "line1": "1 Load Street",
    "city": "Loopback",
    "postal_code": "12345",
    "country": "US",
}


async def checkout_flow(
    server: Server, tokens: list[str], product_ids: list[str], *, seconds: float
) -> tuple[Result, Result]:
    """Each shopper in a loop: add one unit to the cart, check out, pay with pm_card_visa.

    wrk cannot carry an order id from one request to the next per connection, so this
    closed loop runs in Python (httpx, one connection per shopper); it times the checkout
    (`POST /orders`) and the payment (`POST /orders/{id}/pay`) separately.
    """
    timings: dict[str, list[float]] = {"checkout": [], "pay": []}
    errors = {"checkout": 0, "pay": 0}
    deadline = time.monotonic() + seconds

    async def shopper(index: int, token: str) -> None:
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(
            base_url=server.base, headers=headers, timeout=REQUEST_TIMEOUT
        ) as http:
            turn = index
            while time.monotonic() < deadline:
                turn += len(tokens)
                product = product_ids[turn % len(product_ids)]
                added = await http.post(
                    "/api/v1/cart/items", json={"product_id": product, "quantity": 1}
                )
                if added.status_code != 201 and added.status_code != 200:
                    errors["checkout"] += 1
                    continue
                started = time.perf_counter()
                placed = await http.post(
                    "/api/v1/orders",
                    json={"shipping_address": ADDRESS},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                timings["checkout"].append(time.perf_counter() - started)
                if placed.status_code != 201:
                    errors["checkout"] += 1
                    continue
                started = time.perf_counter()
                paid = await http.post(
                    f"/api/v1/orders/{placed.json()['id']}/pay",
                    json={"payment_method": "pm_card_visa"},
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                timings["pay"].append(time.perf_counter() - started)
                errors["pay"] += paid.status_code != 200

    async def guarded(index: int, token: str) -> None:
        try:
            await shopper(index, token)
        except httpx.HTTPError:  # a timeout ends this shopper's loop: counted, not fatal
            errors["checkout"] += 1

    started = time.monotonic()
    cpu_before = server.cpu_seconds()
    shoppers = [asyncio.create_task(guarded(i, token)) for i, token in enumerate(tokens)]
    _, late = await asyncio.wait(shoppers, timeout=seconds + REQUEST_TIMEOUT)
    for task in late:
        task.cancel()
    await asyncio.gather(*late, return_exceptions=True)
    elapsed = time.monotonic() - started
    cpu = server.cpu_seconds() - cpu_before
    flows = len(timings["checkout"])
    results = []
    for name in ("checkout", "pay"):
        samples = sorted(timings[name])
        results.append(
            Result(
                name=name,
                requests=len(samples),
                seconds=elapsed,
                p50_ms=_percentile(samples, 0.50) * 1000,
                p99_ms=_percentile(samples, 0.99) * 1000,
                errors=errors[name],
                # The whole flow (add, order, pay) per checkout: the loop's cost.
                server_cpu_ms=cpu * 1000 / flows if flows else 0.0,
            )
        )
    return results[0], results[1]


async def contention(
    server: Server, tokens: list[str], product_id: str, *, units: int
) -> tuple[Result, dict[int, int], int]:
    """Every shopper has one unit of `product_id` in the cart and all check out at once, for
    `units` units: (timings, status counts, stock after). Exactly `units` orders must win."""
    limits = httpx.Limits(max_connections=len(tokens) + 4)
    async with httpx.AsyncClient(
        base_url=server.base, timeout=REQUEST_TIMEOUT * 4, limits=limits
    ) as http:
        for token in tokens:
            added = await http.post(
                "/api/v1/cart/items",
                json={"product_id": product_id, "quantity": 1},
                headers={"Authorization": f"Bearer {token}"},
            )
            added.raise_for_status()
        await http.put(f"/bench/stock/{product_id}/{units}")

        async def one(token: str) -> tuple[float, int]:
            started = time.perf_counter()
            placed = await http.post(
                "/api/v1/orders",
                json={"shipping_address": ADDRESS},
                headers={"Authorization": f"Bearer {token}"},
            )
            return time.perf_counter() - started, placed.status_code

        started = time.perf_counter()
        outcomes = await asyncio.gather(*(one(token) for token in tokens))
        wall = time.perf_counter() - started
        stock = (await http.get(f"/api/v1/products/{product_id}")).json()["stock"]
    samples = sorted(seconds for seconds, _ in outcomes)
    statuses: dict[int, int] = {}
    for _, status in outcomes:
        statuses[status] = statuses.get(status, 0) + 1
    timing = Result(
        name=f"{len(tokens)} checkouts for the last {units} units",
        requests=len(samples),
        seconds=wall,
        p50_ms=_percentile(samples, 0.50) * 1000,
        p99_ms=_percentile(samples, 0.99) * 1000,
        errors=sum(n for status, n in statuses.items() if status >= 500),
    )
    return timing, statuses, stock


async def create_products(
    server: Server, token: str, category_id: str, *, count: int, chunk: int, connections: int = 4
) -> list[Result]:
    """Create `count` products through the admin API (`connections` at a time, distinct
    names): one Result per `chunk` of them, in order, so a rate that falls as the catalog
    grows shows as falling rows."""
    results: list[Result] = []
    limits = httpx.Limits(max_connections=connections)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=server.base, headers=headers, timeout=REQUEST_TIMEOUT, limits=limits
    ) as http:
        for first in range(0, count, chunk):
            numbers = iter(range(first, min(count, first + chunk)))
            timings: list[float] = []
            errors = 0

            async def creator(numbers=numbers, timings=timings) -> None:
                nonlocal errors
                for n in numbers:
                    started = time.perf_counter()
                    made = await http.post(
                        "/api/v1/admin/products",
                        json={
                            "name": f"Created Product {n:05d}",
                            "description": "Created through the admin API by the benchmark.",
                            "price": 1000 + n,
                            "category": category_id,
                            "stock": 25,
                        },
                    )
                    timings.append(time.perf_counter() - started)
                    errors += made.status_code != 201

            started = time.monotonic()
            cpu_before = server.cpu_seconds()
            await asyncio.gather(*(creator() for _ in range(connections)))
            elapsed = time.monotonic() - started
            cpu = server.cpu_seconds() - cpu_before
            samples = sorted(timings)
            last = min(count, first + chunk)
            results.append(
                Result(
                    name=f"products {first + 1:,}-{last:,}",
                    requests=len(samples),
                    seconds=elapsed,
                    p50_ms=_percentile(samples, 0.50) * 1000,
                    p99_ms=_percentile(samples, 0.99) * 1000,
                    errors=errors,
                    # Beside the rate (which other work on the machine moves): the server's
                    # own CPU time per product, which follows the work a creation does.
                    server_cpu_ms=cpu * 1000 / len(samples) if samples else 0.0,
                )
            )
    return results


def _percentile(samples: list[float], fraction: float) -> float:
    if not samples:
        return 0.0
    return samples[min(len(samples) - 1, round(fraction * (len(samples) - 1)))]
