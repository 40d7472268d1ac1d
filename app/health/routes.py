from pydantic import BaseModel
from quart_schema import tag, validate_response

from app.core import db
from app.core.openapi import problems
from app.errors import ErrorCode, problem
from app.health import bp


class HealthOut(BaseModel):
    status: str


@bp.get("/health")
@tag(["health"])
@validate_response(HealthOut)
async def health() -> HealthOut:
    """Liveness: the process is up."""
    return HealthOut(status="ok")


@bp.get("/ready")
@tag(["health"])
@problems(503)
@validate_response(HealthOut, 200)
async def ready():
    """Readiness: the database answers (503 otherwise)."""
    if await db.ping():
        return HealthOut(status="ok")
    return problem(503, ErrorCode.SERVICE_UNAVAILABLE, "The database does not answer.")
