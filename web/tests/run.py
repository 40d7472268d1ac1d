"""`make test-web`: the web app's checks, then its journeys in a real browser.

Steps: Debian's Chromium (installed when missing, as root; Playwright cannot download its
own browsers here and does not need to), Node.js 20.19+ and npm, `npm ci` from the committed
lock file, `npm run build` (types generated from the app's OpenAPI document, `tsc --noEmit`
strict, `vite build`), Vitest, then the app served by Hypercorn on a free 127.0.0.1 port
(embedded engine, demo catalog, an admin) with its mail going to an aiosmtpd inbox that the
journeys read over HTTP, and Playwright's journeys (desktop and phone width, axe-core on every
page, screenshots under web/test-results/). For the Stripe journey a second app runs with
PAYMENT_PROVIDER=stripe against localstripe (the Stripe emulator of the payment tests, from
.venv-stripe or LOCALSTRIPE_PYTHON), which delivers its signed webhooks to it; without
localstripe that journey is skipped, saying why. Every server and the inbox stop whatever
happened.

Run from the repository root with the project's Python: `python web/tests/run.py`.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

WEB = Path(__file__).resolve().parents[1]
ROOT = WEB.parent
RESULTS = WEB / "test-results"
MIN_NODE = (20, 19)
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
STARTED = time.monotonic()


def step(message: str) -> None:
    print(f">> [{time.monotonic() - STARTED:5.1f}s] {message}", flush=True)


def run(*command: str, env: dict[str, str] | None = None) -> None:
    subprocess.run(command, cwd=WEB, check=True, env=env)


def apt_install(*packages: str) -> None:
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit(f"test-web needs {' and '.join(packages)}: install Debian's packages")
    step(f"installing {' '.join(packages)} from Debian's packages")
    quiet = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=quiet)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=quiet)


def ensure_chromium() -> str:
    found = next((path for path in CHROMIUM_CANDIDATES if Path(path).is_file()), None)
    if found is None:
        apt_install("chromium")
        found = next((path for path in CHROMIUM_CANDIDATES if Path(path).is_file()), None)
    if found is None:
        sys.exit("test-web needs Chromium (Debian's package `chromium`)")
    return found


def node_version() -> tuple[int, int] | None:
    if not shutil.which("node"):
        return None
    text = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout
    major, minor, *_ = text.strip().lstrip("v").split(".")
    return int(major), int(minor)


def ensure_node() -> None:
    missing = [name for name in ("node", "npm") if not shutil.which(name)]
    if missing:
        apt_install(*["nodejs" if name == "node" else name for name in missing])
    version = node_version()
    if version is None or version < MIN_NODE:
        sys.exit(f"test-web needs Node.js {'.'.join(map(str, MIN_NODE))}+ (found {version})")


class Inbox:
    """An SMTP server (aiosmtpd) keeping every message, and an HTTP view of them for the
    journeys: GET /messages -> [{"to": [...], "subject": ..., "text": ...}]."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[dict] = []
        self.lock = threading.Lock()
        inbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = email.message_from_bytes(envelope.content, policy=email.policy.default)
                body = message.get_body(preferencelist=("plain",))
                with inbox.lock:
                    inbox.messages.append(
                        {
                            "to": [address.lower() for address in envelope.rcpt_tos],
                            "subject": str(message["Subject"] or ""),
                            "text": body.get_content() if body is not None else "",
                        }
                    )
                return "250 OK"

        self.smtp_port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.smtp_port)

        class View(BaseHTTPRequestHandler):
            def do_GET(self):
                with inbox.lock:
                    payload = json.dumps(inbox.messages).encode()
                self.send_response(200 if self.path == "/messages" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), View)
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}"

    def __enter__(self) -> Inbox:
        self.controller.start()
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.http.shutdown()
        self.controller.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            print(log_path.read_text(), file=sys.stderr)
            sys.exit(f"the server exited with {server.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{base}/ready", timeout=5) as response:
                if json.load(response).get("status"):
                    return
        except (OSError, urllib.error.URLError, ValueError):
            time.sleep(0.3)
    sys.exit("the server did not answer /ready within 90 s")


def start_server(
    port: int, smtp_port: int, admin: tuple[str, str], log_path: Path, **overrides: str
):
    env = {key: value for key, value in os.environ.items() if not key.startswith("QUART_")}
    env.update(
        APP_ENV="development",
        HOST="127.0.0.1",
        PORT=str(port),
        PUBLIC_URL="",  # the app's own address: image URLs and email links point here
        FRONTEND_URL="",
        WEB_DIST_DIR="",
        MONGODB_URI="",  # the embedded engine, whatever the environment says
        SEED_DEMO_CATALOG="true",
        SECRET_KEY=secrets.token_urlsafe(48),
        PAYMENT_PROVIDER="dev",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=str(smtp_port),
        SMTP_STARTTLS="false",
        EMAIL_BACKEND="smtp",
        EMAIL_POLL_SECONDS="0.3",
        ADMIN_EMAIL=admin[0],
        ADMIN_PASSWORD=admin[1],
        LOG_LEVEL="WARNING",
    )
    env.update(overrides)
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


