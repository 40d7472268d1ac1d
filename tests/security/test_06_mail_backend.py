"""Finding 6: production refuses to start without SMTP unless told to log mail (which writes
live reset links to the log)."""

import pytest
from pydantic import ValidationError

from app.email.backends import ConsoleBackend, SMTPBackend, backend_from_settings
from config import Settings

PRODUCTION = {
    "APP_ENV": "production",
    "SECRET_KEY": "k" * 48,
    "MONGODB_URI": "mongodb://db:27017/?replicaSet=rs0",
    "PAYMENT_PROVIDER": "stripe",
    "STRIPE_SECRET_KEY": "sk_live_" + "x" * 24,
    "STRIPE_WEBHOOK_SECRET": "whsec_" + "y" * 24,
}


# What a test does not set is unset, whatever this machine's environment holds (the suite
# also runs with MONGODB_URI set, against a real server).
UNSET = {"MONGODB_URI": None, "SECRET_KEY": None, "SMTP_HOST": None, "EMAIL_BACKEND": None}


def settings(**values) -> Settings:
    return Settings(_env_file=None, **{**UNSET, **values})


def test_production_without_smtp_refuses_to_start():
    with pytest.raises(ValidationError) as error:
        settings(**PRODUCTION)
    assert "SMTP_HOST" in str(error.value)


def test_production_may_log_mail_when_told_to():
    s = settings(**PRODUCTION, EMAIL_BACKEND="console")
    assert isinstance(backend_from_settings(s), ConsoleBackend)


def test_production_with_smtp_starts():
    s = settings(**PRODUCTION, SMTP_HOST="mail.example.com")
    assert isinstance(backend_from_settings(s), SMTPBackend)


def test_smtp_backend_without_a_host_is_refused_in_every_mode():
    with pytest.raises(ValidationError) as error:
        settings(EMAIL_BACKEND="smtp")
    assert "SMTP_HOST" in str(error.value)


def test_development_still_logs_mail_without_smtp():
    assert isinstance(backend_from_settings(settings()), ConsoleBackend)
