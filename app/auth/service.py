"""The accounts service, one module per use case; this module gathers their public API so
routes and other domains keep calling `app.auth.service.<name>`.

- `registration`: register.
- `sessions`: the access-token user loader, login, refresh, logout, session revocation.
- `recovery`: email verification and its resending, forgot/reset password, password change.
- `requests`: links asked for by email address, answered by the email worker.
- `administration`: list and update users, the start-up admin.
- `lockout`: the failed-login counters; `common`: helpers the use cases share.
"""

from __future__ import annotations

from app.auth.administration import ensure_admin, list_users, unlock_user, update_user
from app.auth.common import normalize_email
from app.auth.recovery import (
    change_password,
    forgot_password,
    resend_verification,
    reset_password,
    verify_email,
)
from app.auth.registration import register
from app.auth.sessions import (
    TokenPair,
    load_user_from_claims,
    login,
    logout,
    refresh,
    refresh_token_owner,
    revoke_family,
    revoke_user_sessions,
)

__all__ = [
    "TokenPair",
    "change_password",
    "ensure_admin",
    "forgot_password",
    "list_users",
    "load_user_from_claims",
    "login",
    "logout",
    "normalize_email",
    "refresh",
    "refresh_token_owner",
    "register",
    "resend_verification",
    "reset_password",
    "revoke_family",
    "revoke_user_sessions",
    "unlock_user",
    "update_user",
    "verify_email",
]
