"""The /docs page renders in a real headless Chromium with no internet access.

Skipped where no Chromium is installed (.ci/run installs Debian's when it can).
"""

import asyncio
import shutil
import socket

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_docs_page_renders_the_operations(app, tmp_path):
    port = free_port()
    config = Config()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(app, config, shutdown_trigger=stop.wait))
    try:
        await asyncio.sleep(0.3)
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
            f"--user-data-dir={tmp_path}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            f"http://127.0.0.1:{port}/docs",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        dom, _ = await asyncio.wait_for(browser.communicate(), timeout=90)
    finally:
        stop.set()
        await server
    html = dom.decode()
    # Swagger UI ran (its bundle came from this app) and rendered the spec's operations.
    assert 'class="swagger-ui' in html
    assert "Shop API" in html
    assert "opblock" in html and "/health" in html
