"""An underwriting flag may name its condition's ICD-10-CM codes (claims applies the waiting period by them)."""

from olly.enrollment.rules import Market, underwriting_problems


def test_declared_condition_codes_are_checked() -> None:
    assert underwriting_problems(Market.SUM_INSURED, "PRE_EXISTING_DISEASE", 36, None, ["E11", "i10"]) == []
    found = underwriting_problems(Market.SUM_INSURED, "PRE_EXISTING_DISEASE", 36, None, ["E11", "XYZ9"])
    assert [(e.field, e.code) for e in found] == [("diagnosis_codes.1", "invalid_code")]
    loading = underwriting_problems(Market.SUM_INSURED, "LOADING", None, 10, ["E11"])
    assert [(e.field, e.code) for e in loading] == [("diagnosis_codes", "not_allowed")]
