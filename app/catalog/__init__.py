"""The public catalog: products, search and filters, the category tree."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("catalog", __name__)
tag_blueprint(bp, ["catalog"])

from app.catalog import routes  # noqa: E402,F401
