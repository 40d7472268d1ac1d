"""Store administration: every route here requires an admin."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("admin", __name__)
tag_blueprint(bp, ["admin"])

from app.admin import catalog, emails, inventory, orders, reports, users, webhooks  # noqa: E402,F401
