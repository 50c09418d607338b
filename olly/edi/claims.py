"""837P and 837I → ``ClaimSubmission``: the neutral claim model the claims intake takes.

The mapper rides on the validator (``olly.edi.validate``), which tells it the loop of every
segment, so a ``NM1*82`` is read as the rendering provider only where the guide puts one. Each claim
leaves as soon as its 2300 loop closes, so a file of any size maps in constant memory.

Claim-level edits the 999 cannot express (the file is well formed, one claim is not acceptable)
are collected on the claim as ``ClaimProblem``s; the 277CA rejects exactly those claims.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

from olly.edi import codes
from olly.edi.codes import TransactionKind
from olly.edi.grammar import parse_date
from olly.edi.syntax import Segment
from olly.edi.validate import Origin, SetContext
from olly.kernel.errors import ValidationFailed
from olly.kernel.money import Money

#: Diagnosis qualifiers of ICD-9-CM. HIPAA moved claims to ICD-10-CM on 2015-10-01; a 5010 claim
#: sending them is rejected in the 277CA (principal: status 254, others: 255).
ICD9_QUALIFIERS = frozenset({"BK", "BF", "BJ", "BN", "PR", "BR", "BQ"})
_DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "ABJ", "APR", "ABN", "BK", "BF", "BJ", "PR", "BN"})
_PRINCIPAL = frozenset({"ABK", "BK"})
#: CLM05-3 of a bill sent while the patient is still in (interim, first or continuing).
_INTERIM = frozenset({"2", "3"})


@dataclass(frozen=True, slots=True)
class Diagnosis:
    qualifier: str
    """ABK principal / ABF other (ICD-10-CM); BK/BF are ICD-9 and rejected."""
    code: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ServiceLine:
    line_number: int
    procedure_qualifier: str
    """HC (CPT/HCPCS), ER, IV, WK …"""
    procedure_code: str
    modifiers: tuple[str, ...]
    charge: Money
    units: Decimal
    unit_basis: str
    """UN units, MJ minutes, DA days."""
    revenue_code: str | None = None
    """837I SV201."""
    place_of_service: str | None = None
    """837P SV105, when it differs from the claim's."""
    diagnosis_pointers: tuple[int, ...] = ()
    service_date_from: date | None = None
    service_date_to: date | None = None
    rendering_npi: str | None = None
    prior_authorization: str | None = None
    line_control_number: str | None = None
    """REF*6R: the provider's line id, echoed in the 835."""


