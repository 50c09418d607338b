"""Typed errors.

Expected failures are ``OllyError`` subclasses carrying an HTTP status and a stable machine code;
the API renders them as ``application/problem+json`` and the CLI as a one-line message. Messages
must never contain PHI: they name fields and rules, not values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one input field; ``field`` is a dotted path such as ``body.lines.0.units``."""

    field: str
    message: str
    code: str = "invalid"

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "code": self.code}


class OllyError(Exception):
    """Base of every expected failure."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"
    title: ClassVar[str] = "Bad request"
    #: The event bus retries a retryable failure and sends a terminal one to the DLQ at once.
    retryable: ClassVar[bool] = False

    def __init__(self, detail: str | None = None, *, extra: dict[str, Any] | None = None) -> None:
        self.detail = detail or self.title
        self.extra = dict(extra or {})
        super().__init__(self.detail)

    def problem(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": f"https://olly.dev/problems/{self.code}",
            "title": self.title,
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
        }
        body.update(self.extra)
        return body


class ValidationFailed(OllyError):
    status = 422
    code = "validation_failed"
    title = "The request is not valid"

    def __init__(self, errors: list[FieldError], detail: str | None = None) -> None:
        self.errors = list(errors)
        super().__init__(
            detail or "; ".join(f"{e.field}: {e.message}" for e in errors) or None,
            extra={"errors": [e.as_dict() for e in errors]},
        )


class NotFound(OllyError):
    status = 404
    code = "not_found"
    title = "Not found"


class Conflict(OllyError):
    status = 409
    code = "conflict"
    title = "Conflict"


class BusinessRuleViolation(OllyError):
    """The input is well formed but a domain rule refuses it (e.g. a retroactive termination)."""

    status = 422
    code = "business_rule_violation"
    title = "A business rule refuses this request"


class Unauthenticated(OllyError):
    status = 401
    code = "unauthenticated"
    title = "Authentication required"


class Forbidden(OllyError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class TenantViolation(OllyError):
    """A row of one tenant was about to be read or written in another tenant's unit of work."""

    status = 500
    code = "tenant_violation"
    title = "Cross-tenant access refused"


class ConfigurationError(OllyError):
    status = 500
    code = "configuration_error"
    title = "Olly is not configured correctly"


class CryptoError(OllyError):
    """A ciphertext could not be decrypted: wrong key, wrong row, or tampered bytes."""

    status = 500
    code = "crypto_error"
    title = "Protected data could not be decrypted"


class TransientError(OllyError):
    """A dependency is briefly unavailable; retrying later may succeed."""

    status = 503
    code = "temporarily_unavailable"
    title = "Temporarily unavailable"
    retryable = True


class CurrencyMismatch(OllyError, ValueError):
    status = 422
    code = "currency_mismatch"
    title = "Amounts in different currencies cannot be combined"
