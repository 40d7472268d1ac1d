"""The shopper's cart (`/api/v1/cart`): an account's, or a guest's with its Cart-Token."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("cart", __name__)
tag_blueprint(bp, ["cart"])

from app.cart import routes  # noqa: E402,F401
