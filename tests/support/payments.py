"""Stripe support: localstripe (the emulator of the payment tests) started on 127.0.0.1,
the app's settings against it, its objects read back, and webhooks signed as Stripe signs them.

localstripe runs in its own virtual environment (.venv-stripe, made by `make test` from
requirements-localstripe.txt; or LOCALSTRIPE_PYTHON names an interpreter that has it),
started through tests/payments/localstripe_server.py so it listens on loopback only and
keeps its state in this run's temporary directory. The fixtures are in
tests/payments/conftest.py.
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

from app.email.models import OutboxEmail

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "tests" / "payments" / "localstripe_server.py"
SECRET_KEY = "sk_test_localstripe_suite"
WEBHOOK_SECRET = "whsec_test_suite_0123456789abcdef"
WEBHOOK = "/api/v1/payments/webhook"


def find_localstripe_python() -> tuple[str | None, str]:
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


# -- the emulator's objects, and the status emails in the outbox --------------------------------


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


async def status_emails(order_number: str) -> list[str]:
    rows = await OutboxEmail.find({"kind": "order_status"}).sort("_id").to_list()
    return [row.subject for row in rows if order_number in row.subject]
