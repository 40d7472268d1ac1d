"""`make client-test`: the TypeScript client, generated from our OpenAPI, walks a live server.

Steps: make sure node and npm are here (Debian's packages when missing), `npm ci` from the
committed lock file, dump `/openapi.json` from the app, generate types with
openapi-typescript, `tsc --noEmit` (strict), compile, serve the app with Hypercorn on a free
127.0.0.1 port (embedded engine, demo catalog), check it serves the document the types came
from, run the shopper's journey, and stop the server whatever happened.

Run from the repository root with the project's Python: `python clients/typescript/run.py`.
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
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
GENERATED = HERE / "generated"
MIN_NODE_MAJOR = 18  # global fetch; Debian 12 ships 18.x
sys.path.insert(0, str(ROOT))  # the app and its config, imported below


STARTED = time.monotonic()


def step(message: str) -> None:
    print(f">> [{time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


def run(*command: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(command, cwd=HERE, check=True, env=env)


def node_major() -> int | None:
    if not shutil.which("node"):
        return None
    version = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    return int(version.strip().lstrip("v").split(".")[0])


def ensure_node() -> None:
    missing = [name for name in ("node", "npm") if not shutil.which(name)]
    if missing:
        if os.geteuid() != 0 or not shutil.which("apt-get"):
            sys.exit(f"client-test needs {' and '.join(missing)}: install Debian's nodejs and npm")
        packages = ["nodejs" if name == "node" else name for name in missing]
        step(f"installing {' '.join(packages)} from Debian's packages")
        quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=quiet)
        subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=quiet)
    major = node_major()
    if major is None or major < MIN_NODE_MAJOR:
        sys.exit(f"client-test needs Node.js {MIN_NODE_MAJOR}+ (found {major})")


def testing_settings(**overrides):
    from config import Settings

    values = dict(APP_ENV="testing", MONGODB_URI=None, _env_file=None)
    values.update(overrides)
    return Settings(**values)


async def _openapi_document() -> dict:
    from app import create_app

    app = create_app(testing_settings(LOG_LEVEL="WARNING"))
    response = await app.test_client().get("/openapi.json")
    assert response.status_code == 200, response.status_code
    return await response.get_json()


def dump_openapi() -> dict:
    document = asyncio.run(_openapi_document())
    GENERATED.mkdir(exist_ok=True)
    (GENERATED / "openapi.json").write_text(json.dumps(document, indent=2, sort_keys=True))
    return document


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def wait_until_up(base: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            print(log_path.read_text(), file=sys.stderr)
            sys.exit(f"the server exited with {server.returncode} before answering")
        try:
            if get_json(f"{base}/ready").get("status"):
                return
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.3)
    sys.exit("the server did not answer /ready within 90 s")


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    env = {key: value for key, value in os.environ.items() if not key.startswith("QUART_")}
    env.update(
        APP_ENV="development",
        HOST="127.0.0.1",
        PORT=str(port),
        MONGODB_URI="",  # the embedded engine, whatever the environment says
        SEED_DEMO_CATALOG="true",
        SECRET_KEY=secrets.token_urlsafe(48),
        PAYMENT_PROVIDER="dev",
        SMTP_HOST="",  # emails go to the log
        ADMIN_EMAIL="",
        ADMIN_PASSWORD="",
        LOG_LEVEL="WARNING",
    )
    log = log_path.open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "app.serve"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, stopped as one below
    )


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is not None:
        return
    server.send_signal(signal.SIGTERM)  # app.serve shuts down gracefully on SIGTERM
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def main() -> int:
    ensure_node()
    step(f"node {node_major()}.x, npm ci (the versions in package-lock.json)")
    run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    step("dumping /openapi.json from the app")
    document = dump_openapi()
    step("generating types with openapi-typescript")
    run("npm", "run", "--silent", "generate")
    step("tsc --noEmit (strict): does the journey agree with the schema?")
    run("npm", "run", "--silent", "typecheck")
    run("npm", "run", "--silent", "build")

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = GENERATED / "server.log"
    step(f"serving the app on {base} (hypercorn, embedded engine, demo catalog)")
    server = start_server(port, log_path)
    try:
        wait_until_up(base, server, log_path)
        if get_json(f"{base}/openapi.json") != document:
            print("the live /openapi.json differs from the dumped one", file=sys.stderr)
            return 1
        step("the shopper's journey through the generated client")
        journey = subprocess.run(
            ["node", "dist/src/journey.js"], cwd=HERE, env={**os.environ, "SHOP_API_URL": base}
        )
        if journey.returncode != 0:
            print(f"-- server log ({log_path}), last lines --", file=sys.stderr)
            print("\n".join(log_path.read_text().splitlines()[-40:]), file=sys.stderr)
        return journey.returncode
    finally:
        stop_server(server)


if __name__ == "__main__":
    sys.exit(main())
