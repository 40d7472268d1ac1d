"""The email tests talk to a real SMTP server (aiosmtpd) on 127.0.0.1: tests/support/smtp.py."""

from __future__ import annotations

import pytest

from tests.support.smtp import smtp_server  # noqa: F401


@pytest.fixture
def settings_overrides(smtp_server):  # noqa: F811 (the fixture imported above)
    return {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": smtp_server.port,
        "SMTP_STARTTLS": False,
        "EMAIL_RETRY_BASE_SECONDS": 0.05,
        "EMAIL_LEASE_SECONDS": 30,
        "MAIL_FROM": "Shop <shop@example.com>",
    }
