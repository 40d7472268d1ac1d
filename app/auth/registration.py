"""Registration: create a customer and queue the verification email."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from app.auth.common import in_transaction, normalize_email, send_account_email
from app.auth.models import Address, User
from app.core.security import hash_password
from app.errors import Conflict, ErrorCode


async def register(
    *,
    email: str,
    password: str,
    name: str,
    phone: str | None = None,
    address: dict | None = None,
    session=None,
) -> User:
    """Create a customer and queue the verification email (one transaction).

    Raises Conflict(email_taken) when the email is registered (case-insensitively), also when
    two registrations race. Password strength is the schema's job (RegisterIn).
    """
    email = normalize_email(email)
    if await User.find_one(User.email == email, session=session):
        raise _email_taken()
    password_hash = await hash_password(password)
    addresses = [Address(**{**address, "is_default": True})] if address else []

    async def work(s) -> User:
        user = User(
            email=email,
            name=name,
            phone=phone,
            password_hash=password_hash,
            addresses=addresses,
        )
        await user.insert(session=s)
        await send_account_email(user, purpose="verify_email", session=s)
        return user

    try:
        return await in_transaction(work, session)
    except DuplicateKeyError:
        raise _email_taken() from None


def _email_taken() -> Conflict:
    return Conflict("An account with this email already exists.", code=ErrorCode.EMAIL_TAKEN)
