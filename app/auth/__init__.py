"""Registration, login, tokens and password reset (`/api/v1/auth`)."""
