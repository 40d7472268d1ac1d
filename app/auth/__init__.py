"""Registration, login, tokens and password reset (`/api/v1/auth`)."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("auth", __name__)
tag_blueprint(bp, ["auth"])

from app.auth import routes  # noqa: E402,F401
