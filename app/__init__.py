"""The application factory."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid

from quart import Quart, Request, g, request
from quart_cors import cors
from quart_schema import QuartSchema

from app.core import db
from app.core import validation as _validation  # noqa: F401 (one TypeAdapter per type)
from app.core.guest import CART_TOKEN_HEADER, ORDER_TOKEN_HEADER, on_guest_cart_merge
from app.core.http_security import apply_proxy_fix, register_security_headers
from app.core.openapi import ShopOpenAPIProvider, docs_assets
from app.errors import AppError, ErrorCode, register_error_handlers
from config import Settings, get_settings

API_VERSION = "1.0.0"
log = logging.getLogger("app")
access_log = logging.getLogger("app.access")


class ApiRequest(Request):
    """Malformed or non-UTF-8 JSON is a 400 problem, not werkzeug's HTML page or a 500."""

    async def get_json(self, force: bool = False, silent: bool = False, cache: bool = True):
        if not (force or self.is_json):
            body = await self.get_data(cache=True)
            if body.strip():
                raise AppError(
                    "Send JSON with Content-Type: application/json.",
                    status=415,
                    code=ErrorCode.UNSUPPORTED_MEDIA_TYPE,
                )
            return None
        try:
            return await super().get_json(force=force, silent=silent, cache=cache)
        except UnicodeDecodeError:
            raise AppError("The body is not valid UTF-8.", code=ErrorCode.MALFORMED_JSON) from None
        except RecursionError:  # nesting deeper than the parser's stack
            if silent:
                return None
            raise AppError(
                "The body is nested too deeply.", code=ErrorCode.MALFORMED_JSON
            ) from None

    def on_json_loading_failed(self, error: Exception):
        # Say where, not the parser's own words (which can name interpreter internals).
        where = f" (line {error.lineno}, column {error.colno})" if hasattr(error, "lineno") else ""  # type: ignore[attr-defined]  # JSONDecodeError's
        raise AppError(f"The body is not valid JSON{where}.", code=ErrorCode.MALFORMED_JSON)


def _configure_logging(settings: Settings) -> None:
    logging.basicConfig(
        level=settings.LOG_LEVEL.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    # The driver's DEBUG log prints every command and reply in full: documents with secrets
    # in clear (the outbox's links, a guest's order link among them). Never below INFO, even
    # with LOG_LEVEL=DEBUG (issue 18: tokens are never logged).
    logging.getLogger("pymongo").setLevel(
        max(logging.INFO, logging.getLevelName(settings.LOG_LEVEL.upper()))
    )


def create_app(settings: Settings | None = None) -> Quart:
    settings = settings or get_settings()
    _configure_logging(settings)

    app = Quart(__name__)
    # First, before any route exists: it also stops `//` in paths from being merged.
    register_security_headers(app, settings)
    apply_proxy_fix(app, settings)
    app.request_class = ApiRequest
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = 1024 * 1024
    app.config["TESTING"] = settings.APP_ENV == "testing"
    # The docs page loads its assets from this app, so it works with no internet access.
    app.config["QUART_SCHEMA_SWAGGER_JS_URL"] = "/docs-assets/swagger-ui-bundle.js"
    app.config["QUART_SCHEMA_SWAGGER_CSS_URL"] = "/docs-assets/swagger-ui.css"

    QuartSchema(
        app,
        info={
            "title": "Shop API",
            "version": API_VERSION,
            "description": "Storefront REST API: accounts, catalog, cart, orders, payments.",
        },
        tags=[
            {"name": "health", "description": "Liveness and readiness"},
            {"name": "auth", "description": "Registration, login, tokens, password reset"},
            {"name": "users", "description": "The signed-in user's profile and addresses"},
            {"name": "catalog", "description": "Products and categories (public)"},
            {
                "name": "cart",
                "description": "The shopper's cart (signed in, or a guest's Cart-Token)",
            },
            {"name": "reviews", "description": "Product reviews (public reads, customers write)"},
            {"name": "orders", "description": "Checkout, my orders, payment and cancel"},
            {"name": "payments", "description": "The payment provider's webhook"},
            {"name": "admin", "description": "Store administration (admins only)"},
        ],
        security_schemes={
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearer_format": "JWT"},
        },
        redoc_ui_path=None,
        scalar_ui_path=None,
        openapi_provider_class=ShopOpenAPIProvider,
    )
    app = cors(
        app,
        allow_origin=settings.cors_origins,
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "X-Request-ID",
            CART_TOKEN_HEADER,
            ORDER_TOKEN_HEADER,
        ],
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE", "OPTIONS"],
        expose_headers=["X-Request-ID", "Retry-After", "Location"],
        max_age=600,
    )
    register_error_handlers(app)
    from app.auth.service import load_user_from_claims
    from app.core.security import set_user_loader

    set_user_loader(app, load_user_from_claims)
    _register_request_hooks(app)
    from app.core.ratelimit import init_rate_limiter

    # After the request hooks, so a 429 still carries its request id.
    init_rate_limiter(app, settings)
    from app.core.ids import register_id_converters

    register_id_converters(app)  # before the blueprints: their rules name the converters
    _register_blueprints(app)
    _register_lifecycle(app, settings)

    from app.cli import register_commands

    register_commands(app)
    return app


