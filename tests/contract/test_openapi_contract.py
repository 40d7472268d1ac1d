"""The served OpenAPI document against the running app, with schemathesis.

A real hypercorn server runs the app (embedded engine, demo catalog, an admin) in a thread;
schemathesis generates requests for every documented operation, valid and invalid, and checks
that none answers 5xx and that every answer (status, content type, body) is what the document
says. Requests carry a fresh admin token, so admin routes are exercised past their auth.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import urllib.request

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import make_settings

ADMIN_EMAIL = "contract-admin@example.com"
ADMIN_PASSWORD = "Contract-Admin-Pass-1"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerThread(threading.Thread):
    def __init__(self, app, port: int) -> None:
        super().__init__(daemon=True)
        self.app, self.port = app, port
        self.ready = threading.Event()
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

        async def main() -> None:
            self.loop.call_later(0, self.ready.set)
            await serve(self.app, config, shutdown_trigger=self.stop_event.wait)

        self.loop.run_until_complete(main())

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.stop_event.set)
        self.join(timeout=10)


def _post(url: str, body: dict) -> dict:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


@pytest.fixture(scope="module")
def base_url():
    from app import create_app

    app = create_app(
        make_settings(
            ADMIN_EMAIL=ADMIN_EMAIL,
            ADMIN_PASSWORD=ADMIN_PASSWORD,
            SEED_DEMO_CATALOG=True,
            RATE_LIMIT_ENABLED=False,
        )
    )
    port = _free_port()
    server = ServerThread(app, port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"{url}/ready", timeout=1):
                break
        except OSError:
            threading.Event().wait(0.05)
    yield url
    server.stop()


@pytest.fixture(scope="module")
def api_schema(base_url):
    return schemathesis.openapi.from_url(f"{base_url}/openapi.json")


def admin_token(base_url: str) -> str:
    # A fresh login per case: a generated logout call may revoke the token it was sent with.
    login = _post(
        f"{base_url}/api/v1/auth/login", {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    return login["access_token"]


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def test_every_operation_honours_the_document(base_url):
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: dict[str, str] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 29, "the whole API is documented"
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def exercise(case):
            headers = {"Authorization": f"Bearer {admin_token(base_url)}"}
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            exercise()
        except Exception as error:  # collect every operation's failure, then report them all
            failures[operation.label] = str(error)[:2000]
    assert not failures, "\n\n".join(f"{label}:\n{text}" for label, text in failures.items())
