"""CMS place of service codes (two digits, professional claims). Public domain; names are Olly's wording."""

from __future__ import annotations

from typing import Final

_PLACES: Final[dict[str, str]] = {
    "01": "Pharmacy",
    "02": "Telehealth, not in the patient's home",
    "03": "School",
    "04": "Homeless shelter",
    "05": "Indian Health Service free-standing facility",
    "06": "Indian Health Service provider-based facility",
    "07": "Tribal 638 free-standing facility",
    "08": "Tribal 638 provider-based facility",
    "09": "Prison or correctional facility",
    "10": "Telehealth in the patient's home",
    "11": "Office",
    "12": "Home",
    "13": "Assisted living facility",
    "14": "Group home",
    "15": "Mobile unit",
    "16": "Temporary lodging",
    "17": "Walk-in retail health clinic",
    "18": "Place of employment or worksite",
    "19": "Off-campus outpatient hospital",
    "20": "Urgent care facility",
    "21": "Inpatient hospital",
    "22": "On-campus outpatient hospital",
    "23": "Hospital emergency room",
    "24": "Ambulatory surgical center",
    "25": "Birthing center",
    "26": "Military treatment facility",
    "27": "Outreach site or street",
    "31": "Skilled nursing facility",
    "32": "Nursing facility",
    "33": "Custodial care facility",
    "34": "Hospice",
    "41": "Land ambulance",
    "42": "Air or water ambulance",
    "49": "Independent clinic",
    "50": "Federally qualified health center",
    "51": "Inpatient psychiatric facility",
    "52": "Psychiatric partial hospitalization",
    "53": "Community mental health center",
    "54": "Intermediate care facility for people with intellectual disabilities",
    "55": "Residential substance use treatment facility",
    "56": "Psychiatric residential treatment center",
    "57": "Non-residential substance use treatment facility",
    "58": "Non-residential opioid treatment facility",
    "60": "Mass immunization center",
    "61": "Comprehensive inpatient rehabilitation facility",
    "62": "Comprehensive outpatient rehabilitation facility",
    "65": "End-stage renal disease treatment facility",
    "66": "PACE center",
    "71": "Public health clinic",
    "72": "Rural health clinic",
    "81": "Independent laboratory",
    "99": "Other place of service",
}

#: Places where care is given in a hospital as an inpatient (used to tell facility settings apart).
INPATIENT_PLACES: Final = frozenset({"21", "51", "61"})
EMERGENCY_ROOM: Final = "23"


def is_valid_place_of_service(code: str) -> bool:
    """True for an assigned two-digit code; unassigned numbers (28–30, 35–40, …) are invalid."""
    return code in _PLACES


def place_of_service_name(code: str) -> str:
    """Olly's short name for the code; ``KeyError`` for an unassigned one."""
    return _PLACES[code]


def all_places_of_service() -> dict[str, str]:
    return dict(_PLACES)
