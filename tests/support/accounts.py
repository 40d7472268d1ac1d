"""Test users' password, and a genuine access token as a bearer header."""

from __future__ import annotations

from app.auth.models import User
from config import Settings

TEST_PASSWORD = "Correct-Horse-42"


async def auth_headers(user: User, settings: Settings | None = None) -> dict[str, str]:
    """`await auth_headers(user)`: a genuine access token, in an AuthSession of its own
    (started through the accounts service), as a bearer header. `settings` is accepted for
    older callers and not needed."""
    from app.auth.sessions import issue_access_token

    return {"Authorization": f"Bearer {await issue_access_token(user)}"}
