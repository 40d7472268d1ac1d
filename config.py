"""Settings: the only module that reads the environment (and `.env`)."""

from __future__ import annotations

import secrets
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The development key that used to be the default: it is public (it is in the git history),
# so it is refused wherever it turns up.
PUBLIC_SECRET_KEYS = frozenset({"dev-insecure-secret-key-change-me-0123456789"})
MIN_SECRET_KEY_LENGTH = 32
# Stripe's test-mode secret and restricted keys: payments "succeed" and no money moves.
STRIPE_TEST_KEY_PREFIXES = ("sk_test_", "rk_test_")


def _iso_currency(code: str) -> str:
    from app.core.money import iso_currency  # imported late: `app` imports this module

    return iso_currency(code)


def _time_zone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"STORE_TIMEZONE {name!r} is not an IANA time zone") from None
    return name


class Settings(BaseSettings):
    """Every knob of the shop, named exactly as in API.md's Configuration section."""

    # hide_input_in_errors: a refusal to start must not print the secrets it was given.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    APP_ENV: Literal["development", "production", "testing"] = "development"
    HOST: str = "127.0.0.1"
    PORT: int = 8000
    # Unset: the embedded engine gets a random key per start (its data dies with the process
    # anyway); with MONGODB_URI it is required in every mode.
    SECRET_KEY: str | None = None

    MONGODB_URI: str | None = None
    MONGODB_DB: str = "shop"
    # Product search (`?q=`): "text" needs the server's text index and `$text`; "regex" uses
    # whole-word regular expressions (no text index); "auto" uses text where the server can
    # build the index and regex elsewhere (the embedded engine, servers without text indexes).
    SEARCH_MODE: Literal["auto", "text", "regex"] = "auto"

    # Where the links in emails open (verify, reset, orders). Empty: the app's own address
    # (`public_url`), where it serves the web app.
    FRONTEND_URL: str = ""
    # The one currency the store sells in (ISO 4217, lower case): prices, carts, orders.
    STORE_CURRENCY: Annotated[str, AfterValidator(_iso_currency)] = "usd"
    CORS_ORIGINS: str = "http://localhost:3000"

    ADMIN_EMAIL: str | None = None
    ADMIN_PASSWORD: str | None = None
    SEED_DEMO_CATALOG: bool | None = None  # None: on for the embedded engine, off otherwise

    # None: "smtp" when SMTP_HOST is set, else "console" (mail written to the log). Production
    # refuses "console" unless it is asked for explicitly: the log would hold live reset links.
    EMAIL_BACKEND: Literal["smtp", "console"] | None = None
    SMTP_HOST: str | None = None
    SMTP_PORT: int = 587
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    SMTP_STARTTLS: bool = True
    MAIL_FROM: str = "Shop <no-reply@shop.local>"

    PAYMENT_PROVIDER: Literal["dev", "stripe"] = "dev"
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None
    # Production payments (review, finding 1): production refuses the dev provider, and Stripe
    # test-mode keys (`sk_test_`, `rk_test_`) unless this says the deployment takes no real
    # money on purpose (a staging site).
    STRIPE_ALLOW_TEST_MODE: bool = False
    # Fault-injection load test: the dev provider takes Stripe-format events signed with this
    # (unset: it takes no webhooks at all).
    DEV_WEBHOOK_SECRET: str | None = None
    # Web app, Stripe Payment Element (issue 17): the publishable key (`pk_live_...`, or
    # `pk_test_...` where test mode is allowed) that the SPA reads from
    # GET /api/v1/payments/config. Public by design; never a secret (`sk_`/`rk_`) key.
    STRIPE_PUBLISHABLE_KEY: str | None = None

    ACCESS_TOKEN_TTL: int = Field(default=15 * 60, gt=0)
    REFRESH_TOKEN_TTL: int = Field(default=30 * 24 * 3600, gt=0)

    # Knobs not in the contract's list, with safe defaults.
    BCRYPT_ROUNDS: int = Field(default=12, ge=4, le=16)
    EMAIL_MAX_ATTEMPTS: int = Field(default=8, ge=1)
    EMAIL_RETRY_BASE_SECONDS: float = Field(default=30.0, gt=0)
    EMAIL_LEASE_SECONDS: float = Field(default=60.0, gt=0)
    EMAIL_POLL_SECONDS: float = Field(default=2.0, gt=0)
    EMAIL_WORKER_ENABLED: bool = True
    RATE_LIMIT_ENABLED: bool = True
    # Failed logins per account *and* client address before that address is locked out.
    LOGIN_LOCKOUT_ATTEMPTS: int = Field(default=5, ge=1)
    LOGIN_LOCKOUT_SECONDS: int = Field(default=15 * 60, ge=1)
    # Failed logins per account from all addresses together before attempts are slowed to one
    # per LOGIN_SLOWDOWN_SECONDS (429 with Retry-After; never a lock).
    LOGIN_ACCOUNT_ATTEMPTS: int = Field(default=20, ge=1)
    LOGIN_SLOWDOWN_SECONDS: int = Field(default=20, ge=1, le=3600)
    # Requests per minute, counted per client IP and, separately, per account (email).
    RATE_LIMIT_LOGIN_PER_MINUTE: int = Field(default=10, ge=1)
    RATE_LIMIT_REGISTER_PER_MINUTE: int = Field(default=10, ge=1)
    RATE_LIMIT_FORGOT_PASSWORD_PER_MINUTE: int = Field(default=5, ge=1)
    RATE_LIMIT_REFRESH_PER_MINUTE: int = Field(default=30, ge=1)
    RATE_LIMIT_RESEND_VERIFICATION_PER_MINUTE: int = Field(default=5, ge=1)
    # Reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host to trust (0: none,
    # the connection's address is the client's).
    TRUSTED_PROXY_HOPS: int = Field(default=0, ge=0, le=10)
    # Strict-Transport-Security max-age in seconds when the site is served over HTTPS (0: off).
    HSTS_MAX_AGE: int = Field(default=0, ge=0, le=2 * 365 * 24 * 3600)
    EMAIL_VERIFY_TOKEN_TTL: int = Field(default=48 * 3600, gt=0)
    PASSWORD_RESET_TOKEN_TTL: int = Field(default=3600, gt=0)
    # Unpaid orders are cancelled (and restocked) after this long.
    ORDER_PAYMENT_TIMEOUT_SECONDS: int = Field(default=1800, ge=60)
    ORDER_JOBS_ENABLED: bool = True  # expiry and refund retries run inside the app
    ORDER_JOBS_INTERVAL_SECONDS: float = Field(default=60.0, gt=0)
    # Stripe calls: time-out and retries of connection errors (with an idempotency key).
    STRIPE_TIMEOUT_SECONDS: float = Field(default=20.0, gt=0)
    STRIPE_MAX_NETWORK_RETRIES: int = Field(default=2, ge=0, le=5)
    # Reconciliation (webhooks that never came): orders awaiting payment whose intent is this
    # old are checked with the provider, at most every PAYMENT_RECONCILE_INTERVAL_SECONDS.
    PAYMENT_RECONCILE_AFTER_SECONDS: int = Field(default=600, ge=0)
    PAYMENT_RECONCILE_INTERVAL_SECONDS: float = Field(default=300.0, gt=0)
    # Refunds the provider refused on a cancelled order (the money is owed): the job asks
    # again after REFUND_RETRY_BACKOFF_SECONDS, doubling each time, until the provider has
    # been asked REFUND_RETRY_MAX_ATTEMPTS times in all; then it stays `refund_failed` for an
    # admin to refund.
    REFUND_RETRY_MAX_ATTEMPTS: int = Field(default=6, ge=1, le=20)
    REFUND_RETRY_BACKOFF_SECONDS: int = Field(default=900, ge=1)
    LOG_LEVEL: str = "INFO"
    # Abuse of checkout (review issue 16): what one customer may hold in orders awaiting
    # payment (a real shopper pays or abandons one order at a time; 3 leaves room for a
    # second tab and a retry, 50 units for any household basket, while one account can no
    # longer reserve a product's whole stock), how often checkout and cancel may be called
    # (per minute, per account and per client address), and how often one product's
    # low-stock alert may mail the admins again (0: on every crossing of the threshold).
    UNPAID_ORDERS_MAX: int = Field(default=3, ge=1)
    UNPAID_UNITS_MAX: int = Field(default=50, ge=1)
    RATE_LIMIT_CHECKOUT_PER_MINUTE: int = Field(default=10, ge=1)
    RATE_LIMIT_CANCEL_PER_MINUTE: int = Field(default=10, ge=1)
    # Guest carts and checkout (issue 18): new guest carts per client address and minute (as
    # registrations are limited).
    RATE_LIMIT_GUEST_CART_PER_MINUTE: int = Field(default=10, ge=1)
    LOW_STOCK_ALERT_INTERVAL_SECONDS: int = Field(default=3600, ge=0)
    # The web app (issue 17). PUBLIC_URL: this app's address as browsers reach it (empty:
    # http://HOST:PORT, a wildcard HOST read as loopback); the demo catalog's image URLs and
    # FRONTEND_URL's default are built from it. WEB_DIST_DIR: the built web app (empty:
    # web/dist beside the app).
    PUBLIC_URL: str = ""
    WEB_DIST_DIR: str = ""
    # Per-worker memory for cached public catalog responses; 0 turns that cache off (ETags
    # and 304s stay).
    CATALOG_CACHE_MB: int = Field(default=32, ge=0)
    # Outgoing webhooks and sales reports (issue 20). WEBHOOK_SECRETS_KEY encrypts the
    # endpoints' signing secrets at rest (unset: a key derived from SECRET_KEY; set it to rotate
    # SECRET_KEY without losing them). WEBHOOK_ALLOW_PRIVATE_URLS: receivers on http:// and on
    # private, loopback or link-local addresses (None: allowed outside production; production
    # refuses true). Attempts time out after WEBHOOK_TIMEOUT_SECONDS, retries back off from
    # WEBHOOK_RETRY_BASE_SECONDS (doubled, with jitter, at most WEBHOOK_RETRY_MAX_SECONDS), the
    # last of WEBHOOK_MAX_ATTEMPTS dead-letters; WEBHOOK_DISABLE_AFTER_FAILURES dead letters in
    # a row disable the endpoint. STORE_TIMEZONE: the reports' days (IANA name).
    WEBHOOK_SECRETS_KEY: str | None = None
    WEBHOOK_ALLOW_PRIVATE_URLS: bool | None = None
    WEBHOOK_WORKER_ENABLED: bool = True
    WEBHOOK_TIMEOUT_SECONDS: float = Field(default=5.0, gt=0, le=60)
    WEBHOOK_MAX_ATTEMPTS: int = Field(default=8, ge=1, le=30)
    WEBHOOK_RETRY_BASE_SECONDS: float = Field(default=10.0, gt=0)
    WEBHOOK_RETRY_MAX_SECONDS: float = Field(default=6 * 3600.0, gt=0)
    WEBHOOK_LEASE_SECONDS: float = Field(default=60.0, gt=0)
    WEBHOOK_POLL_SECONDS: float = Field(default=1.0, gt=0)
    WEBHOOK_ENDPOINT_CONCURRENCY: int = Field(default=4, ge=1, le=64)
    WEBHOOK_MAX_IN_FLIGHT: int = Field(default=32, ge=1, le=1024)
    WEBHOOK_RESPONSE_MAX_BYTES: int = Field(default=4096, ge=0)
    WEBHOOK_DISABLE_AFTER_FAILURES: int = Field(default=5, ge=1)
    WEBHOOK_ROTATION_OVERLAP_SECONDS: int = Field(default=24 * 3600, ge=0, le=30 * 86400)
    STORE_TIMEZONE: Annotated[str, AfterValidator(_time_zone)] = "UTC"
    # Priced checkout (issue 19). PRICES_INCLUDE_TAX: false, prices are net and tax is added
    # (US style); true, prices include tax (EU style) and the tax is shown inside the total.
    PRICES_INCLUDE_TAX: bool = False

    @property
    def use_embedded_db(self) -> bool:
        return not self.MONGODB_URI

    @property
    def seed_demo_catalog(self) -> bool:
        if self.SEED_DEMO_CATALOG is None:
            return self.use_embedded_db
        return self.SEED_DEMO_CATALOG

    @property
    def public_url(self) -> str:
        if self.PUBLIC_URL:
            return self.PUBLIC_URL.rstrip("/")
        wildcard = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # noqa: S104 (a lookup)
        host = wildcard.get(self.HOST, self.HOST)
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        return f"http://{host}:{self.PORT}"

    @property
    def cors_origins(self) -> list[str]:
        return [o.strip() for o in self.CORS_ORIGINS.split(",") if o.strip()]

    @property
    def email_backend(self) -> Literal["smtp", "console"]:
        return self.EMAIL_BACKEND or ("smtp" if self.SMTP_HOST else "console")

    @model_validator(mode="after")
    def _frontend_defaults_to_this_app(self) -> Settings:
        if not self.FRONTEND_URL:
            self.FRONTEND_URL = self.public_url
        return self

    @model_validator(mode="after")
    def _text_search_needs_a_server(self) -> Settings:
        if self.SEARCH_MODE == "text" and not self.MONGODB_URI:
            raise ValueError("SEARCH_MODE=text needs MONGODB_URI: the embedded engine has no $text")
        return self

    @model_validator(mode="after")
    def _refuse_unsafe_settings(self) -> Settings:
        problems = []
        if not self.SECRET_KEY:
            if self.MONGODB_URI:
                problems.append("SECRET_KEY is required with MONGODB_URI")
            else:
                self.SECRET_KEY = secrets.token_urlsafe(48)
        elif self.SECRET_KEY in PUBLIC_SECRET_KEYS or len(self.SECRET_KEY) < MIN_SECRET_KEY_LENGTH:
            problems.append(
                f"SECRET_KEY must be a random value of {MIN_SECRET_KEY_LENGTH}+ characters"
            )
        if self.EMAIL_BACKEND == "smtp" and not self.SMTP_HOST:
            problems.append("EMAIL_BACKEND=smtp needs SMTP_HOST")
        if self.APP_ENV == "production":
            if not self.MONGODB_URI:
                problems.append("MONGODB_URI must point at a MongoDB replica set")
            problems.extend(self._production_payment_problems())
            if not self.SMTP_HOST and self.EMAIL_BACKEND != "console":
                problems.append(
                    "SMTP_HOST is required (or EMAIL_BACKEND=console to write mail, reset "
                    "links included, to the log)"
                )
        problems.extend(self._webhook_problems())
        if (self.STRIPE_PUBLISHABLE_KEY or "").startswith(("sk_", "rk_")):
            # It is sent to every browser: a secret key there is a leaked key.
            problems.append(
                "STRIPE_PUBLISHABLE_KEY holds a secret key (sk_/rk_): it is public, use pk_..."
            )
        if problems:
            raise ValueError("refusing to start: " + "; ".join(problems))
        return self

    def _webhook_problems(self) -> list[str]:
        """Outgoing webhooks (issue 20): the key that encrypts their secrets, and production
        calling only public https receivers."""
        problems = []
        key = self.WEBHOOK_SECRETS_KEY
        if key is not None and (
            key in PUBLIC_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH or key == self.SECRET_KEY
        ):
            problems.append(
                f"WEBHOOK_SECRETS_KEY must be a random value of {MIN_SECRET_KEY_LENGTH}+ "
                "characters, not SECRET_KEY"
            )
        if self.APP_ENV == "production" and self.WEBHOOK_ALLOW_PRIVATE_URLS:
            problems.append(
                "WEBHOOK_ALLOW_PRIVATE_URLS=true lets admins make the server call private and "
                "internal addresses: production calls only public https receivers"
            )
        return problems

    def _production_payment_problems(self) -> list[str]:
        """Production takes real money: the dev provider "pays" any order with a test card, and
        a Stripe test-mode key charges nobody. Neither may run in production unnoticed."""
        if self.PAYMENT_PROVIDER == "dev":
            return [
                "PAYMENT_PROVIDER=dev accepts test cards without taking money: set "
                "PAYMENT_PROVIDER=stripe"
            ]
        problems = []
        if not (self.STRIPE_SECRET_KEY and self.STRIPE_WEBHOOK_SECRET):
            problems.append("STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET are required")
        key = self.STRIPE_SECRET_KEY or ""
        if key.startswith(STRIPE_TEST_KEY_PREFIXES) and not self.STRIPE_ALLOW_TEST_MODE:
            problems.append(
                "STRIPE_SECRET_KEY is a test-mode key (no money is taken): use a live key, or "
                "set STRIPE_ALLOW_TEST_MODE=true for a deployment that must not take money"
            )
        if self.STRIPE_API_BASE and not self.STRIPE_ALLOW_TEST_MODE:
            # Stripe's API elsewhere than Stripe is an emulator (it "charges" any card), or a
            # host that would receive the secret key.
            problems.append(
                "STRIPE_API_BASE sends Stripe calls (and the secret key) away from Stripe, to an "
                "emulator that takes no money: unset it, or set STRIPE_ALLOW_TEST_MODE=true"
            )
        publishable = self.STRIPE_PUBLISHABLE_KEY or ""
        if publishable.startswith("pk_test_") and not self.STRIPE_ALLOW_TEST_MODE:
            problems.append(
                "STRIPE_PUBLISHABLE_KEY is a test-mode key: the web app's payments would take no "
                "money; use a live key, or set STRIPE_ALLOW_TEST_MODE=true"
            )
        return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()
