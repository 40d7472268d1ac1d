"""`/api/v1/auth`: registration, verification, login, token refresh, logout, password reset."""

from __future__ import annotations

from quart import g, request
from quart_rate_limiter import rate_limit
from quart_schema import validate_request, validate_response

from app.auth import bp, limits, service
from app.auth.schemas import (
    ForgotPasswordIn,
    LoginIn,
    LogoutIn,
    MessageOut,
    RefreshIn,
    RegisterIn,
    ResendVerificationIn,
    ResetPasswordIn,
    TokenPairOut,
    UserEnvelope,
    UserOut,
    VerifiedOut,
    VerifyEmailIn,
)
from app.core.guest import merge_guest_cart
from app.core.openapi import no_content, problems
from app.core.security import current_user, login_required


def _tokens(pair: service.TokenPair) -> TokenPairOut:
    return TokenPairOut(
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        user=UserOut.of(pair.user),
    )


@bp.post("/register")
@rate_limit(limits=limits.REGISTER)
@problems(409, 429)
@validate_request(RegisterIn)
@validate_response(UserEnvelope, 201)
async def register(data: RegisterIn) -> tuple[UserEnvelope, int]:
    """Create an account and email a verification link."""
    user = await service.register(
        email=data.email,
        password=data.password,
        name=data.name,
        phone=data.phone,
        address=data.address.model_dump() if data.address else None,
    )
    merged = await merge_guest_cart(user.id, data.cart_token)
    return UserEnvelope(user=UserOut.of(user), cart_merge=merged), 201


@bp.post("/verify-email")
@validate_request(VerifyEmailIn)
@validate_response(VerifiedOut)
async def verify_email(data: VerifyEmailIn) -> VerifiedOut:
    """Confirm the email address with the emailed token."""
    user = await service.verify_email(token=data.token)
    return VerifiedOut(email_verified=user.email_verified, user=UserOut.of(user))


@bp.post("/resend-verification")
@rate_limit(limits=limits.RESEND_VERIFICATION)
@problems(429)
@validate_request(ResendVerificationIn)
@validate_response(MessageOut, 202)
async def resend_verification(data: ResendVerificationIn) -> tuple[MessageOut, int]:
    """Email a fresh verification link (the answer is the same for any email)."""
    await service.resend_verification(email=data.email)
    detail = "If the email belongs to an unverified account, a new link is on its way."
    return MessageOut(detail=detail), 202


@bp.post("/login")
@rate_limit(limits=limits.LOGIN)
@problems(401, 429)
@validate_request(LoginIn)
@validate_response(TokenPairOut)
async def login(data: LoginIn) -> TokenPairOut:
    """Exchange email and password for an access and a refresh token. With `cart_token`,
    the guest cart is merged into the account's (`cart_merge`)."""
    pair = await service.login(
        email=data.email, password=data.password, client_address=request.remote_addr
    )
    merged = await merge_guest_cart(pair.user.id, data.cart_token)
    return _tokens(pair).model_copy(update={"cart_merge": merged})


@bp.post("/refresh")
@rate_limit(limits=limits.REFRESH)
@problems(401, 429)
@validate_request(RefreshIn)
@validate_response(TokenPairOut)
async def refresh(data: RefreshIn) -> TokenPairOut:
    """Rotate a refresh token into a new token pair."""
    return _tokens(await service.refresh(refresh_token=data.refresh_token))


@bp.post("/logout")
@no_content
@login_required
@validate_request(LogoutIn)
async def logout(data: LogoutIn) -> tuple[str, int]:
    """End this login: the access token and the refresh token stop working."""
    await service.logout(
        user=current_user(), claims=g.token_claims, refresh_token=data.refresh_token
    )
    return "", 204


@bp.post("/forgot-password")
@rate_limit(limits=limits.FORGOT_PASSWORD)
@problems(429)
@validate_request(ForgotPasswordIn)
@validate_response(MessageOut, 202)
async def forgot_password(data: ForgotPasswordIn) -> tuple[MessageOut, int]:
    """Email a password reset link (the answer is the same for unknown emails)."""
    await service.forgot_password(email=data.email)
    return MessageOut(detail="If the email belongs to an account, a reset link is on its way."), 202


@bp.post("/reset-password")
@validate_request(ResetPasswordIn)
@validate_response(MessageOut)
async def reset_password(data: ResetPasswordIn) -> MessageOut:
    """Set a new password with the emailed token; every session is signed out."""
    await service.reset_password(token=data.token, password=data.password)
    return MessageOut(detail="The password was changed; sign in again.")
