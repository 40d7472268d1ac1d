"""Settings: production refuses unsafe defaults; the embedded engine is the default."""

import pytest
from pydantic import ValidationError

from config import PUBLIC_SECRET_KEYS, Settings

GOOD_SECRET = "k" * 48
URI = "mongodb://db:27017/?replicaSet=rs0"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """These tests are about defaults and refusals: the shell's variables (MONGODB_URI under
    `make test-mongo`, say) must not leak into them."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


# What a test does not set is unset, whatever this machine's environment holds (the suite
# also runs with MONGODB_URI set, against a real server).
UNSET = {"MONGODB_URI": None, "SECRET_KEY": None, "SMTP_HOST": None, "EMAIL_BACKEND": None}


def settings(**values) -> Settings:
    return Settings(_env_file=None, **{**UNSET, **values})


def test_development_defaults():
    s = settings()
    assert (s.APP_ENV, s.HOST, s.PORT) == ("development", "127.0.0.1", 8000)
    assert s.use_embedded_db and s.seed_demo_catalog
    assert s.PAYMENT_PROVIDER == "dev"


@pytest.mark.parametrize(
    ("values", "public"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"HOST": "0.0.0.0", "PORT": 8080}, "http://127.0.0.1:8080"),
        ({"HOST": "::", "PORT": 8080}, "http://[::1]:8080"),
        ({"HOST": "shop.internal"}, "http://shop.internal:8000"),
        ({"PUBLIC_URL": "https://shop.example/"}, "https://shop.example"),
    ],
)
def test_frontend_url_defaults_to_the_apps_own_address(values, public):
    """The app serves the web app itself, so the links in emails open it by default."""
    s = settings(**values)
    assert s.public_url == public
    assert s.FRONTEND_URL == public


def test_frontend_url_can_point_elsewhere():
    s = settings(FRONTEND_URL="https://www.shop.example")
    assert (s.FRONTEND_URL, s.public_url) == ("https://www.shop.example", "http://127.0.0.1:8000")


def test_search_mode_defaults_to_auto_and_text_needs_a_server():
    server = {"MONGODB_URI": URI, "SECRET_KEY": GOOD_SECRET}
    assert settings().SEARCH_MODE == "auto"
    assert settings(SEARCH_MODE="regex", **server).SEARCH_MODE == "regex"
    assert settings(SEARCH_MODE="text", **server).SEARCH_MODE == "text"
    with pytest.raises(ValidationError, match="SEARCH_MODE=text needs MONGODB_URI"):
        settings(SEARCH_MODE="text")
    with pytest.raises(ValidationError):
        settings(SEARCH_MODE="fulltext", **server)


def test_demo_catalog_defaults_off_on_a_real_database():
    assert settings(MONGODB_URI=URI, SECRET_KEY=GOOD_SECRET).seed_demo_catalog is False
    assert (
        settings(MONGODB_URI=URI, SECRET_KEY=GOOD_SECRET, SEED_DEMO_CATALOG=True).seed_demo_catalog
        is True
    )


@pytest.mark.parametrize(
    "values, complaint",
    [
        ({"MONGODB_URI": URI}, "SECRET_KEY"),
        ({"MONGODB_URI": URI, "SECRET_KEY": next(iter(PUBLIC_SECRET_KEYS))}, "SECRET_KEY"),
        ({"MONGODB_URI": URI, "SECRET_KEY": "short"}, "SECRET_KEY"),
        ({"SECRET_KEY": GOOD_SECRET}, "MONGODB_URI"),
        (
            {"SECRET_KEY": GOOD_SECRET, "MONGODB_URI": URI, "PAYMENT_PROVIDER": "stripe"},
            "STRIPE_SECRET_KEY",
        ),
    ],
)
def test_production_refuses_to_start_unsafely(values, complaint):
    with pytest.raises(ValidationError) as error:
        settings(APP_ENV="production", **values)
    assert complaint in str(error.value)


# Production with everything but payments configured.
PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": GOOD_SECRET,
    "MONGODB_URI": URI,
    "SMTP_HOST": "mail.example",
}
LIVE_STRIPE = {
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_" + "x" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "y" * 24,
}


def test_production_starts_when_configured():
    s = settings(**PRODUCTION, **LIVE_STRIPE)
    assert not s.use_embedded_db and s.PAYMENT_PROVIDER == "stripe"


@pytest.mark.parametrize("provider", [{}, {"PAYMENT_PROVIDER": "dev"}])
def test_production_refuses_the_dev_payment_provider(provider):
    # The dev provider "pays" any order with `pm_card_visa`: no money would ever be taken.
    with pytest.raises(ValidationError) as error:
        settings(**PRODUCTION, **provider)
    assert "PAYMENT_PROVIDER=dev" in str(error.value)


@pytest.mark.parametrize("key", ["sk_test_" + "a" * 24, "rk_test_" + "b" * 24])
def test_production_refuses_stripe_test_mode_keys(key):
    with pytest.raises(ValidationError) as error:
        settings(**PRODUCTION, **{**LIVE_STRIPE, "STRIPE_SECRET_KEY": key})
    text = str(error.value)
    assert "test-mode key" in text and "STRIPE_ALLOW_TEST_MODE" in text
    assert key not in text


@pytest.mark.parametrize("key", ["sk_test_" + "a" * 24, "rk_test_" + "b" * 24])
def test_a_staging_deployment_may_run_stripe_in_test_mode_when_it_says_so(key):
    s = settings(
        **PRODUCTION,
        **{**LIVE_STRIPE, "STRIPE_SECRET_KEY": key},
        STRIPE_ALLOW_TEST_MODE=True,
    )
    assert s.STRIPE_ALLOW_TEST_MODE and s.STRIPE_SECRET_KEY == key


def test_production_refuses_another_stripe_api_base_unless_test_mode_is_allowed():
    # A live key sent to an emulator takes no money (and hands the key to that host).
    emulator = {"STRIPE_API_BASE": "http://127.0.0.1:8420"}
    with pytest.raises(ValidationError) as error:
        settings(**PRODUCTION, **LIVE_STRIPE, **emulator)
    assert "STRIPE_API_BASE" in str(error.value) and "sk_live_" not in str(error.value)
    assert settings(**PRODUCTION, **LIVE_STRIPE, **emulator, STRIPE_ALLOW_TEST_MODE=True)
    assert settings(PAYMENT_PROVIDER="stripe", **emulator)  # development: the emulator


def test_production_refuses_a_test_mode_publishable_key_unless_test_mode_is_allowed():
    # The web app's Payment Element would run in test mode: nobody would be charged.
    test_key = {"STRIPE_PUBLISHABLE_KEY": "pk_test_" + "p" * 24}
    with pytest.raises(ValidationError) as error:
        settings(**PRODUCTION, **LIVE_STRIPE, **test_key)
    assert "STRIPE_PUBLISHABLE_KEY" in str(error.value)
    assert settings(**PRODUCTION, **LIVE_STRIPE, **test_key, STRIPE_ALLOW_TEST_MODE=True)
    live = settings(**PRODUCTION, **LIVE_STRIPE, STRIPE_PUBLISHABLE_KEY="pk_live_" + "p" * 24)
    assert live.STRIPE_PUBLISHABLE_KEY.startswith("pk_live_")
    assert settings(PAYMENT_PROVIDER="stripe", **test_key)  # development


@pytest.mark.parametrize("key", ["sk_live_" + "s" * 24, "rk_test_" + "r" * 24])
def test_a_secret_key_is_never_accepted_as_the_publishable_key(key):
    # The publishable key goes to every browser: a secret one there would be leaked.
    for env in ({}, PRODUCTION):
        with pytest.raises(ValidationError) as error:
            settings(**env, **LIVE_STRIPE, STRIPE_PUBLISHABLE_KEY=key)
        assert "STRIPE_PUBLISHABLE_KEY holds a secret key" in str(error.value)
        assert key not in str(error.value)


def test_allowing_test_mode_never_allows_the_dev_provider():
    with pytest.raises(ValidationError) as error:
        settings(**PRODUCTION, STRIPE_ALLOW_TEST_MODE=True)
    assert "PAYMENT_PROVIDER=dev" in str(error.value)


def test_a_restricted_live_key_is_fine_and_test_keys_are_fine_outside_production():
    assert settings(**PRODUCTION, **{**LIVE_STRIPE, "STRIPE_SECRET_KEY": "rk_live_" + "c" * 24})
    assert settings(PAYMENT_PROVIDER="stripe", STRIPE_SECRET_KEY="sk_test_" + "d" * 24)


def test_environment_variables_are_read(monkeypatch):
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("CORS_ORIGINS", "https://a.example, https://b.example")
    s = settings()
    assert s.PORT == 9001
    assert s.cors_origins == ["https://a.example", "https://b.example"]


def test_create_app_refuses_production_with_default_secret(monkeypatch):
    from config import get_settings

    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    get_settings.cache_clear()
    try:
        from app import create_app

        with pytest.raises(ValidationError):
            create_app()
    finally:
        get_settings.cache_clear()


def test_refusal_does_not_print_the_secrets_it_was_given():
    with pytest.raises(ValidationError) as error:
        settings(
            APP_ENV="production",
            SECRET_KEY="short-secret-VALUE",
            MONGODB_URI="mongodb://user:db-PASSWORD@db/?replicaSet=rs0",
            PAYMENT_PROVIDER="stripe",
            STRIPE_SECRET_KEY="sk_test_SUPERSECRET12345",
        )
    text = str(error.value)
    assert "SECRET_KEY" in text
    for secret in ("short-secret-VALUE", "db-PASSWORD", "SUPERSECRET"):
        assert secret not in text


@pytest.mark.parametrize("code, expected", [("EUR", "eur"), ("usd", "usd")])
def test_store_currency_is_iso_4217(code, expected):
    assert settings(STORE_CURRENCY=code).STORE_CURRENCY == expected


@pytest.mark.parametrize("code", ["xyz", "dollars", ""])
def test_store_currency_refuses_non_iso_codes(code):
    with pytest.raises(ValidationError):
        settings(STORE_CURRENCY=code)


def test_the_compose_file_runs_production_on_stripe_with_required_keys():
    """docker-compose.yml runs APP_ENV=production: it must name Stripe, and refuse to start
    (compose's `${VAR:?message}`) without its keys rather than fall back to anything."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    assert "APP_ENV: production" in text
    assert "PAYMENT_PROVIDER: stripe" in text
    assert "PAYMENT_PROVIDER: ${" not in text  # not overridable back to dev from the shell
    for name in ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        assert f"{name}: ${{{name}:?" in text, name
