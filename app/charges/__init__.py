"""What a cart is charged besides its goods, and what comes off: shipping methods, tax rates
and discount codes (their documents, admin services and the discount usage counter). The
arithmetic lives in app/pricing; this package stores and checks the rules it is given."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("charges", __name__)
tag_blueprint(bp, ["shipping"])

from app.charges import routes  # noqa: E402,F401
