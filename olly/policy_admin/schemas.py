"""Request and response models of the policy_admin domain."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

AdministrativeGender = Literal["M", "F", "U"]
"""The gender enrollment records and X12 exchanges (834 and 271 DMG03): M, F, or U unknown."""


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line1: str = Field(min_length=1, max_length=120)
    line2: str | None = Field(None, max_length=120)
    city: str = Field(min_length=1, max_length=80)
    region: str = Field(min_length=1, max_length=40, description="state, province or Indian state")
    postal_code: str = Field(min_length=3, max_length=12)
    country: str = Field("US", min_length=2, max_length=2, description="ISO 3166-1 alpha-2")


class IndividualCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    given_name: str = Field(min_length=1, max_length=80)
    family_name: str = Field(min_length=1, max_length=80)
    birth_date: date
    gender: AdministrativeGender | None = Field(None, description="administrative gender: M, F or U (unknown)")
    ssn: str | None = Field(None, description="US SSN, 9 digits; dashes allowed")
    national_id_scheme: str | None = Field(None, max_length=16, description="e.g. SSN, AADHAAR")
    address: Address | None = None
    phone: str | None = Field(None, max_length=32)
    email: EmailStr | None = None

    @field_validator("ssn")
    @classmethod
    def _ssn_shape(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = value.replace("-", "").replace(" ", "")
        # SSA never issues area 000, 666 or 9xx, group 00 or serial 0000.
        if (
            len(digits) != 9
            or not digits.isdigit()
            or digits[:3] in {"000", "666"}
            or digits[0] == "9"
            or digits[3:5] == "00"
            or digits[5:] == "0000"
        ):
            raise ValueError("must be a valid 9-digit SSN")
        return digits


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    address: Address | None = None
    phone: str | None = Field(None, max_length=32)
    email: EmailStr | None = None


class PartyRead(BaseModel):
    id: uuid.UUID
    kind: str
    display_name: str


class IndividualUpdate(BaseModel):
    """A change of a person's identifying data (e.g. an employer's 834 maintenance): only the fields
    given change."""

    model_config = ConfigDict(extra="forbid")

    given_name: str | None = Field(None, min_length=1, max_length=80)
    family_name: str | None = Field(None, min_length=1, max_length=80)
    birth_date: date | None = None
    gender: AdministrativeGender | None = None
    address: Address | None = None
