"""The pure parts of the EDI ↔ claims adapters (``olly/edi_links.py``): 837 → ``ClaimCreate``, the
idempotency key, validation errors → 277CA STCs."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, time
from decimal import Decimal

import pytest

from olly import edi_links
from olly.claims.public import CareSetting
from olly.edi.claims import ClaimOptions, ClaimSubmission
from olly.edi.inbound import transactions
from olly.edi.ports import EdiOrigin
from olly.edi.testing import professional_claims_text
from olly.edi.validate import validate
from olly.kernel.errors import FieldError
from tests.unit.edi.conftest import fixture_bytes

MEMBER = uuid.UUID(int=7)


def claims_of(data: bytes, **options: object) -> list[ClaimSubmission]:
    found = transactions(data, validate(data), options=ClaimOptions(**options))  # type: ignore[arg-type]
    return [item for item in found if isinstance(item, ClaimSubmission)]


def origin(claim: ClaimSubmission) -> EdiOrigin:
    where = claim.origin
    return EdiOrigin(
        uuid.UUID(int=1),
        None,
        where.interchange_control_number,
        where.group_control_number,
        where.set_control_number,
        where.segment_number,
        where.offset,
    )


def test_a_professional_claim_maps_every_field_the_intake_takes() -> None:
    first, second = claims_of(professional_claims_text(2).encode())
    data = edi_links.claim_create(first, MEMBER)
    assert data.model_dump(mode="json", by_alias=True, exclude_defaults=True) == {
        "claimType": "PROFESSIONAL",
        "memberId": str(MEMBER),
        "billingNpi": "1234567893",
        "renderingNpi": "1245319599",
        "placeOfService": "11",
        "diagnoses": ["E11.9", "I10"],
        "lines": [
            {
                "procedureCode": "99214",
                "modifiers": ["25"],
                "charge": "50.00",
                "diagnosisPointers": [1, 2],
                "serviceDateFrom": "2026-01-02",
            },
            {
                "procedureCode": "85025",
                "modifiers": ["25"],
                "charge": "61.00",
                "diagnosisPointers": [1, 2],
                "serviceDateFrom": "2026-01-03",
            },
        ],
        "priorAuthReference": "PA0000000",
    }
    key = edi_links.idempotency_key(first, origin(first))
    assert key == f"837:ZZ:SUBMITTER:000000001:1:0001:{first.origin.segment_number}"
    assert edi_links.idempotency_key(second, origin(second)) != key


def test_an_institutional_claim_keeps_revenue_codes_units_and_the_attending_provider() -> None:
    first, _ = claims_of(fixture_bytes("two-claims-single-provider.837i"), check_npi=False)
    data = edi_links.claim_create(first, MEMBER)
    assert (data.claim_type, data.rendering_npi, data.place_of_service) == ("INSTITUTIONAL", "1122334455", None)
    assert [(line.revenue_code, line.procedure_code, line.units, line.charge) for line in data.lines] == [
        ("0305", "85025", 1, "13.39"),
        ("0730", "93005", 3, "76.56"),
    ]
    assert [line.service_date_from for line in data.lines] == [date(2005, 3, 15), date(2005, 3, 15)]
    assert data.care_setting is CareSetting.OPD  # CLM05-1 13: a hospital's out-patient bill
    assert data.inpatient_hours is None
    stay = replace(
        first,
        facility_code="11",
        admission_date=date(2005, 3, 14),
        admission_time=time(21, 30),
        discharge_time=time(10, 15),
    )
    inpatient = edi_links.claim_create(stay, MEMBER)
    assert (inpatient.care_setting, inpatient.inpatient_hours) == (CareSetting.IPD, 12)  # to 10:15 on 03-15
    assert edi_links.claim_create(replace(stay, discharge_time=None), MEMBER).inpatient_hours is None


@pytest.mark.parametrize(
    ("facility_type", "setting"),
    [
        ("11", CareSetting.IPD),  # hospital in-patient (Part A)
        ("12", CareSetting.IPD),  # hospital in-patient (Part B)
        ("18", CareSetting.IPD),  # hospital swing bed
        ("21", CareSetting.IPD),  # skilled nursing in-patient
        ("41", CareSetting.IPD),  # religious non-medical institution, in-patient
        ("13", CareSetting.OPD),  # hospital out-patient
        ("14", CareSetting.OPD),  # hospital other (referenced diagnostics)
        ("23", CareSetting.OPD),  # skilled nursing out-patient
        ("71", CareSetting.OPD),  # rural health clinic
        ("77", CareSetting.OPD),  # federally qualified health centre
        ("83", CareSetting.OPD),  # ambulatory surgery centre
        ("85", CareSetting.OPD),  # critical access hospital
        ("32", None),  # home health
        ("81", None),  # hospice
        ("86", None),  # residential facility
        ("15", None),  # hospital, an unused classification
        ("1", None),
        ("1A", None),
        ("", None),
    ],
)
def test_the_facility_type_says_the_care_setting_when_it_says_one(
    facility_type: str, setting: CareSetting | None
) -> None:
    assert edi_links.care_setting_of(facility_type) is setting


def test_a_replacement_names_the_claim_it_replaces_by_the_payer_claim_number() -> None:
    (claim,) = claims_of(professional_claims_text(1).encode())
    original = uuid.UUID(int=99)
    data = edi_links.claim_create(replace(claim, frequency_code="7", payer_claim_control_number=str(original)), MEMBER)
    assert (data.frequency, data.original_claim_id) == ("7", original)
    with pytest.raises(ValueError, match="originalClaimId"):  # a number that is not ours: the schema refuses
        edi_links.claim_create(replace(claim, frequency_code="8", payer_claim_control_number="X1"), MEMBER)


def test_fractional_units_are_rounded_up_and_diagnoses_get_their_period() -> None:
    (claim,) = claims_of(professional_claims_text(1).encode())
    line = replace(claim.lines[0], units=Decimal("1.5"))
    data = edi_links.claim_create(replace(claim, lines=(line,)), MEMBER)
    assert data.lines[0].units == 2
    assert [edi_links._diagnosis(code) for code in ("J069", "I10", "z00.00", "S72001A")] == [
        "J06.9",
        "I10",
        "Z00.00",
        "S72.001A",
    ]


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("body.lines.1.serviceDateFrom", ("A7", "187", "lines.1.serviceDateFrom", None, 2)),
        ("body.lines.0.procedureCode", ("A7", "454", "lines.0.procedureCode", None, 1)),
        ("diagnoses.0", ("A7", "255", "diagnoses.0", None, None)),
        ("billingNpi", ("A7", "562", "billingNpi", "85", None)),
        ("body.originalClaimId", ("A7", "21", "originalClaimId", None, None)),
    ],
)
def test_intake_errors_become_277ca_statuses_naming_the_field(field: str, expected: tuple[object, ...]) -> None:
    problem = edi_links._problem(FieldError(field, "is wrong"))
    assert (problem.category, problem.status, problem.field, problem.entity, problem.line_number) == expected


def test_each_claims_status_has_a_277_category() -> None:
    assert edi_links.STATUS_CODES == {
        "RECEIVED": ("A2", "20"),
        "PENDED": ("P2", "20"),
        "APPROVED": ("F0", "3"),
        "PARTIALLY_APPROVED": ("F0", "3"),
        "DENIED": ("F2", "4"),
        "PAID": ("F1", "65"),
        "REPLACED": ("F3", "1"),
        "VOIDED": ("F3", "1"),
    }
