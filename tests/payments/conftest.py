"""Stripe tests against a real emulator: localstripe on 127.0.0.1, the app set to
PAYMENT_PROVIDER=stripe against it, and webhooks signed as Stripe signs them.

localstripe runs in its own virtual environment (.venv-stripe, made by `make test` from
requirements-localstripe.txt; or LOCALSTRIPE_PYTHON names an interpreter that has it),
started through tests/payments/localstripe_server.py so it listens on loopback only and
keeps its state in this run's temporary directory.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import time
from pathlib import Path

import pytest
import stripe

from app.email.models import OutboxEmail
from tests.orders.conftest import (  # noqa: F401
    ADDRESS,
    checkout,
    fill_cart,
    pay,
    placed_order,
    smtp_server,
    stock,
)

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = Path(__file__).with_name("localstripe_server.py")
SECRET_KEY = "sk_test_localstripe_suite"
WEBHOOK_SECRET = "whsec_test_suite_0123456789abcdef"
WEBHOOK = "/api/v1/payments/webhook"


def _localstripe_python() -> tuple[str | None, str]:
    """(interpreter, why not): an interpreter that can import localstripe."""
    configured = os.environ.get("LOCALSTRIPE_PYTHON")
    python = Path(configured) if configured else ROOT / ".venv-stripe" / "bin" / "python"
    if not python.exists():
        return None, (
            f"localstripe is not installed ({python} is missing): `make test` installs it "
            "into .venv-stripe from requirements-localstripe.txt, or set LOCALSTRIPE_PYTHON"
        )
    probe = subprocess.run(
        [str(python), "-c", "import localstripe"], capture_output=True, text=True, timeout=60
    )
    if probe.returncode != 0:
        return None, f"{python} cannot import localstripe: {probe.stderr.strip()[-300:]}"
    return str(python), ""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalStripe:
    """One localstripe process; `stop()` and `start()` again keep its objects and port."""

    def __init__(self, python: str, state: Path) -> None:
        self.python, self.state = python, state
        self.port = free_port()
        self.log = state.with_suffix(".log")
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        command = [self.python, str(WRAPPER), "--port", str(self.port), "--state", str(self.state)]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localstripe exited:\n{self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"localstripe did not start:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self.process = None


@pytest.fixture(scope="session")
def localstripe_python() -> str:
    python, why_not = _localstripe_python()
    if python is None:
        pytest.skip(why_not)
    return python


@pytest.fixture(scope="session")
def localstripe(localstripe_python, tmp_path_factory):
    """The suite's emulator, shared by the tests (objects never collide: random ids)."""
    server = LocalStripe(localstripe_python, tmp_path_factory.mktemp("localstripe") / "state")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_localstripe(localstripe_python, tmp_path):
    """An emulator of the test's own, to stop and start again."""
    server = LocalStripe(localstripe_python, tmp_path / "localstripe-state")
    server.start()
    yield server
    server.stop()


def stripe_settings(server: LocalStripe, **more) -> dict:
    return dict(
        PAYMENT_PROVIDER="stripe",
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_WEBHOOK_SECRET=WEBHOOK_SECRET,
        STRIPE_API_BASE=server.url,
        STRIPE_MAX_NETWORK_RETRIES=0,
        STRIPE_TIMEOUT_SECONDS=10,
        **more,
    )


@pytest.fixture
def settings_overrides(localstripe) -> dict:
    return stripe_settings(localstripe)


@pytest.fixture
async def stripe_api(settings):
    """A Stripe client of the test's own, to look at (and act on) the emulator directly, as
    the customer's browser (Stripe.js) or an admin in the dashboard would."""
    http = stripe.HTTPXClient(timeout=10)
    client = stripe.StripeClient(
        SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=http,
        max_network_retries=0,
    )
    yield client.v1
    await http.close_async()


# -- webhooks ----------------------------------------------------------------------------------


def sign(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
    """The `Stripe-Signature` header exactly as Stripe computes it: HMAC-SHA256 of
    `<timestamp>.<body>` with the endpoint's secret, hex, under scheme `v1`."""
    at = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def event_body(event: dict) -> bytes:
    return json.dumps(event, indent=2, sort_keys=True).encode()


def make_event(kind: str, obj: dict) -> dict:
    """A Stripe event envelope around `obj` (for the events localstripe does not send)."""
    return {
        "id": f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": "2026-10-28",
        "created": int(time.time()),
        "livemode": False,
        "type": kind,
        "data": {"object": obj},
    }


@pytest.fixture
def deliver(client):
    """`await deliver(event)`: POST it to the webhook, signed; -> the response."""

    async def post(event: dict | bytes, *, signature: str | None = None, **sign_args):
        body = event if isinstance(event, bytes) else event_body(event)
        header = signature if signature is not None else sign(body, **sign_args)
        headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header}
        return await client.post(WEBHOOK, data=body, headers=headers)

    return post


async def every(list_async, params: dict) -> list[dict]:
    """All pages of an emulator list (the suite's emulator keeps every test's objects)."""
    found: list[dict] = []
    params = {**params, "limit": 100}
    while True:
        page = await list_async(params)
        found.extend(item.to_dict() for item in page.data)
        if not page.has_more or not page.data:
            return found
        params["starting_after"] = page.data[-1].id


async def emulator_events(stripe_api, kind: str, intent_id: str) -> list[dict]:
    recent = {"type": kind, "created": {"gte": int(time.time()) - 600}}
    return [
        event
        for event in await every(stripe_api.events.list_async, recent)
        if event["data"]["object"].get("id") == intent_id
    ]


async def charges_of(stripe_api, intent_id: str) -> list[dict]:
    charges = await every(stripe_api.charges.list_async, {})
    return [charge for charge in charges if charge.get("payment_intent") == intent_id]


@pytest.fixture
def emulator_event(stripe_api):
    """`await emulator_event("payment_intent.succeeded", intent_id)`: the event localstripe
    itself recorded for that intent (as it would have delivered it), as a dict."""

    async def find(kind: str, intent_id: str) -> dict:
        events = await emulator_events(stripe_api, kind, intent_id)
        assert len(events) == 1, f"localstripe recorded {len(events)} {kind} for {intent_id}"
        return events[0]

    return find


@pytest.fixture
def charge_refunded_event(stripe_api):
    """`await charge_refunded_event(intent_id)`: a `charge.refunded` event around the
    intent's charge as the emulator now has it (localstripe sends no refund events)."""

    async def build(intent_id: str) -> dict:
        intent = await stripe_api.payment_intents.retrieve_async(intent_id)
        charge = intent.to_dict()["latest_charge"]
        charge_id = charge["id"] if isinstance(charge, dict) else charge
        fresh = await stripe_api.charges.retrieve_async(charge_id)
        return make_event("charge.refunded", fresh.to_dict())

    return build


@pytest.fixture
def confirm_in_browser(stripe_api):
    """Confirm an intent at the emulator directly, as Stripe.js does in the customer's
    browser: the server hears of it only from the webhook (or reconciliation)."""

    async def confirm(intent_id: str, payment_method: str = "pm_card_visa") -> dict:
        await stripe_api.payment_intents.update_async(intent_id, {"payment_method": payment_method})
        try:
            confirmed = await stripe_api.payment_intents.confirm_async(intent_id)
        except stripe.CardError:
            confirmed = await stripe_api.payment_intents.retrieve_async(intent_id)
        return confirmed.to_dict()

    return confirm


async def status_emails(order_number: str) -> list[str]:
    rows = await OutboxEmail.find({"kind": "order_status"}).sort("_id").to_list()
    return [row.subject for row in rows if order_number in row.subject]
