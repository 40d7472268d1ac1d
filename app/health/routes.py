from typing import Literal

from pydantic import BaseModel, Field
from quart_schema import tag, validate_response

from app.catalog import search
from app.core import db
from app.core.openapi import problems
from app.errors import ErrorCode, problem
from app.health import bp


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    search: Literal["text", "regex"] = Field(
        description="How product search (`q`) runs: `text` on the database's text index, "
        "`regex` on whole-word regular expressions (the embedded engine, or a server "
        "without text indexes)."
    )


@bp.get("/health")
@tag(["health"])
@validate_response(HealthOut)
async def health() -> HealthOut:
    """Liveness: the process is up."""
    return HealthOut(status="ok")


@bp.get("/ready")
@tag(["health"])
@problems(503)
@validate_response(ReadyOut, 200)
async def ready():
    """Readiness: the database answers (503 otherwise); says which search mode is in force."""
    if await db.ping():
        return ReadyOut(status="ok", search=search.mode())
    return problem(503, ErrorCode.SERVICE_UNAVAILABLE, "The database does not answer.")
