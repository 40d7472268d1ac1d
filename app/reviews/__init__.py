"""Product reviews: one per customer per product, verified purchases, the product's rating."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("reviews", __name__)
tag_blueprint(bp, ["reviews"])

from app.reviews import routes  # noqa: E402,F401
