"""270 (005010X279A1) → ``EligibilityInquiry``; ``EligibilityAnswer`` → 271.

An inquiry is one person: the subscriber, or a dependent (then it also names the subscriber). The
eligibility domain answers it with coverage facts; ``write_271`` renders the answers as EB loops:
active coverage with the plan, the plan dates, deductible and out-of-pocket remaining, copays and
coinsurance by service type code. Money leaves as X12 decimals, percentages as fractions (0.2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from olly.edi.grammar import parse_date
from olly.edi.syntax import Segment
from olly.edi.validate import Origin, SetContext
from olly.edi.writer import (
    ControlNumbers,
    EnvelopeSettings,
    Interchange,
    SegmentBuilder,
    TransactionSetText,
    build_interchange,
)
from olly.kernel.money import Money

ELIGIBILITY_VERSION = "005010X279A1"


@dataclass(frozen=True, slots=True)
class Person:
    member_id: str | None
    last_name: str = field(default="", repr=False)
    first_name: str = field(default="", repr=False)
    birth_date: date | None = field(default=None, repr=False)
    gender: str = field(default="", repr=False)


@dataclass(frozen=True, slots=True)
class EligibilityInquiry:
    origin: Origin
    payer_id: str
    payer_name: str
    provider_id: str
    provider_id_qualifier: str
    """NM108: XX for an NPI."""
    provider_name: str
    subscriber: Person
    dependent: Person | None
    trace_number: str
    trace_originator: str
    service_date_from: date | None
    service_date_to: date | None
    service_types: tuple[str, ...]
    """EQ01 service type codes; 30 (health benefit plan coverage) when the inquiry names none."""


class EligibilityInquiryMapper:
    def __init__(self, context: SetContext, emit: Callable[[EligibilityInquiry], None]) -> None:
        self.context = context
        self.emit = emit
        self.repetition = context.delimiters.repetition
        self.source: dict[str, str] = {}
        self.receiver: dict[str, str] = {}
        self.subscriber: dict[str, object] | None = None
        self.dependent: dict[str, object] | None = None
        self.subscriber_emitted = False

    def segment(self, segment: Segment, loop_id: str) -> None:
        sid = segment.id
        if sid == "HL":
            level = segment[3]
            if level in ("20", "21", "22"):
                self._flush_subscriber()
            elif level == "23":
                self._flush_dependent()
            if level == "22":
                self.subscriber = {"origin": self.context.origin(segment), "types": []}
                self.subscriber_emitted = False
            elif level == "23":
                self.dependent = {"origin": self.context.origin(segment), "types": []}
            return
        if sid == "SE":
            self._flush_subscriber()
            return
        if loop_id == "2100A" and sid == "NM1":
            self.source = {"id": segment[9], "name": segment[3]}
        elif loop_id == "2100B" and sid == "NM1":
            self.receiver = {"id": segment[9], "qualifier": segment[8], "name": segment[3]}
        else:
            person = self.dependent if loop_id in ("2000D", "2100D", "2110D") else self.subscriber
            if person is not None:
                self._person_segment(person, segment)

    def end(self) -> None:
        self._flush_subscriber()

    def _person_segment(self, person: dict[str, object], segment: Segment) -> None:
        sid = segment.id
        if sid == "TRN":
            person.update(trace=segment[2], originator=segment[3])
        elif sid == "NM1":
            person.update(member_id=segment[9] or None, last=segment[3], first=segment[4])
        elif sid == "DMG":
            person.update(birth=parse_date(segment[2]) if segment[1] == "D8" else None, gender=segment[3])
        elif sid == "DTP" and segment[1] in ("291", "472", "307", "435"):
            if segment[2] == "D8":
                day = parse_date(segment[3])
                person.update(start=day, end=day)
            elif segment[2] == "RD8":
                start, _, end = segment[3].partition("-")
                person.update(start=parse_date(start), end=parse_date(end))
        elif sid == "EQ":
            types = person["types"]
            assert isinstance(types, list)
            value = segment[1]
            types.extend(v for v in (value.split(self.repetition) if self.repetition else [value]) if v)

    @staticmethod
    def _person(data: dict[str, object]) -> Person:
        birth = data.get("birth")
        return Person(
            member_id=data.get("member_id") if isinstance(data.get("member_id"), str) else None,  # type: ignore[arg-type]
            last_name=str(data.get("last") or ""),
            first_name=str(data.get("first") or ""),
            birth_date=birth if isinstance(birth, date) else None,
            gender=str(data.get("gender") or ""),
        )

    def _inquiry(self, about: dict[str, object], dependent: Person | None) -> EligibilityInquiry:
        subscriber = self.subscriber
        assert subscriber is not None
        origin = about["origin"]
        assert isinstance(origin, Origin)
        start = about.get("start") or subscriber.get("start")
        end = about.get("end") or subscriber.get("end")
        types = about.get("types") or []
        assert isinstance(types, list)
        return EligibilityInquiry(
            origin=origin,
            payer_id=self.source.get("id", ""),
            payer_name=self.source.get("name", ""),
            provider_id=self.receiver.get("id", ""),
            provider_id_qualifier=self.receiver.get("qualifier", ""),
            provider_name=self.receiver.get("name", ""),
            subscriber=self._person(subscriber),
            dependent=dependent,
            trace_number=str(about.get("trace") or subscriber.get("trace") or ""),
            trace_originator=str(about.get("originator") or subscriber.get("originator") or ""),
            service_date_from=start if isinstance(start, date) else None,
            service_date_to=end if isinstance(end, date) else None,
            service_types=tuple(types) or ("30",),
        )

    def _flush_dependent(self) -> None:
        if self.dependent is not None and self.subscriber is not None:
            self.emit(self._inquiry(self.dependent, self._person(self.dependent)))
            self.subscriber_emitted = True
        self.dependent = None

    def _flush_subscriber(self) -> None:
        self._flush_dependent()
        subscriber = self.subscriber
        if subscriber is not None and not self.subscriber_emitted:
            # A subscriber level that only carried dependents is not itself an inquiry.
            self.emit(self._inquiry(subscriber, None))
        self.subscriber = None
        self.subscriber_emitted = False


# -- the answer and the 271 --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Benefit:
    """One EB segment."""

    code: str
    """EB01: 1 active coverage, 6 inactive, A coinsurance, B copayment, C deductible, G out-of-pocket."""
    service_types: tuple[str, ...] = ("30",)
    coverage_level: str | None = "IND"
    """EB02: IND individual, FAM family …"""
    insurance_type: str | None = None
    """EB04: HM (HMO), PR (PPO), C1 (commercial) …"""
    plan_description: str | None = None
    time_period: str | None = None
    """EB06: 23 calendar year, 29 remaining, 27 visit, 32 lifetime."""
    amount: Money | None = None
    percent: Decimal | None = None
    """EB08 as a fraction: 0.2 is 20%."""
    in_network: bool | None = None
    """EB12: Y in network, N out of network, None: applies to both (W)."""


@dataclass(frozen=True, slots=True)
class EligibilityAnswer:
    inquiry: EligibilityInquiry
    found: bool
    """False: the member was not found; the 271 says so with AAA (reason ``rejection_reason``)."""
    rejection_reason: str = "75"
    """AAA03: 75 subscriber/insured not found, 72 invalid member id, 58 invalid birth date."""
    plan_begin: date | None = None
    plan_end: date | None = None
    group_number: str | None = None
    benefits: tuple[Benefit, ...] = ()
    dependent_relationship: str | None = None
    """INS02 for a dependent answer: 01 spouse, 19 child, 34 other adult …"""
    member_gender: str | None = None
    """DMG03 of the person answered for as the payer holds it (M, F, U); when found and unknown, U."""


def coverage_benefits(
    *,
    active: bool,
    plan_name: str,
    insurance_type: str = "C1",
    deductible_remaining: Money | None = None,
    deductible_family_remaining: Money | None = None,
    out_of_pocket_remaining: Money | None = None,
    out_of_pocket_family_remaining: Money | None = None,
    copays: Sequence[tuple[str, Money]] = (),
    coinsurance: Sequence[tuple[str, Decimal]] = (),
) -> tuple[Benefit, ...]:
    """The usual EB set for an answer: coverage, remaining accumulators, cost sharing by service type."""
    out = [
        Benefit(
            "1" if active else "6",
            ("30",),
            "IND",
            insurance_type,
            plan_name,
        )
    ]
    if not active:
        return tuple(out)
    for code, level, amount in (
        ("C", "IND", deductible_remaining),
        ("C", "FAM", deductible_family_remaining),
        ("G", "IND", out_of_pocket_remaining),
        ("G", "FAM", out_of_pocket_family_remaining),
    ):
        if amount is not None:
            out.append(Benefit(code, ("30",), level, time_period="29", amount=amount, in_network=True))
    for service_type, amount in copays:
        out.append(Benefit("B", (service_type,), "IND", time_period="27", amount=amount, in_network=True))
    for service_type, fraction in coinsurance:
        out.append(Benefit("A", (service_type,), "IND", percent=fraction, in_network=True))
    return tuple(out)


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _d8(day: date) -> str:
    return day.strftime("%Y%m%d")


def _eligibility_body(answers: Sequence[EligibilityAnswer], reference: str, now: datetime, out: SegmentBuilder) -> None:
    out.add("BHT", "0022", "11", reference, now.strftime("%Y%m%d"), now.strftime("%H%M"))
    hl = 0
    for answer in answers:
        inquiry = answer.inquiry
        hl += 1
        source = hl
        out.add("HL", str(source), None, "20", "1")
        out.add(
            "NM1", "PR", "2", inquiry.payer_name or "PAYER", None, None, None, None, "PI", inquiry.payer_id or "UNKNOWN"
        )
        hl += 1
        receiver = hl
        out.add("HL", str(receiver), str(source), "21", "1")
        provider_entity = "2" if not inquiry.provider_name or " " in inquiry.provider_name else "1"
        out.add(
            "NM1",
            "1P",
            provider_entity,
            inquiry.provider_name or None,
            None,
            None,
            None,
            None,
            inquiry.provider_id_qualifier or "XX",
            inquiry.provider_id or "UNKNOWN",
        )
        hl += 1
        subscriber_hl = hl
        has_dependent = inquiry.dependent is not None
        out.add("HL", str(subscriber_hl), str(receiver), "22", "1" if has_dependent else "0")
        if not has_dependent:
            _person_loop(out, answer, inquiry.subscriber, "IL", subscriber=True)
        else:
            _person_name_only(out, inquiry.subscriber)
            hl += 1
            out.add("HL", str(hl), str(subscriber_hl), "23", "0")
            assert inquiry.dependent is not None
            _person_loop(out, answer, inquiry.dependent, "03", subscriber=False)


def _person_name_only(out: SegmentBuilder, person: Person) -> None:
    out.add(
        "NM1", "IL", "1", person.last_name or None, person.first_name or None, None, None, None, "MI", person.member_id
    )


def _person_loop(
    out: SegmentBuilder, answer: EligibilityAnswer, person: Person, qualifier: str, *, subscriber: bool
) -> None:
    inquiry = answer.inquiry
    if inquiry.trace_number:
        out.add("TRN", "2", inquiry.trace_number, inquiry.trace_originator or None)
    member_id = person.member_id if subscriber else None
    out.add(
        "NM1",
        qualifier,
        "1",
        person.last_name or None,
        person.first_name or None,
        None,
        None,
        None,
        "MI" if member_id else None,
        member_id,
    )
    if answer.group_number and answer.found:
        out.add("REF", "6P", answer.group_number)
    if not answer.found:
        out.add("AAA", "N", None, answer.rejection_reason, "C")
    if person.birth_date is not None:
        # a member found is described as the payer knows them; an unknown person as asked about
        gender = (answer.member_gender or "U") if answer.found else person.gender or None
        out.add("DMG", "D8", _d8(person.birth_date), gender)
    if not subscriber and answer.dependent_relationship:
        out.add("INS", "N", answer.dependent_relationship)
    if answer.found:
        if answer.plan_begin and answer.plan_end:
            out.add("DTP", "346", "D8", _d8(answer.plan_begin))
            out.add("DTP", "347", "D8", _d8(answer.plan_end))
        elif answer.plan_begin:
            out.add("DTP", "346", "D8", _d8(answer.plan_begin))
        for benefit in answer.benefits:
            network = None if benefit.in_network is None else ("Y" if benefit.in_network else "N")
            out.add_repeated(
                "EB",
                3,
                benefit.service_types,
                benefit.code,
                benefit.coverage_level,
                benefit.insurance_type,
                benefit.plan_description,
                benefit.time_period,
                benefit.amount.to_decimal_string() if benefit.amount is not None else None,
                _decimal(benefit.percent) if benefit.percent is not None else None,
                None,
                None,
                None,
                network,
            )


def write_271(
    answers: Sequence[EligibilityAnswer],
    *,
    settings: EnvelopeSettings,
    control_numbers: ControlNumbers,
    now: datetime,
    reference: str = "1",
) -> Interchange:
    """One 271 interchange answering ``answers`` (one 2000A…2000C/D chain each, one transaction set)."""
    out = SegmentBuilder(settings.delimiters)
    _eligibility_body(answers, reference, now, out)
    body = TransactionSetText("271", ELIGIBILITY_VERSION, tuple(out.segments))
    return build_interchange(settings, "HB", ELIGIBILITY_VERSION, [body], control_numbers=control_numbers, now=now)
