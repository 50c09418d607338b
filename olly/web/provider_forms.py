"""The provider portal's entry forms: a professional claim and a prior-authorisation request.

Pure functions: a posted form (plain strings) becomes the JSON body the claims API takes, and the
API's validation errors become messages placed next to the field they concern. The messages name
what a field needs, never the value entered (so nothing a provider typed about a patient is echoed
into an error, a log or an audit record).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

#: Service lines the claim form offers (a claim takes up to 50 through the API or an 837).
CLAIM_LINES: Final = 4
#: Services a prior-authorisation request form offers.
PA_SERVICES: Final = 3
#: The places of service the claim form offers (CMS codes), the office first.
PLACES_OF_SERVICE: Final = (
    ("11", "11 Office"),
    ("22", "22 Hospital outpatient"),
    ("23", "23 Emergency room"),
    ("21", "21 Inpatient hospital"),
    ("20", "20 Urgent care"),
    ("02", "02 Telehealth"),
    ("12", "12 Home"),
    ("81", "81 Independent laboratory"),
)
LINE_FIELDS: Final = ("service_date", "procedure_code", "modifiers", "units", "charge", "pointers")
SERVICE_FIELDS: Final = ("procedure_code", "units")

#: What each field needs, said once (shown instead of the validator's wording).
NEEDS: Final[dict[str, str]] = {
    "billingNpi": "Choose one of your NPIs.",
    "member_number": "Enter the member number from the ID card.",
    "family_name": "Enter the patient's family name.",
    "birth_date": "Enter the patient's date of birth.",
    "place_of_service": "Choose where the care was given.",
    "diagnoses": "Enter one to twelve ICD-10-CM codes, such as J06.9, separated by commas.",
    "prior_auth_reference": "At most 40 characters.",
    "service_date": "Enter the date of service (not in the future).",
    "procedure_code": "Five letters or digits (CPT or HCPCS), such as 99213.",
    "modifiers": "Up to four modifiers of two letters or digits, such as 25.",
    "units": "A whole number from 1 to 9999.",
    "charge": "An amount in dollars, such as 125.00.",
    "pointers": "Numbers of the diagnoses above, such as 1 or 1, 2.",
    "service_from": "Enter the first date of service.",
    "service_to": "Enter the last date of service (on or after the first).",
    "clinical_notes": "At most 20,000 characters.",
    "services": "Add at least one procedure with its units.",
}

_API_LINE_FIELDS: Final = {
    "serviceDateFrom": "service_date",
    "serviceDateTo": "service_date",
    "procedureCode": "procedure_code",
    "modifiers": "modifiers",
    "units": "units",
    "charge": "charge",
    "diagnosisPointers": "pointers",
}
_API_CLAIM_FIELDS: Final = {
    "billingNpi": "billingNpi",
    "memberId": "member_number",
    "placeOfService": "place_of_service",
    "diagnoses": "diagnoses",
    "priorAuthReference": "prior_auth_reference",
    "lines": "line1_procedure_code",
}
_API_PA_FIELDS: Final = {
    "requestingNpi": "billingNpi",
    "memberId": "member_number",
    "serviceFrom": "service_from",
    "serviceTo": "service_to",
    "diagnosisCodes": "diagnoses",
    "clinicalNotes": "clinical_notes",
}


@dataclass(slots=True)
class FormErrors:
    """Messages by field name (shown beside the field), and those that concern the whole form."""

    fields: dict[str, str] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def add(self, name: str | None, message: str | None = None) -> None:
        if name is None:
            if message and message not in self.general:
                self.general.append(message)
            return
        self.fields.setdefault(name, message or NEEDS.get(_base(name), "Check this field."))

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def summary(self) -> list[tuple[str, str]]:
        """(field name, message) pairs for the list at the top of the form, in form order."""
        return list(self.fields.items())


def _base(name: str) -> str:
    return re.sub(r"^(line|service)[0-9]+_", "", name)


def _codes(text: str) -> list[str]:
    return [c.strip().upper() for c in re.split(r"[,\s;]+", text) if c.strip()]


def _int_list(text: str) -> list[int] | None:
    try:
        return [int(p) for p in _codes(text)]
    except ValueError:
        return None


def claim_body(form: Mapping[str, str], member_id: str | None) -> tuple[dict[str, Any], FormErrors]:
    """The ``POST /api/v1/claims`` body a claim form describes, and what the form itself lacks
    (a line half filled in, a number that is not a number). ``member_id``: the matched member."""
    errors = FormErrors()
    lines: list[dict[str, Any]] = []
    for n in range(1, CLAIM_LINES + 1):
        values = {f: form.get(f"line{n}_{f}", "").strip() for f in LINE_FIELDS}
        if not any(values.values()):
            continue
        line: dict[str, Any] = {
            "procedureCode": values["procedure_code"].upper() or None,
            "charge": values["charge"].replace(",", "").removeprefix("$"),
            "serviceDateFrom": values["service_date"] or None,
        }
        if values["modifiers"]:
            line["modifiers"] = _codes(values["modifiers"])
        if values["units"]:
            if not values["units"].isdigit():
                errors.add(f"line{n}_units")
            else:
                line["units"] = int(values["units"])
        if values["pointers"]:
            pointers = _int_list(values["pointers"])
            if pointers is None:
                errors.add(f"line{n}_pointers")
            else:
                line["diagnosisPointers"] = pointers
        for required in ("service_date", "procedure_code", "charge"):
            if not values[required]:
                errors.add(f"line{n}_{required}")
        lines.append(line)
    if not lines:
        errors.add("line1_procedure_code", "Enter at least one service line.")
    body: dict[str, Any] = {
        "claimType": "PROFESSIONAL",
        "memberId": member_id,
        "billingNpi": form.get("billingNpi", "").strip(),
        "placeOfService": form.get("place_of_service", "").strip() or None,
        "diagnoses": _codes(form.get("diagnoses", "")),
        "lines": lines,
    }
    reference = form.get("prior_auth_reference", "").strip()
    if reference:
        body["priorAuthReference"] = reference
    return body, errors


def _line_numbers(form: Mapping[str, str]) -> list[int]:
    """Form line number of each line sent (blank lines are skipped, so API index ≠ form number)."""
    return [n for n in range(1, CLAIM_LINES + 1) if any(form.get(f"line{n}_{f}", "").strip() for f in LINE_FIELDS)]


def claim_errors(form: Mapping[str, str], locations: Sequence[tuple[Sequence[Any], str]]) -> FormErrors:
    """The API's errors (pydantic locations or ``body.lines.0.charge`` paths split on dots, with
    their messages) placed on the form's fields."""
    numbers = _line_numbers(form)
    errors = FormErrors()
    for loc, message in locations:
        parts = [str(p) for p in loc if str(p) != "body"]
        plain = message.removeprefix("Value error, ")
        if not parts:
            line_error = re.match(r"lines\[(\d+)\]\.diagnosisPointers", plain)
            if line_error and int(line_error.group(1)) < len(numbers):
                errors.add(f"line{numbers[int(line_error.group(1))]}_pointers")
            elif "diagnos" in plain:
                errors.add("diagnoses")
            else:
                errors.add(None, _sentence(plain))
            continue
        if parts[0] == "lines" and len(parts) >= 2 and parts[1].isdigit():
            index = int(parts[1])
            number = numbers[index] if index < len(numbers) else 1
            name = _API_LINE_FIELDS.get(parts[2]) if len(parts) > 2 else None
            if name is None:
                name = "service_date" if "serviceDate" in plain else "modifiers" if "modifier" in plain else None
            if name is None:
                errors.add(None, f"Line {number}: {_sentence(plain)}")
            else:
                errors.add(f"line{number}_{name}", _intake_message(name, plain))
            continue
        errors.add(_API_CLAIM_FIELDS.get(parts[0]), None if parts[0] in _API_CLAIM_FIELDS else _sentence(plain))
    return errors


