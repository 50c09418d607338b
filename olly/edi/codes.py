"""Code lists of the acknowledgements and the 5010 versions Olly speaks.

Each enum value is the code written on the wire; the names are Olly's own short labels.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final


class InterchangeNote(StrEnum):
    """TA105: why an interchange was rejected."""

    NO_ERROR = "000"
    CONTROL_NUMBER_MISMATCH = "001"
    STANDARD_NOT_SUPPORTED = "002"
    VERSION_NOT_SUPPORTED = "003"
    INVALID_SEGMENT_TERMINATOR = "004"
    INVALID_SENDER_QUALIFIER = "005"
    INVALID_SENDER_ID = "006"
    INVALID_RECEIVER_QUALIFIER = "007"
    INVALID_RECEIVER_ID = "008"
    UNKNOWN_RECEIVER_ID = "009"
    INVALID_AUTHORIZATION_QUALIFIER = "010"
    INVALID_AUTHORIZATION_VALUE = "011"
    INVALID_SECURITY_QUALIFIER = "012"
    INVALID_SECURITY_VALUE = "013"
    INVALID_DATE = "014"
    INVALID_TIME = "015"
    INVALID_STANDARDS_IDENTIFIER = "016"
    INVALID_VERSION = "017"
    INVALID_CONTROL_NUMBER = "018"
    INVALID_ACKNOWLEDGMENT_REQUESTED = "019"
    INVALID_TEST_INDICATOR = "020"
    INVALID_GROUP_COUNT = "021"
    INVALID_CONTROL_STRUCTURE = "022"
    PREMATURE_END_OF_FILE = "023"
    INVALID_CONTENT = "024"
    DUPLICATE_CONTROL_NUMBER = "025"
    INVALID_ELEMENT_SEPARATOR = "026"
    INVALID_COMPONENT_SEPARATOR = "027"


class GroupError(StrEnum):
    """AK905–AK909: functional group syntax errors."""

    NOT_SUPPORTED = "1"
    VERSION_NOT_SUPPORTED = "2"
    TRAILER_MISSING = "3"
    CONTROL_NUMBER_MISMATCH = "4"
    SET_COUNT_MISMATCH = "5"
    CONTROL_NUMBER_INVALID = "6"
    CONTROL_NUMBER_NOT_UNIQUE = "19"


class SetError(StrEnum):
    """IK502–IK506: transaction set syntax errors."""

    NOT_SUPPORTED = "1"
    TRAILER_MISSING = "2"
    CONTROL_NUMBER_MISMATCH = "3"
    SEGMENT_COUNT_MISMATCH = "4"
    SEGMENTS_IN_ERROR = "5"
    INVALID_SET_IDENTIFIER = "6"
    INVALID_CONTROL_NUMBER = "7"
    NOT_IN_GROUP = "18"
    INVALID_IMPLEMENTATION_REFERENCE = "19"
    CONTROL_NUMBER_NOT_UNIQUE = "23"
    IMPLEMENTATION_SEGMENTS_IN_ERROR = "I5"
    IMPLEMENTATION_NOT_SUPPORTED = "I6"


class SegmentError(StrEnum):
    """IK304: segment syntax errors."""

    UNRECOGNIZED_SEGMENT = "1"
    UNEXPECTED_SEGMENT = "2"
    REQUIRED_SEGMENT_MISSING = "3"
    LOOP_OVER_MAXIMUM = "4"
    SEGMENT_OVER_MAXIMUM_USE = "5"
    NOT_IN_TRANSACTION_SET = "6"
    OUT_OF_SEQUENCE = "7"
    HAS_ELEMENT_ERRORS = "8"
    NOT_USED_SEGMENT_PRESENT = "I4"
    DEPENDENT_SEGMENT_MISSING = "I6"
    LOOP_UNDER_MINIMUM = "I7"
    SEGMENT_UNDER_MINIMUM = "I8"


class ElementError(StrEnum):
    """IK403: data element syntax errors."""

    REQUIRED_MISSING = "1"
    CONDITIONAL_REQUIRED_MISSING = "2"
    TOO_MANY_ELEMENTS = "3"
    TOO_SHORT = "4"
    TOO_LONG = "5"
    INVALID_CHARACTER = "6"
    INVALID_CODE = "7"
    INVALID_DATE = "8"
    INVALID_TIME = "9"
    EXCLUSION_VIOLATED = "10"
    TOO_MANY_REPETITIONS = "12"
    TOO_MANY_COMPONENTS = "13"
    NOT_USED_PRESENT = "I10"
    PATTERN_MISMATCH = "I12"


class Acknowledgment(StrEnum):
    """IK501 / AK901 / TA104."""

    ACCEPTED = "A"
    ACCEPTED_WITH_ERRORS = "E"
    PARTIALLY_ACCEPTED = "P"
    REJECTED = "R"


class TransactionKind(StrEnum):
    CLAIM_PROFESSIONAL = "837P"
    CLAIM_INSTITUTIONAL = "837I"
    REMITTANCE = "835"
    ENROLLMENT = "834"
    ELIGIBILITY_INQUIRY = "270"
    ELIGIBILITY_RESPONSE = "271"
    STATUS_INQUIRY = "276"
    STATUS_RESPONSE = "277"
    CLAIM_ACKNOWLEDGMENT = "277CA"
    IMPLEMENTATION_ACKNOWLEDGMENT = "999"


@dataclass(frozen=True, slots=True)
class Version:
    kind: TransactionKind
    set_id: str
    """ST01."""
    functional_id: str
    """GS01."""
    reference: str
    """GS08 and ST03."""


#: GS08 versions Olly accepts (DOMAIN.md). 837I X223A3 is the later errata of X223A2 that
#: clearinghouses send; its segments are the same for what Olly reads, so it is accepted too.
VERSIONS: Final[dict[tuple[str, str], Version]] = {
    (v.reference, v.set_id): v
    for v in (
        Version(TransactionKind.CLAIM_PROFESSIONAL, "837", "HC", "005010X222A1"),
        Version(TransactionKind.CLAIM_INSTITUTIONAL, "837", "HC", "005010X223A2"),
        Version(TransactionKind.CLAIM_INSTITUTIONAL, "837", "HC", "005010X223A3"),
        Version(TransactionKind.REMITTANCE, "835", "HP", "005010X221A1"),
        Version(TransactionKind.ENROLLMENT, "834", "BE", "005010X220A1"),
        Version(TransactionKind.ELIGIBILITY_INQUIRY, "270", "HS", "005010X279A1"),
        Version(TransactionKind.ELIGIBILITY_RESPONSE, "271", "HB", "005010X279A1"),
        Version(TransactionKind.STATUS_INQUIRY, "276", "HR", "005010X212"),
        Version(TransactionKind.STATUS_RESPONSE, "277", "HN", "005010X212"),
        Version(TransactionKind.CLAIM_ACKNOWLEDGMENT, "277", "HN", "005010X214"),
        Version(TransactionKind.IMPLEMENTATION_ACKNOWLEDGMENT, "999", "FA", "005010X231A1"),
    )
}


def version_for(reference: str, set_id: str) -> Version | None:
    """The version a GS08/ST03 reference names for transaction set ``set_id``; ``None`` if unknown."""
    return VERSIONS.get((reference, set_id))


#: Claim status category codes (STC01-1) Olly writes in a 277CA.
CATEGORY_ACCEPTED: Final = "A2"
"""Acknowledgement / acceptance into adjudication."""
CATEGORY_REJECTED_INVALID: Final = "A7"
"""Acknowledgement / rejected for invalid information."""
CATEGORY_REJECTED_MISSING: Final = "A6"
"""Acknowledgement / rejected for missing information."""
CATEGORY_RECEIVED: Final = "A1"

#: Claim status codes (STC01-2) Olly uses.
STATUS_ACCEPTED_FOR_PROCESSING: Final = "20"
STATUS_RECEIVED: Final = "19"
STATUS_MISSING_OR_INVALID: Final = "21"
STATUS_PRINCIPAL_DIAGNOSIS: Final = "254"
STATUS_DIAGNOSIS: Final = "255"
STATUS_SUBSCRIBER_ID: Final = "164"
STATUS_CHARGE: Final = "178"
STATUS_LINE_DATE: Final = "187"
STATUS_ADMISSION_DATE: Final = "189"
STATUS_DISCHARGE_DATE: Final = "190"
STATUS_PROCEDURE: Final = "454"
STATUS_PROVIDER_NPI: Final = "562"
