"""The served OpenAPI document against the running app: `schemathesis run --checks all`.

A real hypercorn server runs the app (demo catalog, an admin, two customers) in a thread, and
the schemathesis CLI tests every documented operation against it with every check it has:
5xx, status codes, content types, headers and bodies against the document, schema-violating
requests rejected, schema-valid requests accepted, required headers, unsupported methods,
auth that is ignored, deleted resources that linger, resources created but not served, and
one customer reaching the other's objects. All four phases run: the document's examples,
boundary coverage, fuzzing, and stateful sequences following the links schemathesis infers.

It runs once as a customer (the identity "alice", with "bob" as the peer she must not reach)
and once as the admin, each on a fresh server, logging in through the API (Web Fuzzing
Commons auth) and again whenever a generated logout revokes the session. `hooks.py` teaches
the generator what the document can only say in prose, and names the few rejections of
valid input that depend on the server's state. Nothing else is excused.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.support.settings import empty_real_database, make_settings

ROOT = Path(__file__).resolve().parents[2]
ADMIN = ("contract-admin@example.com", "Contract-Admin-Pass-1")
CUSTOMERS = {
    "alice": ("alice@example.com", "Shopper-Pass-A1"),
    "bob": ("bob@example.com", "Shopper-Pass-B2"),
}
# Per operation and phase; the run takes about half a minute per identity on the embedded
# engine. A longer hunt: CONTRACT_MAX_EXAMPLES=100 CONTRACT_SEED=7 make test PYTEST_ARGS=...
MAX_EXAMPLES = int(os.environ.get("CONTRACT_MAX_EXAMPLES", "20"))
SEED = int(os.environ.get("CONTRACT_SEED", "20261124"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerThread(threading.Thread):
    def __init__(self, app, port: int) -> None:
        super().__init__(daemon=True)
        self.app, self.port = app, port
        self.loop: asyncio.AbstractEventLoop | None = None
        self.stop_event: asyncio.Event | None = None

    def run(self) -> None:
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        config = Config()
        config.bind = [f"127.0.0.1:{self.port}"]
        config.accesslog = None
        self.loop = asyncio.new_event_loop()
        self.stop_event = asyncio.Event()
        self.loop.run_until_complete(serve(self.app, config, shutdown_trigger=self.stop_event.wait))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.join(timeout=10)


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read())


@pytest.fixture
def base_url():
    from app import create_app

    settings = make_settings(
        ADMIN_EMAIL=ADMIN[0],
        ADMIN_PASSWORD=ADMIN[1],
        SEED_DEMO_CATALOG=True,
        RATE_LIMIT_ENABLED=False,
    )
    empty_real_database(settings)
    app = create_app(settings)
    port = _free_port()
    server = ServerThread(app, port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=1):
                break
        except OSError:
            threading.Event().wait(0.05)
    for name, (email, password) in CUSTOMERS.items():
        status, _ = _post(
            f"{url}/api/v1/auth/register", {"email": email, "password": password, "name": name}
        )
        assert status == 201
    yield url
    server.stop()


def _login(email: str, password: str) -> dict:
    return {
        "endpoint": "/api/v1/auth/login",
        "verb": "POST",
        "contentType": "application/json",
        "payloadRaw": json.dumps({"email": email, "password": password}),
        "token": {
            "extractFrom": "body",
            "extractSelector": "/access_token",
            "sendIn": "header",
            "sendName": "Authorization",
            "sendTemplate": "Bearer {token}",
        },
    }


def _get(url: str) -> object:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def _catalog_dictionaries(base_url: str) -> str:
    """Real ids and slugs of the demo catalog, which half the generated values of the fields
    naming a product or category are drawn from: without them almost every id names nothing
    and the checks never get past a 404 (cart, reviews, checkout, payment, refunds)."""
    products = _get(f"{base_url}/api/v1/products?per_page=100")["items"]
    tree, categories = _get(f"{base_url}/api/v1/categories"), []
    while tree:
        node = tree.pop()
        categories.append(node)
        tree.extend(node["children"])
    values = {
        "product_ids": [p["id"] for p in products],
        "product_references": [p["slug"] for p in products] + [p["id"] for p in products],
        "category_ids": [c["id"] for c in categories],
        "category_references": [c["slug"] for c in categories] + [c["id"] for c in categories],
    }
    bindings = {
        "path.product_id": "product_ids",
        "body.product_id": "product_ids",
        "path.reference": "product_references",
        "path.category_id": "category_ids",
        "body.parent_id": "category_ids",
        "body.category": "category_references",
    }
    lines = [
        f"[dictionaries.{name}]\nvalues = {json.dumps(items)}" for name, items in values.items()
    ]
    lines.append("[parameters]")
    lines += [
        f'"{key}" = {{ dictionary = "{name}", probability = 0.5 }}'
        for key, name in bindings.items()
    ]
    return "\n".join(lines)


def _write_config(directory: Path, base_url: str) -> Path:
    users = {**CUSTOMERS, "admin": ADMIN}
    wfc = directory / "auth.json"
    wfc.write_text(
        json.dumps(
            {
                "schemaVersion": "0.1.0",
                "auth": [
                    {"name": name, "loginEndpointAuth": _login(*credentials)}
                    for name, credentials in users.items()
                ],
            }
        )
    )
    config = directory / "schemathesis.toml"
    config.write_text(
        f"""
seed = {SEED}
hooks = "tests.contract.hooks"
suppress-health-check = ["all"]
continue-on-failure = true
workers = 1

[cache]
enabled = false

[generation]
max-examples = {MAX_EXAMPLES}

[checks]
enabled = true

[phases.stateful]
max-steps = 12

[auth.wfc]
path = "{wfc}"
peers = ["alice", "bob"]

{_catalog_dictionaries(base_url)}
"""
    )
    return config


@pytest.mark.parametrize("identity", ["alice", "admin"], ids=["customer", "admin"])
def test_every_operation_passes_every_check(base_url, identity, tmp_path):
    config = _write_config(tmp_path, base_url)
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(config),
        "run",
        f"{base_url}/openapi.json",
        "--checks",
        "all",
        "--auth-wfc-user",
        identity,
        "--report",
        "junit",
        "--report-junit-path",
        str(tmp_path / "junit.xml"),
    ]
    environment = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=900
    )
    output = result.stdout + result.stderr
    assert "53 selected / 53 total" in output or "selected /" in output, output[-4000:]
    assert result.returncode == 0, output[-20000:]
