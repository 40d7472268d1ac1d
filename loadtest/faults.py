"""The crash-safety fault run: shoppers check out, pay, cancel and receive webhooks while app
processes are killed with SIGKILL at random moments and restarted; then every invariant is
checked by reading the database directly.

Set-up: an own SecantusDB (the wire target of `make test-wire`: .venv-wire, a free loopback
port, a single-node replica set, stopped whatever happens), an SMTP sink, and APPS app
processes (`python -m app.serve`) on one database, each with the in-app jobs on (email
sender, order expiry with the shortest allowed payment time-out, refund retries, payment
reconciliation), so the kills hit them too. Payments use the dev provider, whose intents live
in the database (`dev_payment_intents`): that collection is the provider's record. The run
plays the provider's other side as well: some shoppers pay on the "provider's page" (the
intent is confirmed in that collection, not through `/pay`), and the provider's webhooks
(`payment_intent.succeeded` for every payment, `charge.refunded` for every refund) are signed
with DEV_WEBHOOK_SECRET and delivered, one to three times each, to any process, again until
acknowledged, as Stripe does.

A killer SIGKILLs a random app process every 1-4 s (seeded: LOADTEST_FAULT_SEED; printed) and
starts it again on the same port. Clients do what real clients do: a request that meets a
dead process (connection error) or a 5xx is sent again to another process, with the same
Idempotency-Key where it has one.

After the load the killing stops, the jobs are given time to finish (expiry, outbox, refund
retries, reconciliation), every Idempotency-Key is replayed, and the invariants are checked.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
WIRE_VENV = ROOT / ".venv-wire"
WIRE_SERVER = "secantusdb==0.7.0b3"
APPS = int(os.environ.get("LOADTEST_FAULT_APPS", "3"))
SHOPPERS = int(os.environ.get("LOADTEST_FAULT_SHOPPERS", "36"))
LOAD_SECONDS = float(os.environ.get("LOADTEST_FAULT_SECONDS", "90"))
MIN_KILLS = int(os.environ.get("LOADTEST_FAULT_KILLS", "20"))
DRAIN_SECONDS = 240.0  # jobs finishing: expiry (60 s), a dead /pay's lease (120 s), retries
PRODUCTS = [("Crash Kettle", 2500, 80), ("Crash Mug", 900, 120), ("Crash Lamp", 4900, 60)]
PRODUCTS += [(f"Crash Item {n}", 1000 + 100 * n, 70) for n in range(1, 6)]
WEBHOOK_SECRET = "whsec_" + secrets.token_hex(16)
PASSWORD = "Fault-Test-Passw0rd!"
ADMIN = ("fault-admin@example.com", "Fault-Test-Admin-Passw0rd!")
ADDRESS = {"line1": "1 Crash St", "city": "Testville", "postal_code": "12345", "country": "US"}
# What "the request met a dead process" looks like to a client.
DEAD = (httpx.TransportError,)


def log(message: str) -> None:
    print(f">> faults: {message}", flush=True)


# -- the database and the mail sink -----------------------------------------------------------


def ensure_wire_server() -> Path:
    """SecantusDB in .venv-wire, installed as scripts/test-wire installs it."""
    stamp = WIRE_VENV / f".installed-{WIRE_SERVER}"
    if not stamp.exists():
        log(f"installing {WIRE_SERVER} into {WIRE_VENV}")
        subprocess.run(["python3", "-m", "venv", str(WIRE_VENV)], check=True)
        subprocess.run(
            [str(WIRE_VENV / "bin/python"), "-m", "pip", "install", "-q", WIRE_SERVER],
            check=True,
            timeout=600,
        )
        stamp.touch()
    return WIRE_VENV / "bin/secantusd-py"


class WireServer:
    """Our own SecantusDB on a free loopback port; stopped whatever happens."""

    def __init__(self, free_port) -> None:
        self.free_port = free_port
        self.process: subprocess.Popen | None = None
        self.work = Path(tempfile.mkdtemp(prefix="shop-faults-"))

    def __enter__(self) -> WireServer:
        try:
            return self._start()
        except BaseException:
            self.__exit__()
            raise

    def _start(self) -> WireServer:
        from pymongo import MongoClient

        binary = ensure_wire_server()
        config = self.work / "secantusd.toml"
        config.write_text("")
        for _ in range(3):
            self.port = self.free_port()
            self.uri = f"mongodb://127.0.0.1:{self.port}/?replicaSet=secantus"
            self.log = (self.work / "server.log").open("w")
            self.process = subprocess.Popen(
                [
                    *(str(binary), "--config", str(config), "--host", "127.0.0.1"),
                    *("--port", str(self.port), "--storage-path", ":memory:"),
                    *("--log-level", "WARNING"),
                ],
                env={**os.environ, "TMPDIR": str(self.work)},
                stdout=self.log,
                stderr=subprocess.STDOUT,
            )
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and self.process.poll() is None:
                client = MongoClient(self.uri, serverSelectionTimeoutMS=500, connectTimeoutMS=500)
                try:
                    client.admin.command("ping")
                    log(f"SecantusDB (pid {self.process.pid}) on 127.0.0.1:{self.port}")
                    return self
                except Exception:
                    time.sleep(0.2)
                finally:
                    client.close()
            self._stop()  # exited (port taken?) or never answered: another port
        raise SystemExit("faults: could not start SecantusDB")

    def _stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None

    def __exit__(self, *exc) -> None:
        self._stop()
        shutil.rmtree(self.work, ignore_errors=True)
        log("stopped SecantusDB")


class MailSink:
    """An SMTP server on loopback that counts what it receives, by Message-ID."""

    def __init__(self, port: int) -> None:
        from aiosmtpd.controller import Controller

        self.received: Counter = Counter()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                for line in envelope.content.decode("utf-8", "replace").splitlines():
                    if line.lower().startswith("message-id:"):
                        sink.received[line.split(":", 1)[1].strip()] += 1
                        break
                return "250 OK"

        self.port = port
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)

    def __enter__(self) -> MailSink:
        self.controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self.controller.stop()


# -- the app processes ------------------------------------------------------------------------


class App:
    """One app process on a fixed port: started, killed and started again."""

    def __init__(self, n: int, port: int, env: dict[str, str], out: Path) -> None:
        self.n, self.port, self.env = n, port, env
        self.base = f"http://127.0.0.1:{port}"
        self.log = (out / f"fault-app-{n}.log").open("w")
        self.process: subprocess.Popen | None = None
        self.starts = 0
        self.answered = False  # since its last start (a kill before that hits its start-up)
        self.down_until = 0.0  # a client that met it dead tries the others first a while
        self.started_at = 0.0
        self.start_up_seconds: list[float] = []  # start to ready, each time it got there

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app.serve"],
            env={**self.env, "PORT": str(self.port)},
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        self.answered = False
        self.started_at = time.monotonic()

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    async def ready(self, client: httpx.AsyncClient, seconds: float = 90) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app {self.n} exited with {self.process.returncode}")
            try:
                if (await client.get(f"{self.base}/ready", timeout=2)).status_code == 200:
                    if not self.answered:
                        self.start_up_seconds.append(time.monotonic() - self.started_at)
                    self.answered = True
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError(f"app {self.n} not ready in {seconds:.0f} s")


# -- the traffic ------------------------------------------------------------------------------


@dataclass
class Tally:
    statuses: Counter = field(default_factory=Counter)
    dead: int = 0  # requests that met a killed process (connection refused or cut)
    server_errors: list[str] = field(default_factory=list)  # 5xx from a live process
    latencies: list[float] = field(default_factory=list)


class Cluster:
    """Requests to any live app process, sent again elsewhere when one dies."""

    def __init__(self, apps: list[App], client: httpx.AsyncClient, rng: random.Random) -> None:
        self.apps, self.client, self.rng = apps, client, rng
        self.tally = Tally()

    async def request(
        self, method: str, path: str, *, deadline: float, **kwargs
    ) -> httpx.Response | None:
        """Send until a live process answers without a 5xx (or `deadline` passes: None)."""
        while time.monotonic() < deadline:
            now = time.monotonic()
            app = self.rng.choice([a for a in self.apps if a.down_until < now] or self.apps)
            started = time.perf_counter()
            try:
                response = await self.client.request(method, app.base + path, **kwargs)
            except DEAD:
                self.tally.dead += 1
                app.down_until = time.monotonic() + 1.0
                await asyncio.sleep(0.3)
                continue
            app.answered = True
            self.tally.latencies.append(time.perf_counter() - started)
            self.tally.statuses[response.status_code] += 1
            if response.status_code >= 500:
                self.tally.server_errors.append(f"{method} {path}: {response.status_code}")
                await asyncio.sleep(0.3)
                continue
            return response
        return None


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def signed(event: dict) -> tuple[bytes, str]:
    payload = json.dumps(event).encode()
    stamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return payload, f"t={stamp},v1={digest.hexdigest()}"


@dataclass
class Keyed:
    """One Idempotency-Key as the client used it: what it sent and what it got back."""

    token: str
    path: str
    body: dict
    key: str
    status: int | None = None
    order_id: str | None = None
    code: str | None = None  # a problem's code


@dataclass
class Run:
    seed: int
    cluster: Cluster
    db: object  # the load test's own AsyncMongoClient database (playing the provider)
    load_ends: float
    hard_deadline: float
    product_ids: list[str] = field(default_factory=list)
    keys: list[Keyed] = field(default_factory=list)
    plans: Counter = field(default_factory=Counter)
    webhooks: Counter = field(default_factory=Counter)
    deliveries: list[asyncio.Task] = field(default_factory=list)
    unacknowledged: int = 0


async def deliver_event(run: Run, event: dict, copies: int) -> None:
    """The provider delivering one event `copies` times (at once, to any processes), each
    again until acknowledged (a 409 means "being applied elsewhere: deliver later")."""

    async def one() -> None:
        while True:  # each delivery signed afresh, as the provider does
            payload, signature = signed(event)
            headers = {"Content-Type": "application/json", "Stripe-Signature": signature}
            response = await run.cluster.request(
                "POST",
                "/api/v1/payments/webhook",
                content=payload,
                headers=headers,
                deadline=run.hard_deadline,
            )
            if response is None or response.status_code != 409:
                break
            await asyncio.sleep(3)  # "being applied elsewhere": delivered again later
        if response is None:
            run.unacknowledged += 1
        else:
            run.webhooks[response.status_code] += 1
            if response.status_code == 200 and response.json().get("duplicate"):
                run.webhooks["duplicate"] += 1

    await asyncio.gather(*(one() for _ in range(copies)))


def provider_event(run: Run, kind: str, intent_id: str, rng: random.Random) -> None:
    obj = (
        {"id": intent_id, "object": "payment_intent", "status": "succeeded"}
        if kind.startswith("payment_intent.")
        else {"id": "ch_" + intent_id, "object": "charge", "payment_intent": intent_id}
    )
    event = {
        "id": f"evt_{kind.replace('.', '_')}_{intent_id}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "data": {"object": obj},
    }
    run.webhooks["events"] += 1
    run.deliveries.append(asyncio.create_task(deliver_event(run, event, rng.randint(1, 3))))


async def pay_at_provider(run: Run, intent_id: str) -> bool:
    """The customer pays on the provider's page: the provider's record says succeeded."""
    changed = await run.db["dev_payment_intents"].update_one(
        {"_id": intent_id, "status": "requires_payment_method"},
        {"$set": {"status": "succeeded", "payment_method": "pm_card_visa"}},
    )
    return changed.modified_count == 1


async def keyed(run: Run, token: str, path: str, body: dict):
    """A POST with an Idempotency-Key, sent again with the same key until it is answered."""
    record = Keyed(token=token, path=path, body=body, key=secrets.token_hex(12))
    run.keys.append(record)
    response = await run.cluster.request(
        "POST",
        path,
        json=body,
        headers={**bearer(token), "Idempotency-Key": record.key},
        deadline=run.hard_deadline,
    )
    # 409 idempotency_conflict: the first attempt (on a process that died) holds the key until
    # its lease runs out. Any other answer is the answer.
    while response is not None and response.status_code == 409:
        if response.json().get("code") != "idempotency_conflict":
            break
        await asyncio.sleep(1)
        response = await run.cluster.request(
            "POST",
            path,
            json=body,
            headers={**bearer(token), "Idempotency-Key": record.key},
            deadline=run.hard_deadline,
        )
    if response is not None:
        record.status = response.status_code
        if response.status_code in (200, 201):
            record.order_id = response.json()["id"]
        else:
            record.code = response.json().get("code")
    return response


async def shopper(run: Run, n: int, token: str) -> None:
    rng = random.Random(run.seed * 1000 + n)
    cluster = run.cluster
    auth = bearer(token)
    while time.monotonic() < run.load_ends:
        for product_id in rng.sample(run.product_ids, rng.randint(1, 2)):
            await cluster.request(
                "POST",
                "/api/v1/cart/items",
                json={"product_id": product_id, "quantity": rng.randint(1, 2)},
                headers=auth,
                deadline=run.hard_deadline,
            )
        placed = await keyed(run, token, "/api/v1/orders", {"shipping_address": ADDRESS})
        if placed is None or placed.status_code != 201:
            run.plans[f"checkout {placed.status_code if placed else 'unanswered'}"] += 1
            await cluster.request("DELETE", "/api/v1/cart", headers=auth, deadline=run.load_ends)
            continue
        order = placed.json()
        order_id, intent_id = order["id"], order["payment"]["intent_id"]
        await asyncio.sleep(rng.uniform(0.1, 0.6))
        plan = rng.choices(
            ["pay", "pay_declined_first", "provider_page", "pay_then_cancel", "cancel", "unpaid"],
            weights=[35, 8, 20, 15, 10, 12],
        )[0]
        if plan == "provider_page" and intent_id is None:
            plan = "pay"
        run.plans[plan] += 1
        if plan == "provider_page":
            if await pay_at_provider(run, intent_id):
                provider_event(run, "payment_intent.succeeded", intent_id, rng)
            continue
        if plan == "unpaid":
            continue
        if plan == "cancel":
            await cluster.request(
                "POST",
                f"/api/v1/orders/{order_id}/cancel",
                headers=auth,
                deadline=run.hard_deadline,
            )
            continue
        if plan == "pay_declined_first":
            await keyed(
                run,
                token,
                f"/api/v1/orders/{order_id}/pay",
                {"payment_method": "pm_card_chargeDeclined"},
            )
        paid = await keyed(
            run, token, f"/api/v1/orders/{order_id}/pay", {"payment_method": "pm_card_visa"}
        )
        if paid is not None and paid.status_code == 200:
            provider_event(
                run, "payment_intent.succeeded", paid.json()["payment"]["intent_id"], rng
            )
            if plan == "pay_then_cancel":
                await asyncio.sleep(rng.uniform(0.1, 0.5))
                cancelled = await cluster.request(
                    "POST",
                    f"/api/v1/orders/{order_id}/cancel",
                    headers=auth,
                    deadline=run.hard_deadline,
                )
                if cancelled is not None and cancelled.status_code == 200:
                    provider_event(run, "charge.refunded", paid.json()["payment"]["intent_id"], rng)
        await asyncio.sleep(rng.uniform(0.1, 0.5))


async def killer(apps: list[App], client: httpx.AsyncClient, seed: int, until: float) -> dict:
    """SIGKILL a random app process every 1-4 s and start it again; at least MIN_KILLS."""
    rng = random.Random(seed)
    kills: Counter = Counter()
    in_start_up = 0
    restarts_failed = 0
    watchers = set()
    failed_starts: list[str] = []

    async def watch(app: App) -> None:
        for _ in range(5):
            try:
                return await app.ready(client)
            except RuntimeError:
                if app.process.returncode == -signal.SIGKILL:
                    return  # killed again before it was ready
                failed_starts.append(f"app {app.n} exited by itself ({app.process.returncode})")
                app.start()

    while time.monotonic() < until or sum(kills.values()) < MIN_KILLS:
        await asyncio.sleep(rng.uniform(1.5, 4.5))
        # Mostly a process that serves (so kills land in requests and jobs: waiting a little
        # for one when all are starting), sometimes any (a kill in the middle of start-up:
        # indexes, seeding, the admin).
        any_process = rng.random() < 0.15
        for _ in range(20):
            serving = [app for app in apps if app.answered]
            if serving or any_process:
                break
            await asyncio.sleep(0.25)
        app = rng.choice(serving if serving and not any_process else apps)
        in_start_up += not app.answered
        app.kill()
        kills[app.n] += 1
        app.start()
        watcher = asyncio.create_task(watch(app))
        watchers.add(watcher)
        watcher.add_done_callback(watchers.discard)
    # Every process serving again before the drain.
    for app in apps:
        if app.process.poll() is not None:
            restarts_failed += 1
            app.start()
        await app.ready(client)
    return {
        "kills": sum(kills.values()),
        "per_app": dict(sorted(kills.items())),
        "in_start_up": in_start_up,
        "failed_starts": failed_starts,
        "restarts_failed": restarts_failed,
    }


def start_up(apps: list[App]) -> str:
    times = sorted(t for app in apps for t in app.start_up_seconds)
    return f"{times[len(times) // 2]:.1f}, {times[-1]:.1f}" if times else "-"


def answer(record: Keyed) -> str:
    return f"{record.status} {record.code}" if record.code else str(record.status)


# -- after the load ---------------------------------------------------------------------------


async def settled(db) -> dict[str, int]:
    """What the jobs still have to do."""
    return {
        "unpaid orders": await db.orders.count_documents({"status": "pending_payment"}),
        "pending refunds": await db.orders.count_documents({"payment.refunds.status": "pending"}),
        "unsent emails": await db.outbox_emails.count_documents(
            {"status": {"$in": ["pending", "sending"]}}
        ),
        "events being applied": await db.payment_events.count_documents({"status": "processing"}),
    }


async def drain(run: Run, shoppers: list[asyncio.Task]) -> dict[str, int]:
    await asyncio.gather(*shoppers)
    deadline = time.monotonic() + DRAIN_SECONDS
    while True:
        await asyncio.gather(*run.deliveries)
        left = await settled(run.db)
        if not any(left.values()) or time.monotonic() > deadline:
            return left
        await asyncio.sleep(2)


async def replay_keys(run: Run) -> dict[str, int]:
    """Every key answered with an order is sent again, as first sent: the same order."""
    figures = Counter()
    for record in run.keys:
        if record.order_id is None:
            figures["not answered with an order (not replayed)"] += 1
            continue
        response = await run.cluster.request(
            "POST",
            record.path,
            json=record.body,
            headers={**bearer(record.token), "Idempotency-Key": record.key},
            deadline=time.monotonic() + 60,
        )
        figures["replayed"] += 1
        same = (
            response is not None
            and response.status_code == record.status
            and response.json().get("id") == record.order_id
        )
        figures["same order" if same else "DIFFERENT"] += 1
    return dict(figures)


# -- the invariants ---------------------------------------------------------------------------

HOLDING = {"pending_payment", "paid", "processing", "shipped", "delivered"}
RETURNS = {"cancel", "expiry", "refund", "checkout_compensation"}


def order_holds_stock(order: dict) -> bool:
    """Units of an order are off the shelf while it is live: not cancelled (cancel and expiry
    restock), and not refunded before it shipped (that refund restocks)."""
    if order["status"] in HOLDING:
        return True
    if order["status"] == "refunded":
        return any(h["status"] == "shipped" for h in order["history"])
    return False


async def check(run: Run, sink: MailSink, result) -> dict:
    db = run.db
    products = await db.products.find({}, {"stock": 1, "name": 1}).to_list(None)
    orders = await db.orders.find({}).to_list(None)
    movements = await db.stock_movements.find({}).to_list(None)
    emails = await db.outbox_emails.find({"kind": "order_status"}).to_list(None)
    all_emails = await db.outbox_emails.find({}, {"status": 1}).to_list(None)
    intents = {i["_id"]: i for i in await db.dev_payment_intents.find({}).to_list(None)}
    figures: dict = {"products": len(products), "orders": len(orders)}
    figures["order statuses"] = dict(Counter(o["status"] for o in orders))
    # Who moved the orders: the customer (/pay, cancel), the provider (webhooks), the system
    # (reconciliation, expiry).
    figures["paid by"] = dict(
        Counter(h["actor"] for o in orders for h in o["history"] if h["status"] == "paid")
    )
    figures["cancelled by"] = dict(
        Counter(
            "expiry" if h.get("note") == "not paid in time" else h["actor"].split(":")[0]
            for o in orders
            for h in o["history"]
            if h["status"] == "cancelled"
        )
    )
    # Work a kill interrupted and someone finished: webhook claims taken over after their
    # lease, emails claimed again after their sender died (or a retry).
    figures[
        "webhook events taken over after a dead delivery"
    ] = await db.payment_events.count_documents({"attempts": {"$gt": 1}})
    figures["emails claimed more than once"] = await db.outbox_emails.count_documents(
        {"attempts": {"$gt": 1}}
    )

    # Stock: initial = stock + units in live orders; the ledger adds up to the stock.
    ledger = defaultdict(int)
    initial = defaultdict(int)
    for m in movements:
        ledger[m["product_id"]] += m["delta"]
        if m["reason"] not in {"sale", *RETURNS}:
            initial[m["product_id"]] += m["delta"]  # `initial` and any admin adjustment
    held = defaultdict(int)
    for order in orders:
        if order_holds_stock(order):
            for item in order["items"]:
                held[item["product_id"]] += item["quantity"]
    conserved = [p for p in products if initial[p["_id"]] == p["stock"] + held[p["_id"]]]
    ledgers = [p for p in products if ledger[p["_id"]] == p["stock"]]
    figures["initial units"] = sum(initial.values())
    figures["stock"] = sum(p["stock"] for p in products)
    figures["units in live orders"] = sum(held.values())
    result.check(
        f"initial stock = stock + units in live orders, every product "
        f"({len(conserved)}/{len(products)}: {figures['initial units']} = "
        f"{figures['stock']} + {figures['units in live orders']})",
        len(conserved) == len(products),
    )
    result.check(
        f"every ledger adds up to its stock ({len(ledgers)}/{len(products)}, "
        f"{len(movements)} movements)",
        len(ledgers) == len(products),
    )
    for p in products:
        if initial[p["_id"]] != p["stock"] + held[p["_id"]] or ledger[p["_id"]] != p["stock"]:
            log(
                f"product {p['name']}: initial {initial[p['_id']]}, stock {p['stock']}, "
                f"held {held[p['_id']]}, ledger {ledger[p['_id']]}"
            )

    # Each order took its stock exactly once, and gave it back at most once (only if dead).
    by_order = defaultdict(lambda: defaultdict(list))
    for m in movements:
        if m.get("order_id") is not None:
            by_order[m["order_id"]][m["product_id"]].append(m)
    order_ids = {o["_id"] for o in orders}
    wrong = []
    for order in orders:
        lines = by_order.get(order["_id"], {})
        for item in order["items"]:
            rows = lines.get(item["product_id"], [])
            sales = [m["delta"] for m in rows if m["reason"] == "sale"]
            returns = [m["delta"] for m in rows if m["reason"] in RETURNS]
            expected_returns = [] if order_holds_stock(order) else [item["quantity"]]
            if sales != [-item["quantity"]] or returns != expected_returns:
                wrong.append((order["number"], item["name"], sales, returns))
    orphans = {oid for oid in by_order if oid not in order_ids}
    orphan_net = sum(m["delta"] for oid in orphans for ms in by_order[oid].values() for m in ms)
    figures["orders with stock taken not exactly once"] = len(wrong)
    figures["movements for orders that do not exist (net units)"] = orphan_net
    for row in wrong[:10]:
        log(f"stock taken wrongly: {row}")
    result.check(
        f"every order took its stock exactly once and gave it back only if cancelled "
        f"({len(orders) - len({w[0] for w in wrong})}/{len(orders)})",
        not wrong,
    )
    result.check(
        f"no stock taken for an order that does not exist (net {orphan_net} units over "
        f"{len(orphans)} ids)",
        orphan_net == 0,
    )

    # One outbox email per status change: (order number, status) against its history.
    labels = {
        "awaiting payment": "pending_payment",
        "paid": "paid",
        "being prepared": "processing",
        "shipped": "shipped",
        "delivered": "delivered",
        "cancelled": "cancelled",
        "refunded": "refunded",
    }
    mailed = Counter()
    for email in emails:
        subject = email["subject"]  # "Order N received: awaiting payment" | "Order N: label"
        number = subject.split()[1].rstrip(":")
        mailed[(number, labels[subject.rsplit(": ", 1)[1]])] += 1
    changes = Counter((o["number"], h["status"]) for o in orders for h in o["history"])
    lost = sum(max(0, n - mailed[k]) for k, n in changes.items())
    doubled = sum(max(0, n - changes[k]) for k, n in mailed.items())
    figures["status changes"] = sum(changes.values())
    figures["order_status emails"] = len(emails)
    result.check(
        f"every status change has exactly one outbox email ({sum(changes.values())} changes, "
        f"{len(emails)} emails: {lost} lost, {doubled} doubled)",
        lost == 0 and doubled == 0,
    )
    unsent = [e for e in all_emails if e["status"] != "sent"]
    never_received = [e for e in all_emails if sink.received[f"<{e['_id']}@outbox.shop>"] == 0]
    twice = sum(1 for n in sink.received.values() if n > 1)
    figures["emails sent"] = len(all_emails) - len(unsent)
    figures["emails received twice (same Message-ID)"] = twice
    result.check(
        f"every outbox email sent and received ({len(all_emails)} rows: {len(unsent)} unsent, "
        f"{len(never_received)} never received; {twice} received twice under one Message-ID)",
        not unsent and not never_received,
    )

    # Payments: every paid order's intent at the provider, succeeded, same amount.
    paid = [o for o in orders if any(h["status"] == "paid" for h in o["history"])]
    bad_payments = []
    for order in paid:
        intent = intents.get(order["payment"]["intent_id"])
        if (
            intent is None
            or intent["status"] != "succeeded"
            or intent["amount"] != order["total"]
            or intent["metadata"].get("order_id") != str(order["_id"])
        ):
            bad_payments.append(order["number"])
        else:
            ours = sum(r["amount"] for r in order["payment"]["refunds"] if r["status"] != "failed")
            if ours != intent.get("amount_refunded", 0):
                refunds = [
                    (r["amount"], r["status"], r.get("provider_refund_id"), r.get("reason"))
                    for r in order["payment"]["refunds"]
                ]
                bad_payments.append(
                    f"{order['number']} ({order['status']}, total {order['total']}): refunds "
                    f"ours {refunds} vs the provider's {intent.get('refunds')} "
                    f"(amount_refunded {intent.get('amount_refunded', 0)}); history "
                    f"{[(h['status'], h.get('actor'), h.get('note')) for h in order['history']]}"
                )
    by_intent = {o["payment"]["intent_id"]: o for o in orders}
    # Money the provider took for an order we never recorded as paid must have gone back.
    kept = [
        i["_id"]
        for i in intents.values()
        if i["status"] == "succeeded"
        and by_intent.get(i["_id"]) not in paid
        and i.get("amount_refunded", 0) != i["amount"]
    ]
    figures["paid orders"] = len(paid)
    figures["refunded at the provider"] = sum(i.get("amount_refunded", 0) for i in intents.values())
    for number in bad_payments[:10]:
        log(f"payment does not match the provider: {number}")
    result.check(
        f"every paid order has its payment at the provider, succeeded, same amount, same "
        f"refunds ({len(paid) - len(bad_payments)}/{len(paid)})",
        not bad_payments,
    )
    result.check(
        f"no money taken for an order not paid, unless refunded in full ({len(kept)} kept)",
        not kept,
    )
    return figures


# -- the run ----------------------------------------------------------------------------------


async def scenario(main, apps: list[App], mongo_uri: str, db_name: str, sink, seed: int):
    from pymongo import AsyncMongoClient

    result = main.Result(f"fault run: {APPS} apps, SIGKILL at random (seed {seed})")
    rng = random.Random(seed)
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=100)
    mongo = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            for app in apps:
                app.start()
            await asyncio.gather(*(app.ready(client) for app in apps))
            log(f"{len(apps)} app processes ready (started at once on one empty database)")
            cluster = Cluster(apps, client, rng)
            now = time.monotonic()
            run = Run(
                seed=seed,
                cluster=cluster,
                db=mongo[db_name],
                load_ends=now + 10_000,
                hard_deadline=now + 10_000,
            )
            far = now + 120
            admin = await cluster.request(
                "POST",
                "/api/v1/auth/login",
                json={"email": ADMIN[0], "password": ADMIN[1]},
                deadline=far,
            )
            admin_token = admin.json()["access_token"]
            headers = bearer(admin_token)
            category = await cluster.request(
                "POST",
                "/api/v1/admin/categories",
                json={"name": "Crash"},
                headers=headers,
                deadline=far,
            )
            for name, price, stock in PRODUCTS:
                made = await cluster.request(
                    "POST",
                    "/api/v1/admin/products",
                    json={
                        "name": name,
                        "description": "Sold while processes die.",
                        "price": price,
                        "currency": "usd",
                        "category": category.json()["id"],
                        "stock": stock,
                    },
                    headers=headers,
                    deadline=far,
                )
                made.raise_for_status()
                run.product_ids.append(made.json()["id"])

            async def register(n: int) -> str:
                email = f"crash{n}-{seed}@example.com"
                body = {"email": email, "password": PASSWORD, "name": "Shopper"}
                await cluster.request("POST", "/api/v1/auth/register", json=body, deadline=far)
                signed_in = await cluster.request(
                    "POST",
                    "/api/v1/auth/login",
                    json={"email": email, "password": PASSWORD},
                    deadline=far,
                )
                return signed_in.json()["access_token"]

            tokens = await main.bounded(12, [register(n) for n in range(SHOPPERS)])
            log(f"{SHOPPERS} shoppers, {len(PRODUCTS)} products; load for {LOAD_SECONDS:.0f} s")
            started = time.monotonic()
            run.load_ends = started + LOAD_SECONDS
            run.hard_deadline = run.load_ends + DRAIN_SECONDS
            cluster.tally = Tally()
            kill_task = asyncio.create_task(killer(apps, client, seed, run.load_ends))
            shoppers = [asyncio.create_task(shopper(run, n, t)) for n, t in enumerate(tokens)]
            kills = await kill_task
            log(f"{kills['kills']} kills {kills['per_app']}; draining (jobs, webhooks, outbox)")
            left = await drain(run, shoppers)
            result.wall = time.monotonic() - started
            log(f"drained in {result.wall - LOAD_SECONDS:.0f} s after the load: left {left}")
            replays = await replay_keys(run)
            tally = cluster.tally
            result.latencies = tally.latencies
            result.statuses = tally.statuses
            figures = {
                "seed": seed,
                "kills": kills["kills"],
                "kills per app": kills["per_app"],
                "kills of a process still starting": kills["in_start_up"],
                "start-up to ready, s (median, max)": start_up(apps),
                "requests": sum(tally.statuses.values()) + tally.dead,
                "requests that met a dead process": tally.dead,
                "5xx from a live process": len(tally.server_errors),
                "plans": dict(run.plans),
                "webhook events": run.webhooks["events"],
                "webhook deliveries": {k: v for k, v in run.webhooks.items() if k != "events"},
                "idempotency keys": len(run.keys),
                "key answers (checkout)": dict(
                    Counter(answer(r) for r in run.keys if r.path == "/api/v1/orders")
                ),
                "key answers (pay)": dict(
                    Counter(answer(r) for r in run.keys if r.path != "/api/v1/orders")
                ),
                "replays": replays,
                "left after the drain": left,
            }
            result.check(
                f"every restart came up ({len(kills['failed_starts'])} start-ups failed by "
                f"themselves: {kills['failed_starts'][:3]})",
                not kills["failed_starts"],
            )
            result.check(
                f"at least {MIN_KILLS} SIGKILLs ({kills['kills']})", kills["kills"] >= MIN_KILLS
            )
            result.check(
                f"no 5xx from a live process ({len(tally.server_errors)}: "
                f"{Counter(tally.server_errors).most_common(3)})",
                not tally.server_errors,
            )
            result.check(f"the jobs finished their work ({left})", not any(left.values()))
            result.check(
                f"every webhook event acknowledged in the end ({run.unacknowledged} not)",
                run.unacknowledged == 0,
            )
            result.check(
                f"every Idempotency-Key replays the same order ({replays.get('same order', 0)}"
                f"/{replays.get('replayed', 0)})",
                replays.get("DIFFERENT", 0) == 0,
            )
            stored_keys = {
                (o["user_id"], o["idempotency_key"]): str(o["_id"])
                for o in await run.db.orders.find(
                    {"idempotency_key": {"$type": "string"}}, {"user_id": 1, "idempotency_key": 1}
                ).to_list(None)
            }
            answered = {r.key: r for r in run.keys if r.path == "/api/v1/orders"}
            lost_answers = [
                key
                for (_, key) in stored_keys
                if key in answered and answered[key].order_id is None
            ]
            result.check(
                f"every checkout that made an order answered it ({len(lost_answers)} keys made an "
                f"order but were answered {Counter(answered[k].status for k in lost_answers)})",
                not lost_answers,
            )
            figures.update(await check(run, sink, result))
            return result, figures
    finally:
        await mongo.close()


def run(main) -> list:
    """`main` is the load test module (its Result, free_port and helpers)."""
    seed = int(os.environ.get("LOADTEST_FAULT_SEED", "0")) or random.SystemRandom().randrange(
        1, 10**6
    )
    log(f"seed {seed} (LOADTEST_FAULT_SEED={seed} runs the same kills again)")
    main.OUT.mkdir(exist_ok=True)
    db_name = f"faults_{seed}"
    with WireServer(main.free_port) as wire, MailSink(main.free_port()) as sink:
        env = {
            **os.environ,
            "APP_ENV": "development",
            "HOST": "127.0.0.1",
            "MONGODB_URI": wire.uri,
            "MONGODB_DB": db_name,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "SEED_DEMO_CATALOG": "true",
            "ADMIN_EMAIL": ADMIN[0],
            "ADMIN_PASSWORD": ADMIN[1],
            "RATE_LIMIT_ENABLED": "false",
            "BCRYPT_ROUNDS": "4",
            "LOG_LEVEL": "WARNING",
            "PAYMENT_PROVIDER": "dev",
            "DEV_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "EMAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(sink.port),
            "SMTP_STARTTLS": "false",
            "EMAIL_POLL_SECONDS": "0.5",
            "EMAIL_LEASE_SECONDS": "5",
            "EMAIL_RETRY_BASE_SECONDS": "1",
            "ORDER_JOBS_ENABLED": "true",
            "ORDER_JOBS_INTERVAL_SECONDS": "2",
            "ORDER_PAYMENT_TIMEOUT_SECONDS": "60",
            "PAYMENT_RECONCILE_AFTER_SECONDS": "5",
            "PAYMENT_RECONCILE_INTERVAL_SECONDS": "5",
            "ACCESS_TOKEN_TTL": "3600",
        }
        env.pop("MONGODB_TEST_DB", None)
        apps = [App(n, main.free_port(), env, main.OUT) for n in range(1, APPS + 1)]
        try:
            result, figures = asyncio.run(scenario(main, apps, wire.uri, db_name, sink, seed))
        finally:
            for app in apps:
                app.stop()
    errors = sum(
        (main.OUT / f"fault-app-{app.n}.log").read_text(errors="replace").count("Traceback")
        for app in apps
    )
    figures["tracebacks in the app logs"] = errors
    (main.OUT / "faults.json").write_text(json.dumps(figures, indent=2, default=str) + "\n")
    result.figures = figures
    return [result]
