"""The API in a real headless Chromium with no internet access: the /docs page renders, and a
page from another origin calls the API with `fetch` as a frontend does (CORS).

Skipped where no Chromium is installed (.ci/run installs Debian's when it can).
"""

import asyncio
import contextlib
import html
import json
import re
import shutil
import socket

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config

from tests.support.accounts import TEST_PASSWORD

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def serving(app, *ports: int):
    """Serve an ASGI app with Hypercorn on 127.0.0.1 at each port, for the `async with`."""
    config = Config()
    config.bind = [f"127.0.0.1:{port}" for port in ports]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        await asyncio.sleep(0.3)
        yield
    finally:
        stop.set()
        await server


async def dump_dom(url: str, profile) -> str:
    """The page's DOM once its scripts have run, as headless Chromium renders it."""
    browser = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=10000",
        "--dump-dom",
        url,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    dom, _ = await asyncio.wait_for(browser.communicate(), timeout=90)
    return dom.decode()


async def test_docs_page_renders_the_operations(app, tmp_path):
    port = free_port()
    async with serving(app, port):
        html_page = await dump_dom(f"http://127.0.0.1:{port}/docs", tmp_path)
    # Swagger UI ran (its bundle came from this app) and rendered the spec's operations.
    assert 'class="swagger-ui' in html_page
    assert "Shop API" in html_page
    assert "opblock" in html_page and "/health" in html_page


# -- a frontend on another origin ----------------------------------------------------------------

# What a frontend does: log in (a JSON POST), then call with a bearer token (both preflighted),
# and read problem+json errors. Each answer, or the error fetch threw, lands in #results.
FRONTEND_PAGE = """<!doctype html>
<html><head><title>running</title></head><body><pre id="results"></pre>
<script>
const api = API_BASE, results = {origin: location.origin};
async function call(name, path, init) {
  try {
    const response = await fetch(api + path, init);
    const text = await response.text();
    let body = null;
    try { body = JSON.parse(text); } catch (e) {}
    results[name] = {status: response.status, body,
      contentType: response.headers.get("Content-Type"),
      requestId: response.headers.get("X-Request-ID")};
  } catch (error) {
    results[name] = {blocked: error.name};
  }
}
(async () => {
  await call("login", "/api/v1/auth/login", {method: "POST",
    headers: {"Content-Type": "application/json"}, body: JSON.stringify(CREDENTIALS)});
  const token = (results.login.body || {}).access_token || "none";
  const auth = {headers: {Authorization: "Bearer " + token}};
  await call("me", "/api/v1/users/me", auth);
  await call("notFound", "/api/v1/orders/0123456789abcdef01234567", auth);
  await call("invalid", "/api/v1/products?per_page=101", {});
  await call("badToken", "/api/v1/users/me", {headers: {Authorization: "Bearer forged"}});
  document.getElementById("results").textContent = JSON.stringify(results);
  document.title = "done";
})();
</script></body></html>
"""


def frontend(api_base: str, credentials: dict):
    """A tiny ASGI app that serves FRONTEND_PAGE at every path."""
    page = (
        FRONTEND_PAGE.replace("API_BASE", json.dumps(api_base))
        .replace("CREDENTIALS", json.dumps(credentials))
        .encode()
    )

    async def asgi(scope, receive, send):
        if scope["type"] == "lifespan":
            return await lifespan(receive, send)
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/html; charset=utf-8")],
            }
        )
        await send({"type": "http.response.body", "body": page})

    return asgi


async def lifespan(receive, send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


def recorded(app, log: list[dict]):
    """The app (already started by the fixture) with every request and its answer logged."""

    async def asgi(scope, receive, send):
        if scope["type"] == "lifespan":
            return await lifespan(receive, send)
        entry = {
            "method": scope["method"],
            "path": scope["path"],
            "headers": {k.decode().lower(): v.decode() for k, v in scope["headers"]},
        }
        log.append(entry)

        async def send_and_record(message):
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                entry["answer"] = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            await send(message)

        await app(scope, receive, send_and_record)

    return asgi


def results_of(dom: str) -> dict:
    assert "<title>done</title>" in dom, dom[:2000]
    match = re.search(r'<pre id="results">(.*?)</pre>', dom, re.S)
    return json.loads(html.unescape(match.group(1)))


@pytest.fixture
def ports() -> dict[str, int]:
    return {"api": free_port(), "allowed": free_port(), "other": free_port()}


@pytest.fixture
def settings_overrides(ports):
    return {"CORS_ORIGINS": f"http://127.0.0.1:{ports['allowed']}"}


async def test_another_origin_calls_the_api_as_a_browser_does(app, customer, ports, tmp_path):
    user, _ = customer
    api_base = f"http://127.0.0.1:{ports['api']}"
    allowed, other = (f"http://127.0.0.1:{ports[name]}" for name in ("allowed", "other"))
    log: list[dict] = []
    page = frontend(api_base, {"email": user.email, "password": TEST_PASSWORD})
    async with serving(recorded(app, log), ports["api"]):
        async with serving(page, ports["allowed"], ports["other"]):
            seen = results_of(await dump_dom(f"{allowed}/", tmp_path / "allowed"))
            allowed_log, log[:] = list(log), []
            blocked = results_of(await dump_dom(f"{other}/", tmp_path / "other"))
            other_log = list(log)

    # From the allowed origin: the preflights pass and the calls work.
    assert seen["origin"] == allowed
    assert seen["login"]["status"] == 200 and seen["login"]["body"]["access_token"]
    assert seen["me"]["status"] == 200 and seen["me"]["body"]["email"] == user.email
    assert seen["me"]["requestId"]  # an exposed header
    preflights = [e for e in allowed_log if e["method"] == "OPTIONS"]
    me_preflight = next(e for e in preflights if e["path"] == "/api/v1/users/me")
    assert me_preflight["headers"]["origin"] == allowed
    assert "authorization" in me_preflight["headers"]["access-control-request-headers"]
    assert 200 <= me_preflight["status"] < 300
    assert me_preflight["answer"]["access-control-allow-origin"] == allowed
    assert "authorization" in me_preflight["answer"]["access-control-allow-headers"].lower()
    assert any(e["method"] == "OPTIONS" and e["path"] == "/api/v1/auth/login" for e in preflights)
    # Errors are problem+json the page can read: status, content type and `code`.
    for name, status, code in [
        ("notFound", 404, "not_found"),
        ("invalid", 422, "validation_error"),
        ("badToken", 401, "invalid_token"),
    ]:
        answer = seen[name]
        assert answer["status"] == status, (name, answer)
        assert answer["contentType"].startswith("application/problem+json")
        assert answer["body"]["code"] == code and answer["body"]["status"] == status
        assert answer["body"]["request_id"] == answer["requestId"]
    assert any("per_page" in error["loc"] for error in seen["invalid"]["body"]["errors"])

    # From an origin not in CORS_ORIGINS every call fails in the page, and the preflighted
    # ones never reach a route: the browser stops at the preflight's answer.
    assert blocked["origin"] == other
    for name in ("login", "me", "notFound", "invalid", "badToken"):
        assert blocked[name] == {"blocked": "TypeError"}, (name, blocked[name])
    assert other_log, "the browser asked the API"
    for entry in other_log:
        assert entry["headers"].get("origin") == other
        assert "access-control-allow-origin" not in entry["answer"], entry
    assert {e["method"] for e in other_log if e["path"] != "/api/v1/products"} == {"OPTIONS"}
