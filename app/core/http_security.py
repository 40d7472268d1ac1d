"""HTTP hardening applied to every response, and the trusted-proxy setting.

- `X-Content-Type-Options`, `Referrer-Policy`, `X-Frame-Options` and a deny-everything CSP on
  every response (JSON needs no active content); the docs page gets a CSP of its own that
  allows its assets from this app and its inline bootstrap script by hash.
- `Cache-Control: no-store` on every response that may carry tokens or personal data: any
  request made with credentials, and any state-changing request (login, refresh, register,
  every write). A rule, not a list of paths, so new authenticated routes are covered.
- `Strict-Transport-Security` when `HSTS_MAX_AGE` is set.
- `//` in a path is a 404, and redirects never carry an absolute URL built from the client's
  `Host` header.
- With `TRUSTED_PROXY_HOPS`, hypercorn's ProxyFixMiddleware takes the client address (and
  scheme, host) from that many proxies' X-Forwarded-* headers; otherwise they are ignored.
"""

from __future__ import annotations

import base64
import hashlib
import re
from functools import lru_cache
from urllib.parse import urlsplit

from hypercorn.middleware import ProxyFixMiddleware
from quart import Quart, Response, g, request
from werkzeug.exceptions import NotFound

from config import Settings

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DOCS_PATH = "/docs"
_SAFE_METHODS = frozenset({"GET", "HEAD"})
_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


@lru_cache(maxsize=8)
def docs_csp(page: bytes) -> str:
    """The docs page's policy: its assets from this app, its inline scripts by hash only."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(script).digest()).decode() + "'"
        for script in _INLINE_SCRIPT.findall(page)
    )
    return (
        f"default-src 'none'; script-src 'self' {hashes}; "
        # Swagger UI sets style attributes from script; its icons are data: URIs.
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
    )


def _carries_credentials() -> bool:
    return (
        "Authorization" in request.headers
        or "Cookie" in request.headers
        or getattr(g, "user", None) is not None
    )


def _relative_location(response: Response) -> None:
    location = response.headers.get("Location")
    if not location:
        return
    parts = urlsplit(location)
    # Only our own redirects (werkzeug's slash redirects) are made absolute from `Host`.
    if parts.netloc and parts.netloc == request.host:
        response.headers["Location"] = parts.path + (f"?{parts.query}" if parts.query else "")


def register_security_headers(app: Quart, settings: Settings) -> None:
    # `//` is neither merged into a redirect (whose absolute URL came from `Host`) nor quietly
    # served as another path (werkzeug strips leading slashes): it is a 404.
    app.url_map.merge_slashes = False

    @app.before_request
    async def _no_empty_segments() -> None:
        # The raw path: werkzeug's `request.path` has leading slashes stripped already.
        if "//" in request.scope.get("path", request.path):
            raise NotFound()

    hsts = f"max-age={settings.HSTS_MAX_AGE}; includeSubDomains" if settings.HSTS_MAX_AGE else None

    @app.after_request
    async def _security_headers(response: Response) -> Response:
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "no-referrer"
        headers["X-Frame-Options"] = "DENY"
        if request.path == DOCS_PATH and response.status_code == 200:
            headers["Content-Security-Policy"] = docs_csp(await response.get_data())
        else:
            headers.setdefault("Content-Security-Policy", API_CSP)
        # The web app's files (app/web.py) are the same for everyone, whatever a browser
        # sends along (a cookie another app on this host set, say).
        public_static = getattr(g, "public_static", False)
        if request.method not in _SAFE_METHODS or (_carries_credentials() and not public_static):
            headers["Cache-Control"] = "no-store"
        if hsts:
            headers["Strict-Transport-Security"] = hsts
        if 300 <= response.status_code < 400:
            _relative_location(response)
        return response


def apply_proxy_fix(app: Quart, settings: Settings) -> None:
    """Trust X-Forwarded-* from `TRUSTED_PROXY_HOPS` proxies (none by default)."""
    if settings.TRUSTED_PROXY_HOPS:
        app.asgi_app = ProxyFixMiddleware(  # type: ignore[method-assign]  # Quart's way to wrap
            app.asgi_app, mode="legacy", trusted_hops=settings.TRUSTED_PROXY_HOPS
        )
