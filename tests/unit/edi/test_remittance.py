from __future__ import annotations

import dataclasses

import pytest

from olly.edi.remittance import Adjustment, ProviderAdjustment, balance_errors, write_835, write_payment_run
from olly.edi.testing import sample_remittance
from olly.edi.writer import EnvelopeSettings, InMemoryControlNumbers, Party
from olly.kernel.errors import CurrencyMismatch, ValidationFailed
from olly.kernel.money import Money
from tests.unit.edi.conftest import NOW
from tests.unit.edi.pyx12_judge import judge


def usd(text: str) -> Money:
    return Money.parse(text, "USD")


def body(text: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("ST*"))
    end = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    return lines[start : end + 1]


def test_835_for_a_cheque_is_exact_and_validates_with_pyx12(olly_to_partner: EnvelopeSettings) -> None:
    interchange = write_835(
        sample_remittance(), settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW
    )
    assert judge(interchange.text) == []
    assert body(interchange.text) == [
        "ST*835*0001~",
        "BPR*I*52.80*C*CHK************20260120~",
        "TRN*1*CHK0001*1123456789~",
        "DTM*405*20260119~",
        "N1*PR*OLLY HEALTH~",
        "N3*1 PAYER WAY~",
        "N4*HARRISBURG*PA*17101~",
        "PER*BL*TECHNICAL SUPPORT*TE*8005550100~",
        "N1*PE*GOOD CLINIC*XX*1234567893~",
        "N3*10 CLINIC RD~",
        "N4*ANYTOWN*PA*171110000~",
        "REF*TJ*987654321~",
        "LX*1~",
        "CLP*C000000000*1*111.00*52.80*23.20*12*OLLY-1~",
        "NM1*QC*1*DOE*JANE****MI*M000000000~",
        "SVC*HC:99214:25*50.00*24.00**1~",
        "DTM*472*20260102~",
        "CAS*CO*45*10.00~",
        "CAS*PR*3*10.00**2*6.00~",
        "REF*6R*1~",
        "AMT*B6*40.00~",
        "SVC*HC:85025*61.00*28.80**1~",
        "DTM*472*20260103~",
        "CAS*CO*45*25.00~",
        "CAS*PR*2*7.20~",
        "AMT*B6*36.00~",
        "LQ*HE*N130~",
        "CLP*C000000001*4*111.74*0.00**12*OLLY-2~",
        "CAS*CO*197*111.74~",
        "NM1*QC*1*ROE*RICHARD****MI*M000000001~",
        "SE*31*0001~",
    ]


def test_835_with_ach_and_provider_level_adjustment_validates_with_pyx12(olly_to_partner: EnvelopeSettings) -> None:
    remittance = dataclasses.replace(
        sample_remittance(method="ACH"),
        provider_adjustments=(
            ProviderAdjustment("WO", "OVERPAY-9", usd("12.80")),
            ProviderAdjustment("L6", "INTEREST", usd("-0.45")),
        ),
    )
    assert remittance.total_paid == usd("40.45")
    interchange = write_835(remittance, settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW)
    assert judge(interchange.text) == []
    lines = body(interchange.text)
    assert lines[1] == "BPR*I*40.45*C*ACH*CCP*01*011000015*DA*12345678*1123456789**01*021000021*DA*87654321*20260120~"
    assert lines[-2] == "PLB*1234567893*20261231*WO:OVERPAY-9*12.80*L6:INTEREST*-0.45~"


def test_an_all_denied_remittance_is_a_notification_without_payment(olly_to_partner: EnvelopeSettings) -> None:
    remittance = sample_remittance()
    remittance = dataclasses.replace(remittance, claims=remittance.claims[1:])
    interchange = write_835(remittance, settings=olly_to_partner, control_numbers=InMemoryControlNumbers(), now=NOW)
    assert judge(interchange.text) == []
    assert body(interchange.text)[1] == "BPR*H*0.00*C*NON************20260120~"


