"""Authentication and access errors. None says which part of a credential was wrong."""

from __future__ import annotations

from typing import Any

from olly.kernel.errors import Forbidden, OllyError, Unauthenticated


class _WithHeaders(OllyError):
    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None, **kw: Any) -> None:
        super().__init__(detail, **kw)
        self.headers = headers or {}


class NotAuthenticated(_WithHeaders, Unauthenticated):
    code = "unauthenticated"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail or "sign in or present a bearer token", headers={"WWW-Authenticate": "Bearer"})


class InvalidCredentials(Unauthenticated):
    code = "invalid_credentials"
    title = "The credentials are not valid"


class InvalidToken(_WithHeaders, Unauthenticated):
    code = "invalid_token"
    title = "The bearer token is not valid"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})


class SessionExpired(Unauthenticated):
    code = "session_expired"
    title = "The session has ended"


class MfaRequired(Unauthenticated):
    code = "mfa_required"
    title = "A second factor is required"


class MfaEnrolmentRequired(Unauthenticated):
    code = "mfa_enrolment_required"
    title = "Set up a second factor to continue"


class ReauthenticationRequired(Unauthenticated):
    code = "reauthentication_required"
    title = "Confirm who you are to continue"


class CsrfRejected(Forbidden):
    code = "csrf_rejected"
    title = "The request did not carry this session's CSRF token"


class AccessDenied(Forbidden):
    code = "forbidden"
    title = "Forbidden"


class RateLimited(_WithHeaders):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            f"try again in {retry_after_seconds} seconds", headers={"Retry-After": str(retry_after_seconds)}
        )
