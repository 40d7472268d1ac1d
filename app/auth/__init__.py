"""Registration, login, tokens and password reset (`/api/v1/auth`)."""

from quart import Blueprint
from quart_schema import tag_blueprint

bp = Blueprint("auth", __name__)
tag_blueprint(bp, ["auth"])

from app.auth import routes  # noqa: E402,F401
from app.auth.requests import process_account_requests, refresh_account_email  # noqa: E402
from app.email import hooks  # noqa: E402

# The email worker answers stored link requests; an admin's resend renews the link.
hooks.register_producer(process_account_requests)
hooks.register_refresher("verify_email", refresh_account_email)
hooks.register_refresher("password_reset", refresh_account_email)