def test_an_unbalanced_line_is_refused_and_nothing_is_written(olly_to_partner: EnvelopeSettings) -> None:
    remittance = sample_remittance()
    claim = remittance.claims[0]
    line = dataclasses.replace(claim.lines[0], adjustments=(Adjustment("CO", "45", usd("10.01")),))
    broken = dataclasses.replace(
        remittance, claims=(dataclasses.replace(claim, lines=(line, *claim.lines[1:])), remittance.claims[1])
    )
    numbers = InMemoryControlNumbers()
    with pytest.raises(ValidationFailed) as caught:
        write_835(broken, settings=olly_to_partner, control_numbers=numbers, now=NOW)
    assert [(e.field, e.code) for e in caught.value.errors] == [
        ("claims.0.lines.0", "unbalanced_line"),
        ("claims.0", "unbalanced_claim"),
    ]
    assert numbers.next_interchange(olly_to_partner.sender) == 1  # no control number was spent


def test_claim_level_balance_includes_claim_and_line_adjustments() -> None:
    remittance = sample_remittance()
    assert balance_errors(remittance) == []
    claim = dataclasses.replace(remittance.claims[0], paid=usd("52.81"))
    errors = balance_errors(dataclasses.replace(remittance, claims=(claim,)))
    assert [(e.field, e.code) for e in errors] == [("claims.0", "unbalanced_claim")]


def test_payment_run_writes_one_835_per_payee() -> None:
    first = sample_remittance("1234567893")
    second = sample_remittance("1245319599")
    outputs = write_payment_run(
        [first, second], sender=Party("ZZ", "OLLY"), control_numbers=InMemoryControlNumbers(), now=NOW
    )
    assert [(o.payee.npi, o.total_paid, o.interchange.interchange_control_number) for o in outputs] == [
        ("1234567893", usd("52.80"), 1),
        ("1245319599", usd("52.80"), 2),
    ]
    assert all(judge(o.interchange.text) == [] for o in outputs)
    assert "*ZZ*1245319599     *" in outputs[1].interchange.text.splitlines()[0]
    with pytest.raises(ValidationFailed) as caught:
        write_payment_run([first, first], sender=Party("ZZ", "OLLY"), control_numbers=InMemoryControlNumbers(), now=NOW)
    assert [e.code for e in caught.value.errors] == ["duplicate_payee"]


def test_a_claim_mixing_currencies_is_reported_where_its_amounts_stop_combining() -> None:
    remittance = sample_remittance()
    claim = remittance.claims[0]
    unbalanced = dataclasses.replace(claim.lines[0], adjustments=(Adjustment("CO", "45", usd("10.01")),))
    in_euros = dataclasses.replace(
        claim.lines[1], adjustments=(Adjustment("CO", "45", Money(2500, "EUR")), Adjustment("PR", "2", usd("7.20")))
    )
    charged_in_euros = dataclasses.replace(claim.lines[0], charge=Money(5000, "EUR"))
    claims = (
        dataclasses.replace(claim, lines=(unbalanced, in_euros)),
        dataclasses.replace(claim, lines=(charged_in_euros, claim.lines[1])),
        remittance.claims[1],
    )
    errors = balance_errors(dataclasses.replace(remittance, claims=claims))
    assert [(e.field, e.code, e.message) for e in errors] == [
        ("claims.0.lines.0", "unbalanced_line", "charge must equal paid plus adjustments"),
        ("claims.0", "currency_mismatch", "amounts do not combine: CurrencyMismatch"),
        ("claims.1.lines.0", "unbalanced_line", "charge must equal paid plus adjustments"),
        ("claims.1", "currency_mismatch", "amounts do not combine: CurrencyMismatch"),
    ]
    paid_in_euros = dataclasses.replace(remittance.claims[1], paid=Money(0, "EUR"))
    with pytest.raises(CurrencyMismatch):
        _ = dataclasses.replace(remittance, claims=(remittance.claims[0], paid_in_euros)).total_paid
