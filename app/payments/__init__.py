"""Payments: the gateway protocol and its providers, and the provider's webhook."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("payments", __name__)
tag_blueprint(bp, ["payments"])

from app.payments import routes  # noqa: E402,F401
