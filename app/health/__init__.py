from quart import Blueprint

bp = Blueprint("health", __name__)

from app.health import routes  # noqa: E402,F401
