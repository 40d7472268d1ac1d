"""The signed-in user's profile and addresses."""

from __future__ import annotations

from pydantic import Field, StrictBool

from app.auth.schemas import (
    AddressIn,
    City,
    Country,
    Line,
    Name,
    OptionalLine,
    PasswordChangeIn,
    Phone,
    PostalCode,
    Region,
)
from app.core.schemas import InModel, ObjectIdStr, OutModel

__all__ = ["AddressIn", "AddressOut", "AddressUpdate", "PasswordChangeIn", "ProfileUpdate"]


class AddressUpdate(InModel):
    line1: Line | None = None
    line2: OptionalLine | None = None
    city: City | None = None
    postal_code: PostalCode | None = None
    country: Country | None = None
    region: Region | None = None
    phone: Phone | None = None
    is_default: StrictBool | None = None


class AddressOut(OutModel):
    id: ObjectIdStr
    line1: str
    line2: str | None
    city: str
    postal_code: str
    country: str
    region: str | None
    phone: str | None
    is_default: bool

    @classmethod
    def of(cls, address) -> AddressOut:
        return cls.model_validate({**address.model_dump(), "id": str(address.id)})


class ProfileUpdate(InModel):
    name: Name | None = None
    phone: Phone | None = Field(default=None, description="null clears it")