LOCALSTRIPE_WRAPPER = ROOT / "tests" / "payments" / "localstripe_server.py"
STRIPE_SECRET = "sk_test_web_journeys"
STRIPE_PUBLISHABLE = "pk_test_web_journeys"
STRIPE_WEBHOOK_SECRET = "whsec_web_journeys_0123456789abcdef"


def localstripe_python() -> tuple[str | None, str]:
    """(interpreter, why not): one that can import localstripe (see tests/payments)."""
    python = Path(os.environ.get("LOCALSTRIPE_PYTHON") or ROOT / ".venv-stripe" / "bin" / "python")
    if not python.exists():
        return None, f"localstripe is not installed ({python} is missing; `make test` makes it)"
    probe = subprocess.run([str(python), "-c", "import localstripe"], capture_output=True)
    if probe.returncode != 0:
        return None, f"{python} cannot import localstripe"
    return str(python), ""


def start_localstripe(python: str, port: int, log_path: Path) -> subprocess.Popen:
    state = RESULTS / "localstripe.pickle"
    state.unlink(missing_ok=True)
    log = log_path.open("w")
    process = subprocess.Popen(
        [python, str(LOCALSTRIPE_WRAPPER), "--port", str(port), "--state", str(state)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"localstripe exited:\n{log_path.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process
        except OSError:
            time.sleep(0.1)
    stop_server(process)
    sys.exit("localstripe did not start within 30 s")


def main() -> int:
    chromium = ensure_chromium()
    ensure_node()
    step(f"node {'.'.join(map(str, node_version() or ()))}, npm ci (package-lock.json)")
    run("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
    step("npm run build: types from the app's OpenAPI, tsc --noEmit (strict), vite build")
    run("npm", "run", "--silent", "build", env={**os.environ, "PYTHON": sys.executable})
    step("Vitest")
    run("npx", "vitest", "run")

    RESULTS.mkdir(exist_ok=True)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    admin = ("admin@example.com", secrets.token_urlsafe(12) + "-Aa1")
    log_path = RESULTS / "server.log"
    python, why_not = localstripe_python()
    with Inbox() as inbox:
        step(f"serving the app on {base} (mail to the inbox on port {inbox.smtp_port})")
        servers = [start_server(port, inbox.smtp_port, admin, log_path)]
        try:
            wait_until_up(base, servers[0], log_path)
            env = {
                **os.environ,
                "SHOP_BASE_URL": base,
                "SHOP_INBOX_URL": inbox.url,
                "SHOP_ADMIN_EMAIL": admin[0],
                "SHOP_ADMIN_PASSWORD": admin[1],
                "CHROMIUM_PATH": chromium,
                "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD": "1",
            }
            if python is None:
                step(f"the Stripe journey will be skipped: {why_not}")
                env["SHOP_STRIPE_SKIPPED"] = why_not
            else:
                emulator = f"http://127.0.0.1:{free_port()}"
                servers.append(
                    start_localstripe(
                        python, int(emulator.rsplit(":", 1)[1]), RESULTS / "localstripe.log"
                    )
                )
                stripe_port = free_port()
                stripe_base = f"http://127.0.0.1:{stripe_port}"
                stripe_log = RESULTS / "server-stripe.log"
                step(
                    f"serving the app with PAYMENT_PROVIDER=stripe on {stripe_base} "
                    f"(localstripe on {emulator})"
                )
                servers.append(
                    start_server(
                        stripe_port,
                        inbox.smtp_port,
                        admin,
                        stripe_log,
                        PAYMENT_PROVIDER="stripe",
                        STRIPE_SECRET_KEY=STRIPE_SECRET,
                        STRIPE_PUBLISHABLE_KEY=STRIPE_PUBLISHABLE,
                        STRIPE_WEBHOOK_SECRET=STRIPE_WEBHOOK_SECRET,
                        STRIPE_API_BASE=emulator,
                        STRIPE_MAX_NETWORK_RETRIES="0",
                    )
                )
                wait_until_up(stripe_base, servers[-1], stripe_log)
                # localstripe signs and delivers its events to the app, as Stripe does.
                hook = urllib.parse.urlencode(
                    {
                        "url": f"{stripe_base}/api/v1/payments/webhook",
                        "secret": STRIPE_WEBHOOK_SECRET,
                    }
                ).encode()
                urllib.request.urlopen(f"{emulator}/_config/webhooks/shop", data=hook, timeout=10)
                env.update(
                    SHOP_STRIPE_BASE_URL=stripe_base,
                    SHOP_STRIPE_EMULATOR_URL=emulator,
                    SHOP_STRIPE_SECRET_KEY=STRIPE_SECRET,
                )
            step(f"Playwright journeys in {chromium} (desktop and phone width, axe-core)")
            journeys = subprocess.run(
                ["npx", "playwright", "test", *sys.argv[1:]], cwd=WEB, env=env
            )
            if journeys.returncode != 0:
                for path in (log_path, RESULTS / "server-stripe.log"):
                    if path.exists():
                        print(f"-- server log ({path}), last lines --", file=sys.stderr)
                        print("\n".join(path.read_text().splitlines()[-40:]), file=sys.stderr)
            else:
                step(f"screenshots in {RESULTS / 'screenshots'}")
            return journeys.returncode
        finally:
            for server in reversed(servers):
                stop_server(server)


if __name__ == "__main__":
    sys.exit(main())
