"""Helpers shared by the accounts use cases (registration, sessions, recovery, admin)."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from quart import current_app

from app.auth.models import AccountToken, User
from app.auth.passwords import password_problem
from app.core import db
from app.core.clock import utcnow
from app.core.security import new_opaque_token, token_digest
from app.email import service as email_service
from app.errors import ErrorCode, Invalid, Unauthenticated
from config import Settings


def settings() -> Settings:
    return current_app.config["SETTINGS"]


def normalize_email(email: str) -> str:
    """The one normal form of an address, for storing and for every lookup (registration,
    login, reset, admin): NFKC (full-width and other compatibility forms fold to their plain
    letters), trimmed, the email validator's normal form (IDNA domains in Unicode), lower case.
    Something that is not an address is only folded: it then simply finds nobody."""
    text = unicodedata.normalize("NFKC", email).strip()
    try:
        text = validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError:
        pass
    return text.lower()


# Scripts that are written together: Japanese mixes kana and kanji in one word.
_SCRIPT_FAMILIES = {"HIRAGANA": "JAPANESE", "KATAKANA": "JAPANESE", "CJK": "JAPANESE"}


def local_part_scripts(email: str) -> set[str]:
    """The writing systems of the letters before the `@` (after NFKC): `bоb` with a Cyrillic
    `о` gives {"LATIN", "CYRILLIC"}. Digits and punctuation belong to no script."""
    local = unicodedata.normalize("NFKC", email).rpartition("@")[0]
    scripts = set()
    for char in local:
        if char.isalpha():
            script = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            scripts.add(_SCRIPT_FAMILIES.get(script, script))
    return scripts


def invalid_token() -> Unauthenticated:
    return Unauthenticated("The access token is invalid.", code=ErrorCode.INVALID_TOKEN)


async def in_transaction(work, session):
    """Join the caller's transaction, or run `work` in a new one (retrying transient errors)."""
    if session is not None:
        return await work(session)
    return await db.run_in_transaction(work)


# What each single-use account link is: the setting holding its lifetime, the frontend page.
ACCOUNT_LINKS = {
    "verify_email": ("EMAIL_VERIFY_TOKEN_TTL", "/verify-email"),
    "password_reset": ("PASSWORD_RESET_TOKEN_TTL", "/reset-password"),
}


async def issue_account_link(user: User, *, purpose: str, session) -> dict:
    """A fresh single-use token for `purpose`, stored hashed; the user's earlier unused ones
    of that purpose are spent (only the newest link works). Returns the email's template
    context."""
    ttl_setting, path = ACCOUNT_LINKS[purpose]
    ttl_seconds = getattr(settings(), ttl_setting)
    now = utcnow()
    await AccountToken.get_pymongo_collection().update_many(
        {"user_id": user.id, "purpose": purpose, "used_at": None},
        {"$set": {"used_at": now}},
        session=session,
    )
    token = new_opaque_token()
    await AccountToken(
        token_hash=token_digest(token),
        purpose=purpose,
        user_id=user.id,
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    ).insert(session=session)
    return {
        # The name was typed by whoever registered: only greet an address its owner has
        # proven, so a stranger cannot put words (a fake refund link) in mail to others.
        "name": user.name if user.email_verified else None,
        "link": f"{settings().FRONTEND_URL.rstrip('/')}{path}?token={token}",
        "valid_hours": max(1, round(ttl_seconds / 3600)),
    }


async def send_account_email(user: User, *, purpose: str, session) -> None:
    """Issue a fresh link (see `issue_account_link`) and queue the email carrying it."""
    context = await issue_account_link(user, purpose=purpose, session=session)
    await email_service.enqueue(to=user.email, kind=purpose, context=context, session=session)


async def consume_account_token(token: str, *, purpose: str, session=None) -> AccountToken:
    """Spend a single-use token atomically. Raises Invalid(invalid_token) when it is unknown,
    spent or expired."""
    now = utcnow()
    row = await AccountToken.get_pymongo_collection().find_one_and_update(
        {
            "token_hash": token_digest(token),
            "purpose": purpose,
            "used_at": None,
            "expires_at": {"$gt": now},
        },
        {"$set": {"used_at": now}},
        session=session,
    )
    if row is None:
        raise bad_account_token()
    return AccountToken.model_validate(row)


def bad_account_token() -> Invalid:
    return Invalid("The token is invalid, used or expired.", code=ErrorCode.INVALID_TOKEN)


def check_strength(password: str, *, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise Invalid(problem, code=ErrorCode.WEAK_PASSWORD)
