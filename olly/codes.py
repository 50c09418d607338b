"""Code look-ups for portals and reviewers: ICD-10-CM diagnoses and HCPCS Level II procedures.

The code sets are public reference data (no PHI); any signed-in role may search them
(``code_set.read``). They are not open to anonymous callers because the search scans tens of
thousands of descriptions per request, which an unauthenticated client could use as a cheap
amplifier; the public provider directory is the one anonymous search.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from olly.codesets import hcpcs, icd10, lookup
from olly.platform.auth import policy

router = APIRouter(prefix="/api/v1/codes", tags=["codes"], dependencies=[Depends(policy("code_set.read"))])

Text = Annotated[str, Query(min_length=1, max_length=100, description="a code prefix (E11, J12) or words")]
ValidOn = Annotated[date | None, Query(alias="validOn", description="keep codes usable on this date of service")]
Page = Annotated[int, Query(ge=1, le=10_000)]
PageSize = Annotated[int, Query(alias="pageSize", ge=1, le=lookup.MAX_PAGE_SIZE)]


class _Schema(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class DiagnosisCodeRead(_Schema):
    code: str
    dotted: str
    description: str
    billable: bool


class DiagnosisPageRead(_Schema):
    results: list[DiagnosisCodeRead]
    total: int
    page: int
    page_size: int


class HcpcsCodeRead(_Schema):
    code: str
    description: str
    short_description: str
    added_on: date | None
    medicare_coverage: str


class HcpcsPageRead(_Schema):
    results: list[HcpcsCodeRead]
    total: int
    page: int
    page_size: int


def diagnosis_page(found: lookup.CodePage[icd10.DiagnosisCode]) -> DiagnosisPageRead:
    return DiagnosisPageRead(
        results=[
            DiagnosisCodeRead(code=c.code, dotted=c.dotted, description=c.description, billable=c.billable)
            for c in found.results
        ],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


def hcpcs_page(found: lookup.CodePage[hcpcs.HcpcsCode]) -> HcpcsPageRead:
    return HcpcsPageRead(
        results=[
            HcpcsCodeRead(
                code=c.code,
                description=c.description,
                short_description=c.short_description,
                added_on=c.added_on,
                medicare_coverage=c.medicare_coverage,
            )
            for c in found.results
        ],
        total=found.total,
        page=found.page,
        page_size=found.page_size,
    )


@router.get("/icd10", summary="Search ICD-10-CM diagnosis codes by code prefix or words", response_model_by_alias=True)
def search_icd10(
    q: Text,
    valid_on: ValidOn = None,
    billable_only: Annotated[bool, Query(alias="billableOnly")] = False,
    page: Page = 1,
    page_size: PageSize = 20,
) -> DiagnosisPageRead:
    return diagnosis_page(
        lookup.find_diagnoses(q, valid_on=valid_on, billable_only=billable_only, page=page, page_size=page_size)
    )


@router.get("/hcpcs", summary="Search HCPCS Level II codes by code prefix or words", response_model_by_alias=True)
def search_hcpcs(q: Text, valid_on: ValidOn = None, page: Page = 1, page_size: PageSize = 20) -> HcpcsPageRead:
    return hcpcs_page(lookup.find_hcpcs(q, valid_on=valid_on, page=page, page_size=page_size))
