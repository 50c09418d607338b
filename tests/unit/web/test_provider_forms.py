"""The provider portal's form translation: a posted claim or prior-authorisation form becomes the
claims API's body, and the API's errors land on the form's fields (never echoing a value)."""

from __future__ import annotations

from pydantic import ValidationError

from olly.claims.schemas import ClaimCreate
from olly.web import provider_forms as forms

MEMBER = "01a209d3-ca7e-721f-aba1-b44e077ff707"


def _form(**changes: str) -> dict[str, str]:
    form = {
        "billingNpi": "1234567893",
        "place_of_service": "11",
        "diagnoses": "j06.9, R05.1",
        "line1_service_date": "2026-01-12",
        "line1_procedure_code": "99213",
        "line1_modifiers": "25 59",
        "line1_units": "1",
        "line1_charge": "$1,150.00",
        "line1_pointers": "1,2",
    }
    form.update(changes)
    return form


def test_a_claim_form_becomes_the_api_body_skipping_blank_lines() -> None:
    body, errors = forms.claim_body(
        _form(line3_service_date="2026-01-12", line3_procedure_code="87880", line3_charge="30"), MEMBER
    )
    assert not errors
    assert body == {
        "claimType": "PROFESSIONAL",
        "memberId": MEMBER,
        "billingNpi": "1234567893",
        "placeOfService": "11",
        "diagnoses": ["J06.9", "R05.1"],
        "lines": [
            {
                "procedureCode": "99213",
                "charge": "1150.00",
                "serviceDateFrom": "2026-01-12",
                "modifiers": ["25", "59"],
                "units": 1,
                "diagnosisPointers": [1, 2],
            },
            {"procedureCode": "87880", "charge": "30", "serviceDateFrom": "2026-01-12"},
        ],
    }
    assert ClaimCreate.model_validate(body).lines[1].diagnosis_pointers == [1]


def test_the_apis_errors_land_on_the_forms_fields_by_form_line_number() -> None:
    # Line 2 is blank: the API's second line is the form's third.
    form = _form(line3_service_date="2026-01-12", line3_procedure_code="8788", line3_charge="thirty",
                 line3_modifiers="X")  # fmt: skip
    body, errors = forms.claim_body(form, MEMBER)
    assert not errors
    try:
        ClaimCreate.model_validate(body)
    except ValidationError as exc:
        found = forms.claim_errors(form, [(e["loc"], e["msg"]) for e in exc.errors()])
    assert found.fields == {
        "line3_procedure_code": forms.NEEDS["procedure_code"],
        "line3_charge": forms.NEEDS["charge"],
    }
    intake = forms.claim_errors(form, [(forms.path_parts("body.lines.1.serviceDateFrom"), "is in the future")])
    assert intake.fields == {"line3_service_date": "The date of service is in the future."}
    pointer = forms.claim_errors(form, [((), "Value error, lines[1].diagnosisPointers point outside diagnoses")])
    assert pointer.fields == {"line3_pointers": forms.NEEDS["pointers"]}
    assert "8788" not in str(found.fields) and "thirty" not in str(found.fields)


def test_a_half_filled_line_and_words_for_numbers_are_the_forms_own_errors() -> None:
    body, errors = forms.claim_body(_form(line1_units="two", line2_charge="10.00"), None)
    assert errors.fields == {
        "line1_units": forms.NEEDS["units"],
        "line2_service_date": forms.NEEDS["service_date"],
        "line2_procedure_code": forms.NEEDS["procedure_code"],
    }
    assert body["memberId"] is None
    nothing, empty = forms.claim_body({"billingNpi": "1234567893"}, MEMBER)
    assert nothing["lines"] == [] and empty.fields == {"line1_procedure_code": "Enter at least one service line."}


def test_a_prior_auth_form_and_its_errors() -> None:
    form = {
        "service_from": "2026-02-02",
        "service_to": "2026-02-28",
        "diagnoses": "m23.41",
        "service2_procedure_code": "29881",
        "service2_units": "2",
        "expedited": "yes",
        "clinical_notes": "  locked knee  ",
    }
    body, errors = forms.prior_auth_body(form)
    assert not errors
    assert body == {
        "serviceFrom": "2026-02-02",
        "serviceTo": "2026-02-28",
        "services": [{"procedureCode": "29881", "units": 2}],
        "diagnosisCodes": ["M23.41"],
        "expedited": True,
        "clinicalNotes": "locked knee",
    }
    found = forms.prior_auth_errors(
        form,
        [
            (forms.path_parts("body.services.0.procedureCode"), "not a CPT or HCPCS Level II code"),
            (forms.path_parts("body.serviceTo"), "the service period cannot end before it starts"),
            (("services",), "each code appears once (sum its units)"),
        ],
    )
    assert found.fields == {
        "service2_procedure_code": forms.NEEDS["procedure_code"],
        "service_to": forms.NEEDS["service_to"],
        "service1_procedure_code": "Each code appears once (sum its units).",
    }
    _, missing = forms.prior_auth_body({"service1_units": "x"})
    assert missing.fields == {
        "service1_procedure_code": forms.NEEDS["procedure_code"],
        "service1_units": forms.NEEDS["units"],
    }
