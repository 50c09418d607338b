"""Consent API bodies (camelCase on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class CommunicationPreferencesUpdate(ApiModel):
    channels: dict[str, bool] = Field(description="email, sms, post, push, phone", max_length=10)
    topics: dict[str, bool] = Field(
        default_factory=dict, description="claims, billing, plan_updates, care_reminders, marketing", max_length=10
    )


class AppSharingGrant(ApiModel):
    app_client_id: str = Field(min_length=1, max_length=128)
    app_name: str = Field(min_length=1, max_length=200)
    scopes: list[str] = Field(min_length=1, max_length=20)
    expires_at: datetime | None = None


class ConfidentialContact(ApiModel):
    address: str | None = Field(None, max_length=500)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=320)


class ConsentRead(ApiModel):
    id: uuid.UUID
    party_id: uuid.UUID
    kind: str
    status: str
    preferences: dict[str, Any] | None
    app_client_id: str | None
    app_name: str | None
    scopes: list[str] | None
    confidential_contact: dict[str, Any] | None
    effective_at: datetime
    expires_at: datetime | None
    recorded_at: datetime
    revoked_at: datetime | None


class SelfDeletionRequest(ApiModel):
    confirm: Literal[True] = Field(description="true: I understand my data will be erased where the law allows")


class StaffDeletionRequest(ApiModel):
    party_id: uuid.UUID
    verification_method: Literal["documents_checked", "verified_by_phone", "legal_representative"]
    verification_reference: str | None = Field(None, max_length=200)


class DeletionRejection(ApiModel):
    reason: str = Field(min_length=1, max_length=500)


class DeletionRequestRead(ApiModel):
    id: uuid.UUID
    party_id: uuid.UUID
    status: str
    requested_via: str
    verification_method: str
    received_at: datetime
    verified_at: datetime
    processed_at: datetime | None
    rejection_reason: str | None
    report: dict[str, Any] | None
