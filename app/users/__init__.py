"""The signed-in user's profile, password and addresses (`/api/v1/users/me`)."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("users", __name__)
tag_blueprint(bp, ["users"])

from app.users import routes  # noqa: E402,F401