def _intake_message(name: str, message: str) -> str | None:
    if name == "service_date" and "future" in message:
        return "The date of service is in the future."
    if name == "procedure_code" and "needs one" in message:
        return NEEDS["procedure_code"]
    return None


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def prior_auth_body(form: Mapping[str, str]) -> tuple[dict[str, Any], FormErrors]:
    """The services, dates, diagnoses and notes of ``POST /api/v1/prior-auths`` a request form
    describes (member and requesting provider are filled in by the view)."""
    errors = FormErrors()
    services: list[dict[str, Any]] = []
    for n in range(1, PA_SERVICES + 1):
        code = form.get(f"service{n}_procedure_code", "").strip().upper()
        units = form.get(f"service{n}_units", "").strip()
        if not code and not units:
            continue
        if not code:
            errors.add(f"service{n}_procedure_code")
        if not units.isdigit():
            errors.add(f"service{n}_units")
        services.append({"procedureCode": code, "units": int(units) if units.isdigit() else 0})
    if not services:
        errors.add("service1_procedure_code", NEEDS["services"])
    body: dict[str, Any] = {
        "serviceFrom": form.get("service_from", "").strip() or None,
        "serviceTo": form.get("service_to", "").strip() or None,
        "services": services,
        "diagnosisCodes": _codes(form.get("diagnoses", "")),
        "expedited": form.get("expedited") == "yes",
    }
    notes = form.get("clinical_notes", "").strip()
    if notes:
        body["clinicalNotes"] = notes
    return body, errors


def path_parts(path: str) -> list[str]:
    """``body.lines.0.charge`` → its parts."""
    return [p for p in re.split(r"[.\[\]]+", path) if p]


def prior_auth_errors(form: Mapping[str, str], locations: Sequence[tuple[Sequence[Any], str]]) -> FormErrors:
    numbers = [
        n
        for n in range(1, PA_SERVICES + 1)
        if form.get(f"service{n}_procedure_code", "").strip() or form.get(f"service{n}_units", "").strip()
    ]
    errors = FormErrors()
    for loc, message in locations:
        parts = [str(p) for p in loc if str(p) != "body"]
        if len(parts) >= 3 and parts[0] == "services" and parts[1].isdigit():
            index = int(parts[1])
            number = numbers[index] if index < len(numbers) else 1
            name = "procedure_code" if parts[2] == "procedureCode" else "units"
            errors.add(f"service{number}_{name}")
        elif parts == ["services"]:
            errors.add("service1_procedure_code", _sentence(message))
        elif parts and parts[0] in _API_PA_FIELDS:
            errors.add(_API_PA_FIELDS[parts[0]])
        else:
            errors.add(None, _sentence(message.removeprefix("Value error, ")))
    return errors