@dataclass(frozen=True, slots=True)
class ClaimProblem:
    """A claim-level rejection reason, rendered as STC01 category:status[:entity] in the 277CA."""

    category: str
    status: str
    field: str
    """Which part of the claim, e.g. ``diagnoses.0.qualifier`` (never the value)."""
    entity: str | None = None
    line_number: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimSubmission:
    kind: TransactionKind
    origin: Origin
    claim_id: str
    """CLM01, the provider's patient control number."""
    total_charge: Money
    frequency_code: str
    """CLM05-3: 1 original, 7 replacement, 8 void."""
    facility_code: str
    """CLM05-1: place of service (837P) or facility type (837I)."""
    billing_npi: str | None
    billing_tax_id: str | None
    billing_name: str
    payer_id: str
    payer_name: str
    subscriber_member_id: str
    patient_is_subscriber: bool
    relationship_code: str
    """SBR02 (18 = self) or PAT01 for a dependent."""
    diagnoses: tuple[Diagnosis, ...]
    lines: tuple[ServiceLine, ...]
    rendering_npi: str | None = None
    attending_npi: str | None = None
    referring_npi: str | None = None
    service_facility_npi: str | None = None
    prior_authorization: str | None = None
    payer_claim_control_number: str | None = None
    """REF*F8: the payer's number of the claim a replacement or void refers to."""
    group_number: str | None = None
    claim_filing_indicator: str | None = None
    statement_from: date | None = None
    statement_to: date | None = None
    admission_date: date | None = None
    """837I DTP*435: when the patient was admitted (an in-patient bill)."""
    admission_time: time | None = None
    """DTP*435's hour and minute, when sent in the DT format."""
    discharge_time: time | None = None
    """837I DTP*096: when the patient left, on the statement's last day."""
    subscriber_last_name: str = field(default="", repr=False)
    subscriber_first_name: str = field(default="", repr=False)
    subscriber_birth_date: date | None = field(default=None, repr=False)
    subscriber_gender: str = field(default="", repr=False)
    patient_last_name: str = field(default="", repr=False)
    patient_first_name: str = field(default="", repr=False)
    patient_birth_date: date | None = field(default=None, repr=False)
    patient_gender: str = field(default="", repr=False)
    problems: tuple[ClaimProblem, ...] = ()
    submitter_id: str = ""
    """1000A NM109: who sent the file (a clearinghouse or the provider)."""
    submitter_name: str = ""

    @property
    def accepted(self) -> bool:
        return not self.problems

    @property
    def service_date_from(self) -> date | None:
        dates = [line.service_date_from for line in self.lines if line.service_date_from]
        return min(dates) if dates else self.statement_from

    @property
    def inpatient_hours(self) -> int | None:
        """Whole hours from admission to discharge, when the bill says both to the minute: DTP*435 in
        the DT format, DTP*096, and the statement's last day as the discharge day (an interim bill,
        CLM05-3 2 or 3, has no discharge yet). ``None`` otherwise: dates alone do not give hours."""
        if (
            self.admission_date is None
            or self.admission_time is None
            or self.discharge_time is None
            or self.statement_to is None
            or self.frequency_code in _INTERIM
        ):
            return None
        stay = datetime.combine(self.statement_to, self.discharge_time) - datetime.combine(
            self.admission_date, self.admission_time
        )
        return int(stay.total_seconds() // 3600)

    @property
    def service_date_to(self) -> date | None:
        dates = [line.service_date_to or line.service_date_from for line in self.lines if line.service_date_from]
        return max(d for d in dates if d) if dates else self.statement_to


@functools.lru_cache(maxsize=4096)
def is_valid_npi(npi: str) -> bool:
    """10 digits whose Luhn check over "80840" + the first nine matches the tenth."""
    if len(npi) != 10 or not npi.isdigit():
        return False
    digits = [int(c) for c in "80840" + npi[:9]]
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10 == int(npi[9])


@dataclass(frozen=True, slots=True)
class ClaimOptions:
    currency: str = "USD"
    reject_icd9: bool = True
    check_npi: bool = True


def _dates(fmt: str, value: str) -> tuple[date | None, date | None]:
    if fmt == "D8":
        day = parse_date(value) if len(value) == 8 else None
        return day, day
    if fmt == "RD8":
        start, _, end = value.partition("-")
        return (parse_date(start) if len(start) == 8 else None, parse_date(end) if len(end) == 8 else None)
    return None, None


def _admission(fmt: str, value: str) -> tuple[date, time | None] | None:
    """DTP*435: D8 (a day) or DT (CCYYMMDDHHMM); ``None`` when neither reads as a real moment."""
    if fmt == "D8":
        day = parse_date(value) if len(value) == 8 else None
        return None if day is None else (day, None)
    if fmt == "DT" and len(value) == 12:
        day = parse_date(value[:8])
        moment = _clock_time(value[8:])
        return None if day is None or moment is None else (day, moment)
    return None


def _stay_problem(claim: dict[str, object]) -> ClaimProblem | None:
    """A discharge before the admission: the statement ends before the admission day (189), or on
    that day at an earlier hour (190)."""
    admitted, last_day = claim.get("admission_date"), claim.get("statement_to")
    if not isinstance(admitted, date) or not isinstance(last_day, date):
        return None
    if last_day < admitted:
        return ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_ADMISSION_DATE, "admission_date")
    arrived, left = claim.get("admission_time"), claim.get("discharge_time")
    if last_day == admitted and isinstance(arrived, time) and isinstance(left, time) and left < arrived:
        return ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_DISCHARGE_DATE, "discharge_time")
    return None


