"""Request and response bodies of the identity API (camelCase on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from olly.platform.auth.passwords import MAX_LENGTH
from olly.platform.auth.roles import AccountKind, Role


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class LoginRequest(ApiModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=MAX_LENGTH * 4)
    tenant: str | None = Field(None, max_length=64, description="tenant slug; the installation's default if omitted")


class SessionResponse(ApiModel):
    stage: Literal["active", "mfa_required", "mfa_enrolment_required"]
    csrf_token: str = Field(description="send as X-CSRF-Token on every POST/PUT/PATCH/DELETE of this session")
    expires_at: datetime


class MfaVerifyRequest(ApiModel):
    code: str | None = Field(None, max_length=16)
    recovery_code: str | None = Field(None, max_length=32)


class TotpEnrolResponse(ApiModel):
    secret: str
    otpauth_uri: str


class TotpCodeRequest(ApiModel):
    code: str = Field(min_length=6, max_length=16)


class RecoveryCodesResponse(ApiModel):
    recovery_codes: list[str]
    stage: str | None = None
    csrf_token: str | None = None


class ReauthenticateRequest(ApiModel):
    password: str = Field(min_length=1, max_length=MAX_LENGTH * 4)
    code: str | None = Field(None, max_length=16)


class PasswordChangeRequest(ApiModel):
    current_password: str = Field(min_length=1, max_length=MAX_LENGTH * 4)
    new_password: str = Field(min_length=1, max_length=MAX_LENGTH * 4)


class PasswordResetRequest(ApiModel):
    email: str = Field(min_length=3, max_length=320)
    tenant: str | None = Field(None, max_length=64)


class PasswordResetConfirm(ApiModel):
    token: str = Field(min_length=16, max_length=128)
    new_password: str = Field(min_length=1, max_length=MAX_LENGTH * 4)
    tenant: str | None = Field(None, max_length=64)


class AcceptedResponse(ApiModel):
    status: Literal["accepted"] = "accepted"


class AccessTokenResponse(BaseModel):
    """RFC 6749 §5.1 field names."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int


class MeResponse(ApiModel):
    account_id: uuid.UUID
    kind: AccountKind
    roles: list[Role]
    email: str | None
    display_name: str | None
    party_id: uuid.UUID | None
    group_account_id: uuid.UUID | None
    npi: str | None
    provider_organisation_id: uuid.UUID | None
    mfa_enabled: bool
    auth_method: str


class AccountCreate(ApiModel):
    kind: AccountKind
    email: str = Field(min_length=3, max_length=320)
    password: str | None = Field(None, max_length=MAX_LENGTH * 4)
    display_name: str | None = Field(None, max_length=200)
    phone: str | None = Field(None, max_length=40)
    party_id: uuid.UUID | None = None
    group_account_id: uuid.UUID | None = None
    npi: str | None = Field(None, max_length=10)
    provider_organisation_id: uuid.UUID | None = None
    roles: list[Role] = Field(default_factory=list, max_length=16)
    queues: list[str] = Field(default_factory=list, max_length=64)


class AccountRead(ApiModel):
    id: uuid.UUID
    kind: AccountKind
    status: str
    email: str | None
    display_name: str | None
    roles: list[str]
    queues: list[str]
    party_id: uuid.UUID | None
    group_account_id: uuid.UUID | None
    npi: str | None
    provider_organisation_id: uuid.UUID | None
    mfa_enabled: bool
    locked_until: datetime | None
    created_at: datetime
    disabled_at: datetime | None


class ApiClientCreate(ApiModel):
    name: str = Field(min_length=1, max_length=200)
    provider_ids: list[str] = Field(min_length=1, max_length=50)


class ApiClientCreated(ApiModel):
    client_id: str
    client_secret: str = Field(description="shown once; store it in the partner's secret manager")
    name: str
    provider_ids: list[str]


class ApiClientRead(ApiModel):
    client_id: str
    name: str
    status: str
    provider_ids: list[str]


class BreakGlassOpen(ApiModel):
    reason: str = Field(min_length=1, max_length=2000)
    party_id: uuid.UUID | None = Field(None, description="the person the emergency concerns; omit for any")
    minutes: int = Field(30, ge=1, le=480)


class BreakGlassRead(ApiModel):
    id: uuid.UUID
    account_id: uuid.UUID
    reason: str | None
    party_id: uuid.UUID | None
    opened_at: datetime
    expires_at: datetime
    review_status: str
    reviewed_at: datetime | None
    reviewed_by: uuid.UUID | None


class BreakGlassReview(ApiModel):
    outcome: Literal["appropriate", "inappropriate"]
    note: str | None = Field(None, max_length=2000)
