"""The app's settings under test, and an empty database for tests that build their own app."""

from __future__ import annotations

import os

from config import Settings


def make_settings(**overrides) -> Settings:
    values = dict(
        APP_ENV="testing",
        SECRET_KEY="test-secret-key-that-is-long-enough-0123456789",
        MONGODB_URI=os.environ.get("MONGODB_URI") or None,
        MONGODB_DB=os.environ.get("MONGODB_TEST_DB", "shop_test"),
        EMAIL_WORKER_ENABLED=False,
        ORDER_JOBS_ENABLED=False,
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


def empty_real_database(settings: Settings) -> None:
    """For tests that build their own app (a server thread, the CLI) rather than use `app`:
    a real server keeps data between tests, so start from empty collections (indexes stay).
    The embedded engine starts empty with every app."""
    if not settings.MONGODB_URI:
        return
    from pymongo import MongoClient

    with MongoClient(settings.MONGODB_URI) as client:
        database = client[settings.MONGODB_DB]
        for name in database.list_collection_names():
            database[name].delete_many({})
