"""Password rules shared by registration, reset and change (NIST 800-63B in spirit)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, WithJsonSchema

MIN_LENGTH = 10
# bcrypt only reads the first 72 bytes (and bcrypt 5 refuses longer input).
MAX_BYTES = 72
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")

_CLASSES = (
    re.compile(r"[a-z]"),
    re.compile(r"[A-Z]"),
    re.compile(r"[0-9]"),
    re.compile(r"[^a-zA-Z0-9]"),
)
_EDGES = re.compile(r"^[^a-z]+|[^a-z]+$")


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _is_common(password: str) -> bool:
    lowered = password.lower()
    # "Password2024!" is "password" with decorations: refuse it too.
    core = _EDGES.sub("", lowered)
    listed = common_passwords()
    return lowered in listed or (core != "" and core in listed)


def password_problem(password: str, *, email: str | None = None) -> str | None:
    """Why `password` is too weak, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    if len(password.encode()) > MAX_BYTES:
        return f"The password must be at most {MAX_BYTES} bytes long."
    if sum(1 for pattern in _CLASSES if pattern.search(password)) < 2:
        return "The password must mix at least two of: lower case, upper case, digits, symbols."
    if _is_common(password):
        return "The password is too common."
    if email:
        local = email.split("@", 1)[0].lower()
        if len(local) >= 3 and local in password.lower():
            return "The password must not contain the email address."
    return None


def _check(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return password


def _fits_bcrypt(password: str) -> str:
    if len(password.encode()) > MAX_BYTES:
        raise ValueError(f"The password must be at most {MAX_BYTES} bytes long.")
    return password


# The rules in the OpenAPI schema, as far as JSON Schema can say them: a pattern cannot count
# UTF-8 bytes, look a password up in a list or compare it with the email, so the description
# says those. (InModel refuses NUL in every string; the patterns say so too.)
_NO_NUL = r"(?=[^\u0000]*$)"
_ANY = r"[\s\S]*"
_CLASS_PATTERNS = ("[a-z]", "[A-Z]", "[0-9]", "[^a-zA-Z0-9]")
TWO_CLASSES_PATTERN = (
    f"^{_NO_NUL}(?:"
    + "|".join(
        f"(?={_ANY}{first})(?={_ANY}{second})"
        for index, first in enumerate(_CLASS_PATTERNS)
        for second in _CLASS_PATTERNS[index + 1 :]
    )
    + ")"
)
RAW_PASSWORD_SCHEMA = {
    "type": "string",
    "format": "password",
    "minLength": 1,
    "maxLength": MAX_BYTES,
    "pattern": f"^{_NO_NUL}",
    "description": f"Exactly as typed (never trimmed); at most {MAX_BYTES} bytes of UTF-8.",
}
NEW_PASSWORD_SCHEMA = {
    "type": "string",
    "format": "password",
    "minLength": MIN_LENGTH,
    "maxLength": MAX_BYTES,
    "pattern": TWO_CLASSES_PATTERN,
    "description": (
        f"Exactly as typed (never trimmed): {MIN_LENGTH} characters to {MAX_BYTES} bytes of "
        "UTF-8, mixing at least two of lower case, upper case, digits and symbols; not a "
        "common password (decorated ones such as `Password2024!` included); not containing "
        "the part of the account's email before the @ (when that is 3 characters or more)."
    ),
}

# Passwords are taken exactly as typed: never trimmed (InModel trims other strings).
RawPassword = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_BYTES),
    AfterValidator(_fits_bcrypt),
    WithJsonSchema(RAW_PASSWORD_SCHEMA),
]
# A new password: the rules above, except the email one (checked where the email is known).
NewPassword = Annotated[
    str,
    StringConstraints(strip_whitespace=False, min_length=1, max_length=MAX_BYTES),
    AfterValidator(_check),
    WithJsonSchema(NEW_PASSWORD_SCHEMA),
]
