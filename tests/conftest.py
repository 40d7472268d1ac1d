"""Shared fixtures: a fresh app and database per test, users and tokens, real peers.

Set MONGODB_URI to run the same suite against a real replica set (`make test-mongo`).
"""

from __future__ import annotations

import os

import pytest

from app import create_app
from app.auth.models import User
from app.core import db
from app.core.security import create_access_token, hash_password
from config import Settings

TEST_PASSWORD = "Correct-Horse-42"


def make_settings(**overrides) -> Settings:
    values = dict(
        APP_ENV="testing",
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        MONGODB_URI=os.environ.get("MONGODB_URI") or None,
        MONGODB_DB=os.environ.get("MONGODB_TEST_DB", "shop_test"),
        EMAIL_WORKER_ENABLED=False,
        SEED_DEMO_CATALOG=False,
        BCRYPT_ROUNDS=4,
        FRONTEND_URL="http://frontend.test",
        ADMIN_EMAIL=None,
        ADMIN_PASSWORD=None,
        SMTP_HOST=None,
        PAYMENT_PROVIDER="dev",
        _env_file=None,
    )
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings_overrides() -> dict:
    """Override in a test module (or parametrize) to change the app's settings."""
    return {}


@pytest.fixture
def settings(settings_overrides) -> Settings:
    return make_settings(**settings_overrides)


@pytest.fixture
async def app(settings):
    app = create_app(settings)
    async with app.test_app():
        # A real server keeps data between tests: start each one from empty collections.
        await db.drop_all_collections()
        async with app.app_context():
            yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def create_user(app, settings):
    """`await create_user(email=..., role=...)` -> (user, headers with a valid access token)."""
    counter = iter(range(1, 1_000_000))

    async def factory(
        *,
        email: str | None = None,
        password: str = TEST_PASSWORD,
        name: str = "Test User",
        role: str = "customer",
        email_verified: bool = True,
        is_active: bool = True,
    ) -> tuple[User, dict[str, str]]:
        user = User(
            email=(email or f"user{next(counter)}@example.com").lower(),
            name=name,
            role=role,
            email_verified=email_verified,
            is_active=is_active,
            password_hash=await hash_password(password, rounds=4),
        )
        await user.insert()
        return user, auth_headers(user, settings)

    return factory


def auth_headers(user: User, settings: Settings) -> dict[str, str]:
    token, _ = create_access_token(
        subject=str(user.id),
        role=user.role,
        secret=settings.SECRET_KEY,
        ttl_seconds=settings.ACCESS_TOKEN_TTL,
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def customer(create_user):
    return await create_user(email="customer@example.com")


@pytest.fixture
async def admin(create_user):
    return await create_user(email="admin@example.com", role="admin", name="Admin")


@pytest.fixture(autouse=True)
def test_email_templates(monkeypatch):
    """Adds the `test` and `other` email kinds (tests/email/templates) to the real ones."""
    from pathlib import Path

    from jinja2 import ChoiceLoader, FileSystemLoader

    from app.email import templates

    extra = FileSystemLoader(Path(__file__).parent / "email" / "templates")
    monkeypatch.setattr(templates._env, "loader", ChoiceLoader([templates._env.loader, extra]))
