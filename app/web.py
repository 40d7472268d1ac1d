"""The built web app (web/dist): the storefront at `/`, the admin panel at `/admin`.

- `index.html` (for `/`, `/admin` and every client route) with `Cache-Control: no-cache`, so a
  new build is picked up at once; hashed files under `/assets/` with a year's `immutable`;
  the few unhashed files at the build's root (the icon) with a short cache.
- Client routes (`/products/<slug>`, `/orders/<id>`, `/admin/orders`, ...) have no rule of
  their own: a GET that no rule matches gets `index.html` and the SPA's router takes over.
  That happens in the 404 handler, so routing is untouched: the API's 405s and redirects stay,
  and paths under the API and the other server-side prefixes (`/api`, `/docs`,
  `/openapi.json`, `/health`, `/ready`, `/media`, `/assets`) are never the SPA: an unknown one
  is still a problem+json 404. So is a path whose last segment looks like a file (`x.js`).
- The page's CSP allows this origin's scripts and styles only (Vite's build has no inline
  script), images from anywhere over http(s) (admins give any image URL), and Stripe.js's
  origins only when PAYMENT_PROVIDER=stripe.
- `/media/demo/<slug>/<view>.svg`: the demo catalog's pictures, drawn by the app (offline).
- With no build (Node was missing, or it was never built), `/` says so in a plain page (503)
  and the API serves as ever.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from quart import Blueprint, Quart, Response, current_app, g, request, send_from_directory
from quart_schema import hide
from werkzeug.exceptions import NotFound

from app.errors import ErrorCode, problem

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DIST = ROOT / "web" / "dist"
INDEX = "index.html"
ASSETS = "assets"

IMMUTABLE = "public, max-age=31536000, immutable"
SHORT_CACHE = "public, max-age=3600"
# Paths that belong to the server: never answered with the SPA.
SERVER_PREFIXES = frozenset(
    {"api", "docs", "docs-assets", "openapi.json", "health", "ready", "media", ASSETS}
)

STRIPE_JS = "https://js.stripe.com"
# Stripe.js and the Payment Element, as Stripe's security guide lists them: the script and its
# frames (js.stripe.com and its subdomains, hooks.stripe.com for 3-D Secure), calls to its API.
STRIPE_SCRIPTS = f"{STRIPE_JS} https://*.js.stripe.com"
STRIPE_FRAMES = f"{STRIPE_JS} https://*.js.stripe.com https://hooks.stripe.com"
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Shop: the web app is not built</title></head>
<body><main><h1>The web app is not built</h1>
<p>The API is up: <a href="/docs">/docs</a> describes it, <a href="/api/v1/products">/api/v1</a>
serves it. To build the storefront and the admin panel, install Node.js 20+ and npm, then run
<code>make run</code> (or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>).</p>
</main></body></html>
"""

bp = Blueprint("web", __name__)


def web_csp(settings) -> str:
    """The policy of the web app's page: exactly what it loads, and nothing inline."""
    stripe = settings.PAYMENT_PROVIDER == "stripe"
    script = "'self'" + (f" {STRIPE_SCRIPTS}" if stripe else "")
    connect = "'self'" + (" https://api.stripe.com" if stripe else "")
    directives = [
        "default-src 'none'",
        f"script-src {script}",
        "style-src 'self'",
        "img-src 'self' data: https: http:",
        "font-src 'self'",
        f"connect-src {connect}",
        "manifest-src 'self'",
    ]
    if stripe:
        directives.append(f"frame-src {STRIPE_FRAMES}")
    directives += ["base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'"]
    return "; ".join(directives)


def dist_dir() -> Path:
    configured = current_app.config["SETTINGS"].WEB_DIST_DIR
    return Path(configured) if configured else DEFAULT_DIST


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None


async def _index() -> Response:
    g.public_static = True  # a file the same for everyone: no credentials rule (http_security)
    page = await asyncio.to_thread(_read, dist_dir() / INDEX)
    if page is None:
        response = Response(NOT_BUILT, status=503, content_type="text/html; charset=utf-8")
        response.headers["Cache-Control"] = "no-store"
        return response
    response = Response(page, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Content-Security-Policy"] = web_csp(current_app.config["SETTINGS"])
    return response


@bp.get("/")
@hide  # not part of the API: kept out of the OpenAPI document
async def storefront() -> Response:
    """The storefront (the web app's index.html)."""
    return await _index()


@bp.get("/admin")
@hide  # not part of the API: kept out of the OpenAPI document
async def admin_panel() -> Response:
    """The admin panel (the same index.html: the SPA's router shows the admin layout)."""
    return await _index()


@bp.get("/assets/<path:name>")
@hide  # not part of the API: kept out of the OpenAPI document
async def asset(name: str) -> Response:
    """A hashed build file (JS, CSS, images): cached for a year, never revalidated."""
    response = await send_from_directory(dist_dir() / ASSETS, name)
    g.public_static = True
    response.headers["Cache-Control"] = IMMUTABLE
    return response


@bp.get("/media/demo/<slug>/<int:view>.svg")
@hide  # not part of the API: kept out of the OpenAPI document
async def demo_image(slug: str, view: int) -> Response:
    """A demo product's picture (generated SVG): the demo shop needs no image host."""
    from app.catalog.demo_art import render

    svg = render(slug, view)
    if svg is None:
        return problem(404, ErrorCode.NOT_FOUND, "There is no such demo image.")
    g.public_static = True
    response = Response(svg, content_type="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response


def _is_client_route(path: str) -> bool:
    segments = path.strip("/").split("/")
    if segments[0] in SERVER_PREFIXES:
        return False
    return "." not in segments[-1]  # `/robots.txt`, `/x.js`: a file, not a page


async def _root_file(name: str) -> Response | None:
    """An unhashed file at the build's root (favicon.svg), when it exists."""
    if "/" in name or name in ("", INDEX) or name.startswith("."):
        return None
    folder = dist_dir()
    if not await asyncio.to_thread((folder / name).is_file):
        return None
    response = await send_from_directory(folder, name)
    g.public_static = True
    response.headers["Cache-Control"] = SHORT_CACHE
    return response


async def spa_fallback(error: NotFound) -> Response:
    """No rule matched: a client route gets index.html, anything else the problem 404."""
    raw_path = request.scope.get("path", request.path)
    if request.method in ("GET", "HEAD") and "//" not in raw_path:
        path = request.path.lstrip("/")
        root_file = await _root_file(path)
        if root_file is not None:
            return root_file
        if _is_client_route(path):
            return await _index()
    return problem(404, ErrorCode.NOT_FOUND, "The resource was not found.")


def register_web_app(app: Quart) -> None:
    """Serve the built web app beside the API (after the API's blueprints)."""
    app.register_blueprint(bp)
    # More specific than the HTTPException handler (app/errors.py), so it sees routing 404s;
    # the API's own 404s are AppErrors and never come here.
    app.register_error_handler(NotFound, spa_fallback)