def _clock_time(value: str) -> time | None:
    """HHMM, 0000–2359."""
    if len(value) != 4 or not value.isdigit():
        return None
    hour, minute = int(value[:2]), int(value[2:])
    return time(hour, minute) if hour < 24 and minute < 60 else None


def _money(text: str, currency: str) -> Money | None:
    try:
        return Money.parse(text, currency)
    except (ValidationFailed, TypeError):
        return None


class _Line:
    __slots__ = ("charge", "data", "number", "problems")

    def __init__(self, number: int) -> None:
        self.number = number
        self.data: dict[str, object] = {}
        self.charge: Money | None = None
        self.problems: list[ClaimProblem] = []


class ClaimMapper:
    """A ``TransactionHandler`` for one 837 transaction set; calls ``emit`` with each finished claim."""

    def __init__(self, context: SetContext, emit: Callable[[ClaimSubmission], None], options: ClaimOptions) -> None:
        self.context = context
        self.kind = context.kind
        self.professional = context.kind is TransactionKind.CLAIM_PROFESSIONAL
        self.emit = emit
        self.options = options
        self.component = context.delimiters.component
        self.billing: dict[str, str | None] = {}
        self.submitter: tuple[str, str] = ("", "")
        self.subscriber: dict[str, object] = {}
        self.patient: dict[str, object] | None = None
        self.claim: dict[str, object] | None = None
        self.lines: list[_Line] = []
        self.diagnoses: list[Diagnosis] = []
        self.problems: list[ClaimProblem] = []

    # -- TransactionHandler ----------------------------------------------------------------------
    def segment(self, segment: Segment, loop_id: str) -> None:
        segment_id = segment.id
        if segment_id == "HL":
            self._flush()
            level = segment[3]
            if level == "20":
                self.billing = {}
                self.subscriber = {}
                self.patient = None
            elif level == "22":
                self.subscriber = {}
                self.patient = None
            elif level == "23":
                self.patient = {}
            return
        if segment_id == "CLM" and loop_id == "2300":
            self._flush()
            self._start_claim(segment)
            return
        if segment_id == "SE":
            self._flush()
            return
        if loop_id == "1000A" and segment_id == "NM1":
            self.submitter = (segment[9], segment[3])
        elif loop_id.startswith("2010A"):
            self._billing(segment, loop_id)
        elif loop_id in ("2000B", "2010BA", "2010BB"):
            self._subscriber(segment, loop_id)
        elif loop_id in ("2000C", "2010CA") and self.patient is not None:
            self._patient(segment, loop_id)
        elif self.claim is not None:
            if loop_id == "2300":
                self._claim_segment(segment)
            elif loop_id.startswith("231"):
                self._claim_provider(segment, loop_id)
            elif loop_id == "2400":
                self._line_segment(segment)
            elif loop_id.startswith("2420") and segment_id == "NM1" and segment[1] == "82" and self.lines:
                self.lines[-1].data["rendering_npi"] = segment[9] if segment[8] == "XX" else None

    def end(self) -> None:
        self._flush()

    # -- loops ----------------------------------------------------------------------------------
    def _billing(self, segment: Segment, loop_id: str) -> None:
        if loop_id != "2010AA":
            return
        if segment.id == "NM1":
            self.billing["npi"] = segment[9] if segment[8] == "XX" else None
            self.billing["name"] = segment[3]
        elif segment.id == "REF" and segment[1] == "EI":
            self.billing["tax_id"] = segment[2]

    def _subscriber(self, segment: Segment, loop_id: str) -> None:
        sid = segment.id
        if sid == "SBR":
            self.subscriber.update(relationship=segment[2], group=segment[3], filing=segment[9])
        elif sid == "NM1" and loop_id == "2010BA":
            self.subscriber.update(member_id=segment[9], last=segment[3], first=segment[4])
        elif sid == "DMG" and loop_id == "2010BA":
            self.subscriber.update(birth=parse_date(segment[2]) if segment[1] == "D8" else None, gender=segment[3])
        elif sid == "NM1" and loop_id == "2010BB":
            self.subscriber.update(payer_id=segment[9], payer_name=segment[3])

    def _patient(self, segment: Segment, loop_id: str) -> None:
        assert self.patient is not None
        sid = segment.id
        if sid == "PAT":
            self.patient["relationship"] = segment[1]
        elif sid == "NM1" and loop_id == "2010CA":
            self.patient.update(last=segment[3], first=segment[4])
        elif sid == "DMG" and loop_id == "2010CA":
            self.patient.update(birth=parse_date(segment[2]) if segment[1] == "D8" else None, gender=segment[3])

    def _start_claim(self, segment: Segment) -> None:
        facility = segment[5].split(self.component)
        self.claim = {
            "origin": self.context.origin(segment),
            "claim_id": segment[1],
            "charge_text": segment[2],
            "facility_code": facility[0] if facility else "",
            "frequency_code": facility[2] if len(facility) > 2 else "",
        }
        self.lines = []
        self.diagnoses = []
        self.problems = []

    def _claim_segment(self, segment: Segment) -> None:
        claim = self.claim
        assert claim is not None
        sid = segment.id
        if sid == "HI":
            for position in range(1, len(segment.elements)):
                parts = segment[position].split(self.component)
                qualifier = parts[0]
                if qualifier not in _DIAGNOSIS_QUALIFIERS or len(parts) < 2:
                    continue
                index = len(self.diagnoses)
                self.diagnoses.append(Diagnosis(qualifier, parts[1]))
                if self.options.reject_icd9 and qualifier in ICD9_QUALIFIERS:
                    status = codes.STATUS_PRINCIPAL_DIAGNOSIS if qualifier in _PRINCIPAL else codes.STATUS_DIAGNOSIS
                    self.problems.append(
                        ClaimProblem(codes.CATEGORY_REJECTED_INVALID, status, f"diagnoses.{index}.qualifier")
                    )
        elif sid == "REF":
            if segment[1] == "G1":
                claim["prior_authorization"] = segment[2]
            elif segment[1] == "F8":
                claim["payer_claim_control_number"] = segment[2]
        elif sid == "DTP" and segment[1] == "434":
            claim["statement_from"], claim["statement_to"] = _dates(segment[2], segment[3])
        elif sid == "DTP" and segment[1] == "435":
            admitted = _admission(segment[2], segment[3])
            if admitted is None:
                self.problems.append(
                    ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_ADMISSION_DATE, "admission_date")
                )
            else:
                claim["admission_date"], claim["admission_time"] = admitted
        elif sid == "DTP" and segment[1] == "096":
            left = _clock_time(segment[3]) if segment[2] == "TM" else None
            if left is None:
                self.problems.append(
                    ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_DISCHARGE_DATE, "discharge_time")
                )
            else:
                claim["discharge_time"] = left

    def _claim_provider(self, segment: Segment, loop_id: str) -> None:
        claim = self.claim
        assert claim is not None
        if segment.id != "NM1" or segment[8] != "XX":
            return
        role = {"82": "rendering_npi", "71": "attending_npi", "DN": "referring_npi", "77": "service_facility_npi"}
        key = role.get(segment[1])
        if key is not None:
            claim[key] = segment[9]

    def _line_segment(self, segment: Segment) -> None:
        sid = segment.id
        if sid == "LX":
            number = int(segment[1]) if segment[1].isdigit() else len(self.lines) + 1
            self.lines.append(_Line(number))
            return
        if not self.lines:
            return
        line = self.lines[-1]
        if sid in ("SV1", "SV2"):
            if sid == "SV1":
                procedure, charge, basis, units = segment[1], segment[2], segment[3], segment[4]
                line.data["place_of_service"] = segment[5] or None
                pointers = [p for p in segment[7].split(self.component) if p.isdigit()]
                line.data["pointers"] = tuple(int(p) for p in pointers)
            else:
                line.data["revenue_code"] = segment[1] or None
                procedure, charge, basis, units = segment[2], segment[3], segment[4], segment[5]
            parts = procedure.split(self.component)
            line.data["qualifier"] = parts[0] if parts else ""
            line.data["code"] = parts[1] if len(parts) > 1 else ""
            line.data["modifiers"] = tuple(m for m in parts[2:6] if m)
            line.data["basis"] = basis
            try:
                line.data["units"] = Decimal(units) if units else Decimal(1)
            except InvalidOperation:
                line.data["units"] = Decimal(0)
            line.charge = _money(charge, self.options.currency)
            if line.charge is None:
                line.problems.append(
                    ClaimProblem(
                        codes.CATEGORY_REJECTED_INVALID, codes.STATUS_CHARGE, "lines.charge", line_number=line.number
                    )
                )
        elif sid == "DTP" and segment[1] == "472":
            line.data["from"], line.data["to"] = _dates(segment[2], segment[3])
        elif sid == "REF":
            if segment[1] == "G1":
                line.data["prior_authorization"] = segment[2]
            elif segment[1] == "6R":
                line.data["line_control_number"] = segment[2]

    # -- building ---------------------------------------------------------------------------------
    def _flush(self) -> None:
        claim = self.claim
        if claim is None:
            return
        self.claim = None
        options = self.options
        currency = options.currency
        problems = list(self.problems)
        total = _money(str(claim["charge_text"]), currency)
        if total is None:
            problems.append(ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_CHARGE, "total_charge"))
            total = Money.zero(currency)
        lines: list[ServiceLine] = []
        line_sum = 0  # minor units: every charge was read in ``currency``
        zero = Money.zero(currency)
        for raw in self.lines:
            problems.extend(raw.problems)
            data = raw.data
            charge = raw.charge or zero
            line_sum += charge.amount
            pointers = data.get("pointers", ())
            assert isinstance(pointers, tuple)
            if any(p < 1 or p > len(self.diagnoses) for p in pointers):
                problems.append(
                    ClaimProblem(
                        codes.CATEGORY_REJECTED_INVALID,
                        codes.STATUS_DIAGNOSIS,
                        "lines.diagnosis_pointers",
                        line_number=raw.number,
                    )
                )
            start = data.get("from")
            end = data.get("to")
            if not isinstance(start, date):
                start = claim.get("statement_from") if isinstance(claim.get("statement_from"), date) else None
                end = claim.get("statement_to") if isinstance(claim.get("statement_to"), date) else None
            if start is None:
                problems.append(
                    ClaimProblem(
                        codes.CATEGORY_REJECTED_INVALID,
                        codes.STATUS_LINE_DATE,
                        "lines.service_date",
                        line_number=raw.number,
                    )
                )
            lines.append(
                ServiceLine(
                    line_number=raw.number,
                    procedure_qualifier=str(data.get("qualifier", "")),
                    procedure_code=str(data.get("code", "")),
                    modifiers=tuple(data.get("modifiers", ())),  # type: ignore[arg-type]
                    charge=charge,
                    units=data.get("units", Decimal(0)),  # type: ignore[arg-type]
                    unit_basis=str(data.get("basis", "")),
                    revenue_code=data.get("revenue_code"),  # type: ignore[arg-type]
                    place_of_service=data.get("place_of_service"),  # type: ignore[arg-type]
                    diagnosis_pointers=pointers,
                    service_date_from=start if isinstance(start, date) else None,
                    service_date_to=end if isinstance(end, date) else None,
                    rendering_npi=data.get("rendering_npi"),  # type: ignore[arg-type]
                    prior_authorization=data.get("prior_authorization"),  # type: ignore[arg-type]
                    line_control_number=data.get("line_control_number"),  # type: ignore[arg-type]
                )
            )
        if lines and Money(line_sum, currency) != total:
            problems.append(ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_CHARGE, "total_charge"))
        billing_npi = self.billing.get("npi")
        if options.check_npi and (billing_npi is None or not is_valid_npi(billing_npi)):
            problems.append(
                ClaimProblem(codes.CATEGORY_REJECTED_INVALID, codes.STATUS_PROVIDER_NPI, "billing_npi", entity="85")
            )
        subscriber = self.subscriber
        member_id = str(subscriber.get("member_id") or "")
        if not member_id:
            problems.append(
                ClaimProblem(
                    codes.CATEGORY_REJECTED_MISSING, codes.STATUS_SUBSCRIBER_ID, "subscriber_member_id", entity="IL"
                )
            )
        stay = _stay_problem(claim)
        if stay is not None:
            problems.append(stay)
        patient = self.patient
        is_subscriber = patient is None
        source: dict[str, object] = subscriber if patient is None else patient
        self.emit(
            ClaimSubmission(
                kind=self.kind,
                origin=claim["origin"],  # type: ignore[arg-type]
                claim_id=str(claim["claim_id"]),
                total_charge=total,
                frequency_code=str(claim["frequency_code"]),
                facility_code=str(claim["facility_code"]),
                billing_npi=billing_npi,
                billing_tax_id=self.billing.get("tax_id"),
                billing_name=self.billing.get("name") or "",
                payer_id=str(subscriber.get("payer_id") or ""),
                payer_name=str(subscriber.get("payer_name") or ""),
                subscriber_member_id=member_id,
                patient_is_subscriber=is_subscriber,
                relationship_code=str(
                    (subscriber.get("relationship") if patient is None else patient.get("relationship")) or ""
                ),
                diagnoses=tuple(self.diagnoses),
                lines=tuple(lines),
                rendering_npi=claim.get("rendering_npi"),  # type: ignore[arg-type]
                attending_npi=claim.get("attending_npi"),  # type: ignore[arg-type]
                referring_npi=claim.get("referring_npi"),  # type: ignore[arg-type]
                service_facility_npi=claim.get("service_facility_npi"),  # type: ignore[arg-type]
                prior_authorization=claim.get("prior_authorization"),  # type: ignore[arg-type]
                payer_claim_control_number=claim.get("payer_claim_control_number"),  # type: ignore[arg-type]
                group_number=str(subscriber.get("group") or "") or None,
                claim_filing_indicator=str(subscriber.get("filing") or "") or None,
                statement_from=claim.get("statement_from"),  # type: ignore[arg-type]
                statement_to=claim.get("statement_to"),  # type: ignore[arg-type]
                admission_date=claim.get("admission_date"),  # type: ignore[arg-type]
                admission_time=claim.get("admission_time"),  # type: ignore[arg-type]
                discharge_time=claim.get("discharge_time"),  # type: ignore[arg-type]
                subscriber_last_name=str(subscriber.get("last") or ""),
                subscriber_first_name=str(subscriber.get("first") or ""),
                subscriber_birth_date=subscriber.get("birth"),  # type: ignore[arg-type]
                subscriber_gender=str(subscriber.get("gender") or ""),
                patient_last_name=str(source.get("last") or ""),
                patient_first_name=str(source.get("first") or ""),
                patient_birth_date=source.get("birth"),  # type: ignore[arg-type]
                patient_gender=str(source.get("gender") or ""),
                problems=tuple(problems),
                submitter_id=self.submitter[0],
                submitter_name=self.submitter[1],
            )
        )
