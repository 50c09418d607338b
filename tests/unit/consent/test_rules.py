"""Retention decisions of a deletion request."""

from __future__ import annotations

from datetime import date

from olly.consent.rules import Disposition, RecordFacts, communication_problems, decide

TODAY = date(2026, 1, 15)


def test_claims_are_kept_six_years_from_their_date_then_deleted() -> None:
    kept = decide(RecordFacts("claim", "claim", date(2020, 1, 16)), TODAY)
    assert (kept.disposition, kept.retain_until) == (Disposition.PSEUDONYMISE, date(2026, 1, 16))
    assert "ERISA" in (kept.legal_basis or "")
    ended = decide(RecordFacts("claim", "claim", date(2020, 1, 15)), TODAY)
    assert (ended.disposition, ended.reason) == (Disposition.DELETE, "its 6-year retention period ended")


def test_billing_seven_years_authorisations_six_and_the_rest_deleted() -> None:
    assert decide(RecordFacts("billing", "invoice", date(2019, 2, 1)), TODAY).retain_until == date(2026, 2, 1)
    app = decide(RecordFacts("consent", "app_sharing_consent", date(2025, 5, 1)), TODAY)
    assert (app.disposition, app.retain_until) == (Disposition.PSEUDONYMISE, date(2031, 5, 1))
    prefs = decide(RecordFacts("contact", "communication_consent", date(2025, 5, 1)), TODAY)
    assert (prefs.disposition, prefs.legal_basis, prefs.retain_until) == (Disposition.DELETE, None, None)
    assert decide(RecordFacts("account", "account", date(2025, 5, 1)), TODAY).disposition is Disposition.DELETE


def test_unknown_channels_and_topics_are_named() -> None:
    assert communication_problems({"email": True, "fax": True}, {"claims": True, "gossip": False}) == [
        "channels.fax",
        "topics.gossip",
    ]
