"""JSON forms of the engine's inputs and results, for claims' read models and stored adjudications.

Money is stored as integer minor units, percentages as decimal strings, dates as ISO strings. A
stored result loads back into a ``ClaimResult`` whose lines, adjustments and movements are exact
(the trace is kept as JSON for readers; ``reverse`` needs only amounts and movements).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Final

from olly.claims import rules as engine
from olly.claims.rules import (
    AccumulatorKey,
    AccumulatorKind,
    AccumulatorLevel,
    AccumulatorMovement,
    Adjustment,
    BenefitCategory,
    BenefitLimit,
    BenefitSchedule,
    CareSetting,
    CategoryRule,
    ChargeType,
    ClaimResult,
    ClaimStatus,
    ClaimTotals,
    Contract,
    CostShare,
    FamilyDesign,
    LimitUnit,
    LineResult,
    LineStatus,
    MissingAuthorization,
    NetworkAccumulation,
    NetworkLimits,
    NetworkScope,
    OutOfNetworkPricing,
    PendReason,
    SubLimit,
    SubLimitPer,
    SumInsuredTerms,
    TraceStep,
)
from olly.claims.rules.results import TraceValue, render_value
from olly.codesets.carc import Carc, GroupCode
from olly.codesets.rarc import Rarc
from olly.kernel.money import Money, Rounding

Json = dict[str, Any]


def _money(value: int | None, currency: str) -> Money | None:
    return None if value is None else Money(value, currency)


def _minor(value: Money | None) -> int | None:
    return None if value is None else value.amount


# -- benefit schedules -----------------------------------------------------------------------------


def _cost_share_json(share: CostShare | None) -> Json | None:
    if share is None:
        return None
    return {
        "copay": share.copay.amount,
        "coinsurance": str(share.coinsurance_percent),
        "deductibleApplies": share.deductible_applies,
    }


def _cost_share(data: Json | None, currency: str) -> CostShare | None:
    if data is None:
        return None
    return CostShare(
        copay=Money(data["copay"], currency),
        coinsurance_percent=Decimal(data["coinsurance"]),
        deductible_applies=data["deductibleApplies"],
    )


def _limits_json(limits: NetworkLimits) -> Json:
    return {
        "deductibleIndividual": _minor(limits.deductible_individual),
        "deductibleFamily": _minor(limits.deductible_family),
        "outOfPocketIndividual": _minor(limits.out_of_pocket_individual),
        "outOfPocketFamily": _minor(limits.out_of_pocket_family),
    }


def _limits(data: Json, currency: str) -> NetworkLimits:
    return NetworkLimits(
        deductible_individual=_money(data["deductibleIndividual"], currency),
        deductible_family=_money(data["deductibleFamily"], currency),
        out_of_pocket_individual=_money(data["outOfPocketIndividual"], currency),
        out_of_pocket_family=_money(data["outOfPocketFamily"], currency),
    )


def schedule_to_json(schedule: BenefitSchedule) -> Json:
    terms = schedule.sum_insured
    return {
        "planId": schedule.plan_id,
        "currency": schedule.currency,
        "defaultCategory": schedule.default_category,
        "categories": [
            {
                "code": c.code,
                "covered": c.covered,
                "preventive": c.is_preventive,
                "inNetwork": _cost_share_json(c.in_network),
                "outOfNetwork": _cost_share_json(c.out_of_network),
                "tiers": {tier: _cost_share_json(share) for tier, share in c.tier_cost_shares.items()},
                "limit": {"unit": c.limit.unit.value, "maximum": c.limit.maximum} if c.limit else None,
            }
            for c in schedule.categories.values()
        ],
        "rules": [
            {
                "category": r.category,
                "procedureCodes": sorted(r.procedure_codes),
                "procedureRanges": [list(pair) for pair in r.procedure_ranges],
                "revenueCodes": sorted(r.revenue_codes),
                "chargeTypes": sorted(t.value for t in r.charge_types),
                "placesOfService": sorted(r.places_of_service),
                "careSettings": sorted(s.value for s in r.care_settings),
                "emergency": r.emergency,
            }
            for r in schedule.category_rules
        ],
        "inNetwork": _limits_json(schedule.in_network),
        "outOfNetwork": _limits_json(schedule.out_of_network),
        "familyDesign": schedule.family_design.value,
        "networkAccumulation": schedule.network_accumulation.value,
        "planYearStart": [schedule.plan_year_start_month, schedule.plan_year_start_day],
        "priorAuthCodes": sorted(schedule.prior_auth_codes),
        "missingAuthorization": schedule.missing_authorization.value,
        "timelyFilingDays": schedule.timely_filing_days,
        "medicallyUnlikelyEdits": dict(schedule.medically_unlikely_edits),
        "highDollarThreshold": _minor(schedule.high_dollar_threshold),
        "reimbursementAutoApproveMax": _minor(schedule.reimbursement_auto_approve_max),
        "rounding": schedule.rounding.name,
        "sumInsured": None
        if terms is None
        else {
            "sumInsured": terms.sum_insured.amount,
            "floater": terms.floater,
            "copayPercent": str(terms.copay_percent),
            "seniorCopayPercent": None if terms.senior_copay_percent is None else str(terms.senior_copay_percent),
            "seniorAge": terms.senior_age,
            "initialWaitingDays": terms.initial_waiting_days,
            "preExistingWaitingMonths": terms.pre_existing_waiting_months,
            "namedIllnessWaitingMonths": terms.named_illness_waiting_months,
            "namedIllnessDiagnoses": list(terms.named_illness_diagnoses),
            "subLimits": [
                {
                    "chargeType": s.charge_type.value,
                    "per": s.per.value,
                    "percent": None if s.percent_of_sum_insured is None else str(s.percent_of_sum_insured),
                    "amount": _minor(s.amount),
                    "proportionalDeduction": s.proportional_deduction,
                }
                for s in terms.sub_limits
            ],
            "associated": sorted(t.value for t in terms.proportional_deduction_charge_types),
            "opdCovered": terms.opd_covered,
            "ipdCovered": terms.ipd_covered,
        },
    }


def schedule_from_json(data: Json) -> BenefitSchedule:
    currency = data["currency"]
    categories = {
        c["code"]: BenefitCategory(
            code=c["code"],
            covered=c["covered"],
            is_preventive=c["preventive"],
            in_network=_cost_share(c["inNetwork"], currency),
            out_of_network=_cost_share(c["outOfNetwork"], currency),
            tier_cost_shares={
                tier: share for tier, raw in c["tiers"].items() if (share := _cost_share(raw, currency)) is not None
            },
            limit=BenefitLimit(unit=LimitUnit(c["limit"]["unit"]), maximum=c["limit"]["maximum"])
            if c["limit"]
            else None,
        )
        for c in data["categories"]
    }
    rules = tuple(
        CategoryRule(
            category=r["category"],
            procedure_codes=frozenset(r["procedureCodes"]),
            procedure_ranges=tuple((low, high) for low, high in r["procedureRanges"]),
            revenue_codes=frozenset(r["revenueCodes"]),
            charge_types=frozenset(ChargeType(t) for t in r["chargeTypes"]),
            places_of_service=frozenset(r["placesOfService"]),
            care_settings=frozenset(CareSetting(s) for s in r["careSettings"]),
            emergency=r["emergency"],
        )
        for r in data["rules"]
    )
    raw_terms = data["sumInsured"]
    terms = None
    if raw_terms is not None:
        terms = SumInsuredTerms(
            sum_insured=Money(raw_terms["sumInsured"], currency),
            floater=raw_terms["floater"],
            copay_percent=Decimal(raw_terms["copayPercent"]),
            senior_copay_percent=None
            if raw_terms["seniorCopayPercent"] is None
            else Decimal(raw_terms["seniorCopayPercent"]),
            senior_age=raw_terms["seniorAge"],
            initial_waiting_days=raw_terms["initialWaitingDays"],
            pre_existing_waiting_months=raw_terms["preExistingWaitingMonths"],
            named_illness_waiting_months=raw_terms["namedIllnessWaitingMonths"],
            named_illness_diagnoses=tuple(raw_terms["namedIllnessDiagnoses"]),
            sub_limits=tuple(
                SubLimit(
                    charge_type=ChargeType(s["chargeType"]),
                    per=SubLimitPer(s["per"]),
                    percent_of_sum_insured=None if s["percent"] is None else Decimal(s["percent"]),
                    amount=_money(s["amount"], currency),
                    proportional_deduction=s["proportionalDeduction"],
                )
                for s in raw_terms["subLimits"]
            ),
            proportional_deduction_charge_types=frozenset(ChargeType(t) for t in raw_terms["associated"]),
            opd_covered=raw_terms["opdCovered"],
            ipd_covered=raw_terms["ipdCovered"],
        )
    month, day = data["planYearStart"]
    return BenefitSchedule(
        plan_id=data["planId"],
        currency=currency,
        categories=categories,
        default_category=data["defaultCategory"],
        category_rules=rules,
        in_network=_limits(data["inNetwork"], currency),
        out_of_network=_limits(data["outOfNetwork"], currency),
        family_design=FamilyDesign(data["familyDesign"]),
        network_accumulation=NetworkAccumulation(data["networkAccumulation"]),
        plan_year_start_month=month,
        plan_year_start_day=day,
        prior_auth_codes=frozenset(data["priorAuthCodes"]),
        missing_authorization=MissingAuthorization(data["missingAuthorization"]),
        timely_filing_days=data["timelyFilingDays"],
        medically_unlikely_edits=dict(data["medicallyUnlikelyEdits"]),
        high_dollar_threshold=_money(data["highDollarThreshold"], currency),
        reimbursement_auto_approve_max=_money(data.get("reimbursementAutoApproveMax"), currency),
        sum_insured=terms,
        rounding=Rounding[data["rounding"]],
    )


# -- contracts ---------------------------------------------------------------------------------------


def _fee_key(code: str, modifier: str | None) -> str:
    return f"{code}:{modifier or ''}"


def _split_key(text: str) -> tuple[str, str | None]:
    code, _, modifier = text.partition(":")
    return code, modifier or None


def contract_to_json(contract: Contract, currency: str) -> Json:
    return {
        "currency": currency,
        "fees": {_fee_key(code, mod): amount.amount for (code, mod), amount in contract.fee_schedule.items()},
        "baseUnits": {_fee_key(code, mod): str(units) for (code, mod), units in contract.base_schedule_units.items()},
        "conversionFactorMinor": None
        if contract.conversion_factor_minor is None
        else str(contract.conversion_factor_minor),
        "basePercent": str(contract.base_schedule_percent),
        "percentOfBilled": None if contract.percent_of_billed is None else str(contract.percent_of_billed),
    }


def contract_from_json(data: Json) -> Contract:
    currency = data["currency"]
    return Contract(
        fee_schedule={_split_key(key): Money(amount, currency) for key, amount in data["fees"].items()},
        base_schedule_units={_split_key(key): Decimal(units) for key, units in data["baseUnits"].items()},
        conversion_factor_minor=None
        if data["conversionFactorMinor"] is None
        else Decimal(data["conversionFactorMinor"]),
        base_schedule_percent=Decimal(data["basePercent"]),
        percent_of_billed=None if data["percentOfBilled"] is None else Decimal(data["percentOfBilled"]),
    )


def out_of_network_pricing(data: Json | None) -> OutOfNetworkPricing:
    if not data:
        return OutOfNetworkPricing()
    currency = data["currency"]
    return OutOfNetworkPricing(
        maximum_allowable={_split_key(key): Money(amount, currency) for key, amount in data["maximum"].items()},
        percent_of_billed=None if data.get("percentOfBilled") is None else Decimal(data["percentOfBilled"]),
    )


# -- results -----------------------------------------------------------------------------------------


def _key_json(key: AccumulatorKey) -> list[Any]:
    return [
        key.kind._value_,
        key.level._value_,
        key.holder_id,
        key.plan_year.isoformat(),
        key.network._value_,
        key.category,
    ]


def key_from_json(data: list[Any]) -> AccumulatorKey:
    kind, level, holder, year, network, category = data
    return AccumulatorKey(
        AccumulatorKind(kind),
        AccumulatorLevel(level),
        holder,
        date.fromisoformat(year),
        NetworkScope(network),
        category,
    )


def movements_to_json(movements: tuple[AccumulatorMovement, ...]) -> list[list[Any]]:
    return [[*_key_json(m.key), m.delta] for m in movements]


def movements_from_json(data: list[list[Any]]) -> tuple[AccumulatorMovement, ...]:
    return tuple(AccumulatorMovement(key_from_json(item[:6]), item[6]) for item in data)


def adjustment_to_json(adjustment: Adjustment) -> Json:
    group, carc, amount, rarcs = adjustment
    return {"group": group._value_, "carc": carc._value_, "amount": amount.amount, "rarcs": [r._value_ for r in rarcs]}


def adjustment_from_json(data: Json, currency: str) -> Adjustment:
    return Adjustment(
        GroupCode(data["group"]),
        Carc(data["carc"]),
        Money(data["amount"], currency),
        tuple(Rarc(r) for r in data["rarcs"]),
    )


def result_to_json(result: ClaimResult) -> Json:
    """The stored form of a result: what ``TraceStep.as_dict`` and the enums' values give, written
    out here (``_trace_to_json``) as an adjudication stores one per claim."""
    reversal = result.reversal
    return {
        "claimId": result.claim_id,
        "memberId": result.member_id,
        "status": result.status._value_,
        "currency": result.currency,
        "adjudicatedOn": result.adjudicated_on.isoformat(),
        "pendReasons": [p._value_ for p in result.pend_reasons],
        "trace": _trace_to_json(result.trace),
        "movements": movements_to_json(result.movements),
        "reversal": None
        if reversal is None
        else {
            "reversedClaimId": reversal.reversed_claim_id,
            "paid": reversal.paid.amount,
            "movements": movements_to_json(reversal.movements),
        },
        "lines": [
            {
                "lineNumber": line.line_number,
                "status": line.status._value_,
                "billed": line.billed.amount,
                "allowed": line.allowed.amount,
                "paid": line.paid.amount,
                "deductible": line.deductible.amount,
                "coinsurance": line.coinsurance.amount,
                "copay": line.copay.amount,
                "adjustments": [
                    {
                        "group": group._value_,
                        "carc": carc._value_,
                        "amount": amount.amount,
                        "rarcs": [r._value_ for r in rarcs],
                    }
                    for group, carc, amount, rarcs in line.adjustments
                ],
                "movements": movements_to_json(line.movements),
                "pendReasons": [p._value_ for p in line.pend_reasons],
                "benefitCategory": line.benefit_category,
                "benefitLevel": None if line.benefit_level is None else line.benefit_level._value_,
                "priorAuthId": line.prior_auth_id,
                "trace": _trace_to_json(line.trace),
            }
            for line in result.lines
        ],
    }


#: Trace values stored as they are (``render_value`` returns them unchanged): by exact type, so a
#: subclass (an enum member of ``str``) takes ``render_value``'s own way.
_AS_THEY_ARE: Final = frozenset({str, int, bool, type(None)})
#: ``Money.to_decimal_string`` by (amount, currency): a trace repeats the same few amounts.
_MONEY_TEXT: dict[tuple[int, str], str] = {}
_MONEY_TEXT_MAX: Final = 65_536


def _trace_value(value: TraceValue) -> str | int | bool | None:
    """``render_value``, the text of an amount remembered."""
    if type(value) is Money:
        key = (value.amount, value.currency)
        text = _MONEY_TEXT.get(key)
        if text is None:
            if len(_MONEY_TEXT) >= _MONEY_TEXT_MAX:
                _MONEY_TEXT.clear()
            text = _MONEY_TEXT[key] = value.to_decimal_string()
        return text
    if type(value) is date:
        return value.isoformat()
    if isinstance(value, str):  # an enum of ``str``: neither amount, date nor decimal
        return value
    return render_value(value)


def _trace_to_json(trace: tuple[TraceStep, ...]) -> list[Json]:
    """``[step.as_dict() for step in trace]``: each step's inputs and outputs taken as a dictionary
    at once, then the values that are not plain replaced by their rendering."""
    plain, rendered = _AS_THEY_ARE, _trace_value
    found = []
    for step, outcome, note, inputs, outputs in trace:
        given = dict(inputs)
        for name, value in inputs:
            if type(value) not in plain and given[name] is value:  # (a repeated name: the last wins)
                given[name] = rendered(value)
        made = dict(outputs)
        for name, value in outputs:
            if type(value) not in plain and made[name] is value:
                made[name] = rendered(value)
        found.append({"step": step._value_, "outcome": outcome._value_, "note": note, "inputs": given, "outputs": made})
    return found


def result_from_json(data: Json) -> ClaimResult:
    """The stored result as a ``ClaimResult`` (traces are left out: they stay readable in the JSON)."""
    currency = data["currency"]

    def money(value: int) -> Money:
        return Money(value, currency)

    lines = tuple(
        LineResult(
            line_number=line["lineNumber"],
            status=LineStatus(line["status"]),
            billed=money(line["billed"]),
            allowed=money(line["allowed"]),
            paid=money(line["paid"]),
            deductible=money(line["deductible"]),
            coinsurance=money(line["coinsurance"]),
            copay=money(line["copay"]),
            adjustments=tuple(adjustment_from_json(a, currency) for a in line["adjustments"]),
            movements=movements_from_json(line["movements"]),
            trace=(),
            pend_reasons=tuple(PendReason(p) for p in line["pendReasons"]),
            benefit_category=line["benefitCategory"],
            benefit_level=engine.BenefitLevel(line["benefitLevel"]) if line["benefitLevel"] else None,
            prior_auth_id=line["priorAuthId"],
        )
        for line in data["lines"]
    )
    return ClaimResult(
        claim_id=data["claimId"],
        member_id=data["memberId"],
        status=ClaimStatus(data["status"]),
        currency=currency,
        adjudicated_on=date.fromisoformat(data["adjudicatedOn"]),
        lines=lines,
        totals=totals_of(lines, currency),
        pend_reasons=tuple(PendReason(p) for p in data["pendReasons"]),
        movements=movements_from_json(data["movements"]),
    )


def totals_of(lines: tuple[LineResult, ...], currency: str) -> ClaimTotals:
    def total(pick: Any) -> Money:
        return Money(sum(pick(line).amount for line in lines), currency)

    return ClaimTotals(
        billed=total(lambda line: line.billed),
        allowed=total(lambda line: line.allowed),
        paid=total(lambda line: line.paid),
        deductible=total(lambda line: line.deductible),
        coinsurance=total(lambda line: line.coinsurance),
        copay=total(lambda line: line.copay),
        patient_responsibility=Money(
            sum(
                a.amount.amount
                for line in lines
                for a in line.adjustments
                if a.group is GroupCode.PATIENT_RESPONSIBILITY
            ),
            currency,
        ),
        contractual=Money(
            sum(a.amount.amount for line in lines for a in line.adjustments if a.group is GroupCode.CONTRACTUAL),
            currency,
        ),
    )


# -- the plan's out-of-network maximum allowable (kept beside the schedule) --------------------------


def out_of_network_to_json(pricing: OutOfNetworkPricing) -> Json:
    return {
        "fees": {_fee_key(code, mod): amount.amount for (code, mod), amount in pricing.maximum_allowable.items()},
        "percentOfBilled": None if pricing.percent_of_billed is None else str(pricing.percent_of_billed),
    }


def out_of_network_from_json(data: Json | None, currency: str) -> OutOfNetworkPricing:
    if not data:
        return OutOfNetworkPricing()
    percent = data.get("percentOfBilled")
    return OutOfNetworkPricing(
        maximum_allowable={_split_key(key): Money(amount, currency) for key, amount in data["fees"].items()},
        percent_of_billed=Decimal(percent) if percent is not None else None,
    )
