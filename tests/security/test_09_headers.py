"""Finding 9: security headers on every response; no-store on whatever carries tokens or
personal data (every authenticated or state-changing response, not a list of paths); a CSP and
framing ban on the docs page; HSTS when configured; no Server header naming the software."""

import asyncio
import base64
import hashlib
import re
import socket
from pathlib import Path

import httpx
import pytest
from hypercorn.asyncio import serve

from app.core.security import login_required

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/health"),
        ("get", "/nowhere"),
        ("get", "/docs"),
        ("get", "/api/v1/products"),
        ("post", "/api/v1/auth/login"),
    ],
)
async def test_every_response_has_the_basic_headers(client, method, path):
    response = await getattr(client, method)(path, json={} if method == "post" else None)
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in response.headers  # not configured


def no_store(response) -> bool:
    return "no-store" in response.headers.get("Cache-Control", "")


async def test_token_responses_are_not_stored(client, customer, login):
    response = await client.post(
        "/api/v1/auth/login", json={"email": "customer@example.com", "password": "Correct-Horse-42"}
    )
    assert response.status_code == 200 and no_store(response)
    tokens = await response.get_json()
    refreshed = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200 and no_store(refreshed)
    registered = await client.post(
        "/api/v1/auth/register",
        json={"email": "new@example.com", "password": "Zebra-Cactus-9", "name": "New"},
    )
    assert registered.status_code == 201 and no_store(registered)


async def test_personal_and_admin_responses_are_not_stored(client, customer, admin):
    me = await client.get("/api/v1/users/me", headers=customer[1])
    assert me.status_code == 200 and no_store(me)
    users = await client.get("/api/v1/admin/users", headers=admin[1])
    assert users.status_code == 200 and no_store(users)
    # Even a public page, when asked for with credentials, is treated as personal.
    products = await client.get("/api/v1/products", headers=customer[1])
    assert products.status_code == 200 and no_store(products)


async def test_the_rule_covers_routes_added_later(app, client, customer):
    """Any authenticated route (a future cart or order) is covered without being listed."""

    @app.get("/api/v1/probe-personal")
    @login_required
    async def probe():
        return {"secret": "personal"}

    response = await client.get("/api/v1/probe-personal", headers=customer[1])
    assert response.status_code == 200 and no_store(response)


async def test_public_reads_stay_cacheable(client):
    for path in ("/api/v1/products", "/api/v1/categories", "/health"):
        assert not no_store(await client.get(path))


async def test_the_docs_page_has_a_strict_csp_that_allows_its_own_script(client):
    response = await client.get("/docs")
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    directives = dict(
        ([*part.strip().split(" ", 1), ""])[:2] for part in csp.split(";") if part.strip()
    )
    assert directives["frame-ancestors"] == "'none'"
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    # The page's inline bootstrap script is allowed by its hash, and nothing else inline is.
    html = await response.get_data(as_text=True)
    inline = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert inline
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in directives["script-src"]


async def test_api_responses_forbid_everything_active(client):
    csp = (await client.get("/health")).headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp


class TestHSTS:
    @pytest.fixture
    def settings_overrides(self):
        return {"HSTS_MAX_AGE": 31536000}

    async def test_hsts_when_configured(self, client):
        response = await client.get("/health")
        assert response.headers["Strict-Transport-Security"] == (
            "max-age=31536000; includeSubDomains"
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_the_server_does_not_announce_its_software(app):
    from app.serve import hypercorn_config

    port = free_port()
    config = hypercorn_config(bind=f"127.0.0.1:{port}")
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        async with httpx.AsyncClient() as http:
            for _ in range(50):
                try:
                    response = await http.get(f"http://127.0.0.1:{port}/health")
                    break
                except httpx.ConnectError:
                    await asyncio.sleep(0.1)
    finally:
        stop.set()
        await server
    assert response.status_code == 200
    assert "server" not in response.headers
    assert "hypercorn" not in str(response.headers).lower()


def test_deployments_do_not_announce_the_server():
    # Hypercorn (make run) reads hypercorn.toml; the Dockerfile and the Procfile serve with
    # Uvicorn (what production and the benchmark run), told the same on its command line.
    assert "include_server_header = false" in (ROOT / "hypercorn.toml").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert '"uvicorn"' in dockerfile and '"--no-server-header"' in dockerfile
    procfile = (ROOT / "Procfile").read_text()
    assert "uvicorn" in procfile and "--no-server-header" in procfile
    # Only TRUSTED_PROXY_HOPS decides whether X-Forwarded-For is believed.
    assert '"--no-proxy-headers"' in dockerfile and "--no-proxy-headers" in procfile
