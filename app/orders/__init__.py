"""The shopper's orders: checkout, history, payment and cancel."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("orders", __name__)
tag_blueprint(bp, ["orders"])

from app.orders import routes  # noqa: E402,F401
