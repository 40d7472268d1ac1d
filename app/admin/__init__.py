"""Store administration: every route here requires an admin."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("admin", __name__)
tag_blueprint(bp, ["admin"])

from app.admin import (  # noqa: E402,F401
    catalog,
    charges,
    emails,
    inventory,
    orders,
    reports,
    users,
    webhooks,
)
