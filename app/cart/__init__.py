"""The signed-in shopper's cart (`/api/v1/cart`)."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("cart", __name__)
tag_blueprint(bp, ["cart"])

from app.cart import routes  # noqa: E402,F401
