"""Accounts: users (with embedded addresses) and the token stores."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.email.models import utcnow

Role = Literal["customer", "admin"]


class Address(BaseModel):
    id: PydanticObjectId = Field(default_factory=PydanticObjectId)
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str
    phone: str | None = None
    is_default: bool = False


class User(Document):
    # Stored normalised (trimmed, lower case), so the unique index is case-insensitive.
    email: Annotated[str, Indexed(unique=True)]
    name: str
    phone: str | None = None
    role: Role = "customer"
    email_verified: bool = False
    is_active: bool = True
    password_hash: str = Field(repr=False)
    addresses: list[Address] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Bumped by password reset/change: access tokens issued before it stop working.
    tokens_valid_after: datetime | None = None

    class Settings:
        name = "users"
        indexes = [
            # Admin user listing: filter by role, newest first.
            IndexModel([("role", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("created_at", DESCENDING)]),
        ]
