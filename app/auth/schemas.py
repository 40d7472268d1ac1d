"""Request and response bodies of `/api/v1/auth` (and the user as every area shows it)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    EmailStr,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from app.auth.common import local_part_scripts
from app.auth.passwords import NewPassword, RawPassword, password_problem
from app.core.guest import CartMergeOut, CartToken
from app.core.schemas import (
    InModel,
    ObjectIdStr,
    OutModel,
    UTCDateTime,
    plain_text,
)

NAME_MAX = 100
# A person's name (registration, profile, a shipping address) is shown to others (a review's
# `author_name`, greetings, order pages): the same plain-text rule as review text, one line.
Name = plain_text(min_length=1, max_length=NAME_MAX, description="One line of plain text")
Phone = Annotated[
    str,
    # Digits first and last (a closing parenthesis may end it): nothing for trimming to take.
    StringConstraints(min_length=5, max_length=25, pattern=r"^\+?[0-9][0-9 ().\-]{2,22}[0-9)]$"),
]
Line = Annotated[str, StringConstraints(min_length=1, max_length=200)]
OptionalLine = Annotated[str, StringConstraints(max_length=200)]
City = Annotated[str, StringConstraints(min_length=1, max_length=100)]
PostalCode = Annotated[str, StringConstraints(min_length=1, max_length=20)]
Country = Annotated[str, StringConstraints(min_length=2, max_length=56)]
# Priced checkout (issue 19): the state or province, ISO 3166-2 without the country prefix.
Region = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z0-9]{1,3}$"),
    Field(description="State or province, ISO 3166-2 without the country prefix: `CA`"),
]
# Login and forgot-password take any string: an unknown or odd email simply finds nobody.
EmailLookup = Annotated[str, StringConstraints(min_length=1, max_length=320)]
OpaqueToken = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class AddressIn(InModel):
    line1: Line
    line2: OptionalLine | None = None
    city: City
    postal_code: PostalCode
    country: Country
    region: Region | None = None
    phone: Phone | None = None
    is_default: StrictBool = False


def _single_script(email: str) -> str:
    # `pаypal@` with a Cyrillic `а` looks like `paypal@`: refuse such look-alikes outright.
    if len(local_part_scripts(email)) > 1:
        raise ValueError("the part before @ must not mix writing systems (look-alike letters)")
    return email


NewEmail = Annotated[
    EmailStr,
    StringConstraints(max_length=254),
    AfterValidator(_single_script),
    Field(
        description="An email address that can receive mail: not at a special-use domain "
        "(RFC 6761: .arpa, .invalid, .local, .localhost, .onion, .test); the part before the "
        "@ in one writing system"
    ),
]


class RegisterIn(InModel):
    email: NewEmail
    password: NewPassword
    name: Name
    phone: Phone | None = None
    address: AddressIn | None = None
    cart_token: CartToken | None = Field(
        default=None, description="A guest cart to merge into the new account's (see `cart_merge`)"
    )

    @field_validator("password", mode="after")
    @classmethod
    def _password_not_about_email(cls, password: str, info: ValidationInfo) -> str:
        # Declared after `email`, so a valid email is already in info.data; the error then
        # points at the password field.
        problem = password_problem(password, email=info.data.get("email"))
        if problem:
            raise ValueError(problem)
        return password


class VerifyEmailIn(InModel):
    token: OpaqueToken


class LoginIn(InModel):
    email: EmailLookup
    password: RawPassword
    cart_token: CartToken | None = Field(
        default=None, description="A guest cart to merge into the account's (see `cart_merge`)"
    )


class RefreshIn(InModel):
    refresh_token: OpaqueToken


class LogoutIn(InModel):
    refresh_token: OpaqueToken


class ForgotPasswordIn(InModel):
    email: EmailLookup


class ResendVerificationIn(InModel):
    email: EmailLookup


class ResetPasswordIn(InModel):
    token: OpaqueToken
    password: NewPassword


class PasswordChangeIn(InModel):
    current_password: RawPassword
    new_password: NewPassword


class UserOut(OutModel):
    """A user as the API shows it: never the password hash."""

    id: ObjectIdStr
    email: str
    name: str
    phone: str | None
    role: Literal["customer", "admin"]
    email_verified: bool
    is_active: bool
    created_at: UTCDateTime
    updated_at: UTCDateTime

    @classmethod
    def of(cls, user) -> UserOut:
        return cls(
            id=str(user.id),
            email=user.email,
            name=user.name,
            phone=user.phone,
            role=user.role,
            email_verified=user.email_verified,
            is_active=user.is_active,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


_CART_MERGE = (
    "With `cart_token`: what merging that guest cart did (`merged` false when the token found "
    "no cart; the sign-in happens all the same); null without one"
)


class UserEnvelope(OutModel):
    user: UserOut
    cart_merge: CartMergeOut | None = Field(default=None, description=_CART_MERGE)


class VerifiedOut(OutModel):
    email_verified: bool
    user: UserOut


class TokenPairOut(OutModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    user: UserOut
    cart_merge: CartMergeOut | None = Field(default=None, description=_CART_MERGE)


class MessageOut(OutModel):
    detail: str