def _register_blueprints(app: Quart) -> None:
    from app.admin import bp as admin_bp
    from app.auth import bp as auth_bp
    from app.auth.recovery import on_email_verified
    from app.cart import bp as cart_bp
    from app.cart.service import merge_at_sign_in
    from app.catalog import bp as catalog_bp
    from app.charges import bp as charges_bp
    from app.health import bp as health_bp
    from app.orders import bp as orders_bp
    from app.orders.provider_events import apply_event
    from app.orders.service import join_guest_orders
    from app.payments import bp as payments_bp
    from app.payments import webhooks
    from app.reviews import bp as reviews_bp
    from app.users import bp as users_bp

    app.register_blueprint(docs_assets)
    app.register_blueprint(health_bp)
    app.register_blueprint(catalog_bp, url_prefix="/api/v1")
    app.register_blueprint(reviews_bp, url_prefix="/api/v1")
    app.register_blueprint(charges_bp, url_prefix="/api/v1")
    app.register_blueprint(auth_bp, url_prefix="/api/v1/auth")
    app.register_blueprint(users_bp, url_prefix="/api/v1/users")
    app.register_blueprint(cart_bp, url_prefix="/api/v1/cart")
    app.register_blueprint(orders_bp, url_prefix="/api/v1/orders")
    app.register_blueprint(payments_bp, url_prefix="/api/v1/payments")
    # The orders apply the provider's verified events; payments never import the orders.
    webhooks.on_event(app, apply_event)
    # Guest orders join the account that verifies their email, and a guest cart merges at
    # sign-in: auth imports neither orders nor the cart.
    on_email_verified(app, join_guest_orders)
    on_guest_cart_merge(app, merge_at_sign_in)
    app.register_blueprint(admin_bp, url_prefix="/api/v1/admin")

    from app.web import register_web_app

    register_web_app(app)  # last: the storefront at `/`, the admin panel at `/admin`


def _register_request_hooks(app: Quart) -> None:
    @app.before_request
    async def _start() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        valid = 0 < len(incoming) <= 128 and incoming.isprintable()
        g.request_id = incoming if valid else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    async def _finish(response):
        if response.status_code == 204:
            response.headers.pop("Content-Type", None)
        request_id = getattr(g, "request_id", None) or uuid.uuid4().hex
        response.headers["X-Request-ID"] = request_id
        if not access_log.isEnabledFor(logging.INFO):
            return response  # the line would be built only to be dropped (LOG_LEVEL above INFO)
        started = getattr(g, "started", None)
        user = getattr(g, "user", None)
        # One structured line per request; never headers or bodies (tokens, passwords).
        access_log.info(
            json.dumps(
                {
                    "request_id": request_id,
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2)
                    if started
                    else None,
                    "user_id": str(getattr(user, "id", "")) or None,
                    "remote": request.remote_addr,
                }
            )
        )
        return response


async def open_database(app: Quart, settings: Settings) -> None:
    """The app's database (`db.get_db()`), then how product search runs on it."""
    from app.catalog.search import init_search

    await db.init_db(app, settings)
    await init_search(app, settings)


def _register_lifecycle(app: Quart, settings: Settings) -> None:
    @app.before_serving
    async def _startup() -> None:
        from app.seed import on_startup

        await open_database(app, settings)
        await on_startup(settings)
        if settings.EMAIL_WORKER_ENABLED:
            from app.email.backends import backend_from_settings
            from app.email.sender import EmailSender

            sender = EmailSender(backend=backend_from_settings(settings), settings=settings)
            stop = asyncio.Event()
            app.extensions["email_worker"] = (stop, asyncio.create_task(sender.run(stop)))
        if settings.WEBHOOK_WORKER_ENABLED:
            from app.hooks.worker import WebhookWorker

            stop = asyncio.Event()
            worker = WebhookWorker(settings=settings)
            app.extensions["webhook_worker"] = (stop, asyncio.create_task(worker.run(stop)))
        if settings.ORDER_JOBS_ENABLED:
            from app.orders import jobs

            stop = asyncio.Event()
            app.extensions["order_jobs"] = (stop, asyncio.create_task(jobs.run(stop, settings)))

    @app.after_serving
    async def _shutdown() -> None:
        for name in ("email_worker", "order_jobs", "webhook_worker"):
            worker = app.extensions.pop(name, None)
            if worker:
                stop, task = worker
                stop.set()
                await task
        from app.payments.gateway import close_gateway

        await close_gateway(app)
        await db.close_db(app)
