"""Pure provider rules: NPI, registry validation, geography, credentialing, network membership, rate rows."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from olly.kernel.errors import BusinessRuleViolation
from olly.kernel.money import Money
from olly.provider import reference
from olly.provider import rules as r

# -- NPI --------------------------------------------------------------------------------------------


def test_npi_luhn_over_80840() -> None:
    assert r.npi_is_valid("1234567893")
    assert not r.npi_is_valid("1234567890")
    # 80840123456789 → Luhn digit 3 (worked example in the CMS NPI check-digit note)
    assert r.luhn_check_digit("80840123456789") == 3
    assert r.npi_with_check_digit("123456789") == "1234567893"


@pytest.mark.parametrize("text", ["", "123456789", "12345678934", "12345678a3", " 1234567893", "1234567893 "])
def test_npi_must_be_exactly_ten_digits(text: str) -> None:
    assert not r.npi_is_valid(text)


def test_every_generated_npi_is_valid_and_a_changed_digit_is_caught() -> None:
    for payload in ("100000000", "987654321", "555555555", "000000001"):
        npi = r.npi_with_check_digit(payload)
        assert r.npi_is_valid(npi)
        wrong = npi[:-1] + str((int(npi[-1]) + 1) % 10)
        assert not r.npi_is_valid(wrong)


# -- registry validation ------------------------------------------------------------------------------
def _draft(**changes: object) -> r.ProviderDraft:
    fields: dict[str, object] = {
        "npi": "1234567893",
        "kind": r.ProviderKind.INDIVIDUAL,
        "first_name": "Jane",
        "middle_name": None,
        "last_name": "Smith",
        "credential": "MD",
        "organisation_name": None,
        "taxonomy_codes": ("207X00000X",),
        "languages": ("en", "es"),
        "accepting_new_patients": True,
        "locations": (r.LocationDraft("1 Main St", "New York", "NY", "10001"),),
        "licences": (r.LicenceDraft("NY", "123456", date(2027, 6, 30)),),
    }
    fields.update(changes)
    return r.ProviderDraft(**fields)  # type: ignore[arg-type]


def _fields(draft: r.ProviderDraft) -> list[tuple[str, str]]:
    return [(e.field, e.code) for e in r.validate_provider(draft, reference.taxonomies())]


def test_a_complete_individual_is_valid() -> None:
    assert _fields(_draft()) == []


def test_each_problem_is_named_by_field_and_code() -> None:
    draft = _draft(
        npi="1234567890",
        first_name=" ",
        taxonomy_codes=("207X00000X", "999999999X", "282N00000X", "207X00000X"),
        languages=("en", "xx"),
        locations=(r.LocationDraft("", "New York", "ZZ", "1001", latitude=91.0, longitude=0.0),),
        licences=(r.LicenceDraft("NY", "", date(2027, 1, 1), issued_on=date(2028, 1, 1)),),
    )
    assert _fields(draft) == [
        ("npi", "invalid_npi"),
        ("firstName", "required"),
        ("taxonomyCodes.1", "unknown_taxonomy"),
        ("taxonomyCodes.2", "wrong_section"),  # 282N00000X is a general acute care hospital
        ("taxonomyCodes.3", "duplicate"),
        ("languages.1", "unknown_language"),
        ("locations.0.addressLine1", "required"),
        ("locations.0.state", "invalid_state"),
        ("locations.0.zip", "invalid_zip"),
        ("locations.0.latitude", "invalid_coordinates"),
        ("licences.0.number", "required"),
        ("licences.0.expiresOn", "invalid_period"),
    ]


def test_an_organisation_needs_a_name_and_no_person_fields() -> None:
    draft = _draft(kind=r.ProviderKind.ORGANISATION, taxonomy_codes=("282N00000X",), organisation_npi="1234567893")
    assert _fields(draft) == [
        ("organisationName", "required"),
        ("lastName", "not_allowed"),
        ("organisationNpi", "not_allowed"),
    ]
    ok = _draft(
        kind=r.ProviderKind.ORGANISATION,
        first_name=None,
        last_name=None,
        credential=None,
        organisation_name="Mercy General Hospital",
        taxonomy_codes=("282N00000X",),
    )
    assert _fields(ok) == []


def test_error_messages_never_echo_the_value() -> None:
    draft = _draft(npi="9999999990", last_name="X" * 90)
    for error in r.validate_provider(draft, reference.taxonomies()):
        assert "9999999990" not in error.message
        assert "XXX" not in error.message


def test_names_and_specialty() -> None:
    assert r.display_name(
        r.ProviderKind.INDIVIDUAL, first_name="Jane", middle_name="Q", last_name="Smith", credential="MD"
    ) == ("Jane Q Smith MD")
    assert (
        r.sort_name(r.ProviderKind.INDIVIDUAL, first_name="Jane", last_name="Smith", organisation_name=None)
        == "smith jane"
    )
    taxonomies = reference.taxonomies()
    assert taxonomies["207X00000X"].specialty == "Orthopaedic Surgery"  # classification only
    assert taxonomies["207RC0000X"].specialty == "Cardiovascular Disease"  # specialization
    assert len(taxonomies) == 883


def test_languages() -> None:
    assert r.language_is_known("es")
    assert r.language_is_known("ase")
    assert not r.language_is_known("EN")
    assert not r.language_is_known("xx")
    assert not r.language_is_known("eng")
    assert r.LANGUAGE_NAMES["vi"] == "Vietnamese"


# -- geography ------------------------------------------------------------------------------------------
def test_haversine_distance() -> None:
    assert r.distance_miles(40.0, -74.0, 40.0, -74.0) == 0.0
    # one degree of latitude along a meridian: 2π × 3958.8 / 360 = 69.09 miles
    assert r.distance_miles(40.0, -74.0, 41.0, -74.0) == pytest.approx(69.0940, abs=1e-3)
    # one degree of longitude on the equator is the same arc
    assert r.distance_miles(0.0, 10.0, 0.0, 11.0) == pytest.approx(69.0940, abs=1e-3)
    # Manhattan (10001) to downtown Boston (02108): 187.76 miles by the spherical law of cosines,
    # acos(sin φ1 sin φ2 + cos φ1 cos φ2 cos Δλ) × 3958.8, an independent formula
    assert r.distance_miles(40.7506, -73.9972, 42.3576, -71.0684) == pytest.approx(187.76, abs=0.01)


@pytest.mark.parametrize("latitude", [0.0, 25.77, 47.6, 70.0])
def test_the_bounding_box_contains_the_whole_circle(latitude: float) -> None:
    radius = 25.0
    box = r.bounding_box(latitude, -100.0, radius)
    for bearing_lat, bearing_lon in ((1, 0), (-1, 0), (0, 1), (0, -1)):
        # walk outwards until just inside the radius; that point must be inside the box
        step = 0.0005
        lat, lon = latitude, -100.0
        while r.distance_miles(latitude, -100.0, lat + bearing_lat * step, lon + bearing_lon * step) < radius:
            lat, lon = lat + bearing_lat * step, lon + bearing_lon * step
        assert box.min_latitude <= lat <= box.max_latitude
        assert box.min_longitude <= lon <= box.max_longitude


# -- credentialing ----------------------------------------------------------------------------------------
def test_request_transitions() -> None:
    S = r.RequestState
    assert r.can_transition(S.APPLICATION, S.VERIFICATION)
    assert r.can_transition(S.COMMITTEE_REVIEW, S.APPROVED)
    assert r.can_transition(S.APPROVED, S.SUSPENDED)
    assert not r.can_transition(S.APPLICATION, S.APPROVED)
    assert not r.can_transition(S.DENIED, S.APPROVED)
    with pytest.raises(BusinessRuleViolation) as refused:
        r.require_transition(S.EXPIRED, S.APPROVED)
    assert refused.value.extra["reason"] == "invalid_transition"


def test_checklist_due_dates_and_organisation_items() -> None:
    submitted = date(2026, 1, 15)
    individual = {e.item: (e.status, e.due_on) for e in r.checklist_for(submitted, r.ProviderKind.INDIVIDUAL)}
    assert individual == {
        r.VerificationItem.LICENCE: (r.VerificationStatus.PENDING, date(2026, 1, 29)),
        r.VerificationItem.DEA: (r.VerificationStatus.PENDING, date(2026, 1, 29)),
        r.VerificationItem.BOARD_CERTIFICATION: (r.VerificationStatus.PENDING, date(2026, 2, 14)),
        r.VerificationItem.EDUCATION: (r.VerificationStatus.PENDING, date(2026, 3, 1)),
        r.VerificationItem.MALPRACTICE_HISTORY: (r.VerificationStatus.PENDING, date(2026, 2, 14)),
        r.VerificationItem.EXCLUSION_CHECK: (r.VerificationStatus.PENDING, date(2026, 1, 22)),
    }
    organisation = {e.item: e.status for e in r.checklist_for(submitted, r.ProviderKind.ORGANISATION)}
    assert organisation[r.VerificationItem.DEA] is r.VerificationStatus.NOT_APPLICABLE
    assert organisation[r.VerificationItem.LICENCE] is r.VerificationStatus.PENDING
    entries = r.checklist_for(submitted, r.ProviderKind.INDIVIDUAL)
    assert r.overdue_items(entries, date(2026, 1, 23)) == [r.VerificationItem.EXCLUSION_CHECK]


def test_submission_needs_the_required_documents() -> None:
    with pytest.raises(BusinessRuleViolation) as refused:
        r.check_submission(r.RequestState.APPLICATION, [r.DocumentKind.APPLICATION_FORM])
    assert refused.value.extra["missing"] == ["ATTESTATION"]
    r.check_submission(r.RequestState.APPLICATION, [r.DocumentKind.APPLICATION_FORM, r.DocumentKind.ATTESTATION])
    with pytest.raises(BusinessRuleViolation):
        r.check_submission(r.RequestState.VERIFICATION, [r.DocumentKind.APPLICATION_FORM, r.DocumentKind.ATTESTATION])


def test_documents_are_accepted_while_the_application_is_open() -> None:
    for state in (r.RequestState.APPLICATION, r.RequestState.VERIFICATION):
        r.check_documents_accepted(state)
    for state in set(r.RequestState) - {r.RequestState.APPLICATION, r.RequestState.VERIFICATION}:
        with pytest.raises(BusinessRuleViolation) as refused:
            r.check_documents_accepted(state)
        assert refused.value.extra == {"reason": "request_closed", "state": state.value}


def test_an_uploaded_file_must_be_a_pdf_jpeg_or_png_within_the_limit() -> None:
    limit = r.MAX_DOCUMENT_BYTES
    assert limit == 20_971_520  # 20 MiB
    assert r.document_file_errors(1, "application/pdf") == []
    assert r.document_file_errors(limit, "image/png") == []
    assert [(e.field, e.message, e.code) for e in r.document_file_errors(limit + 1, "image/png")] == [
        ("file", "is larger than 20971520 bytes", "too_large")
    ]
    assert [(e.field, e.code) for e in r.document_file_errors(0, None)] == [("file", "empty")]
    assert [(e.field, e.message, e.code) for e in r.document_file_errors(10, None)] == [
        ("file", "is not a PDF, JPEG or PNG file", "unsupported_type")
    ]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("attestation.pdf", "attestation.pdf"),
        ("C:\\fakepath\\cv 2026.pdf", "cv 2026.pdf"),
        ("/home/jane/../licence.pdf", "licence.pdf"),
        ("bad\r\nname\x00.pdf", "badname.pdf"),
        ("  spaced.pdf  ", "spaced.pdf"),
        ("Zertifikat für Ärztin.png", "Zertifikat für Ärztin.png"),
        (None, "attestation.pdf"),
        ("", "attestation.pdf"),
        ("..", "attestation.pdf"),
        ("folder/", "attestation.pdf"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
        ("b" * 300, "b" * 255),
    ],
)
def test_an_uploaded_files_name_is_its_last_path_component(raw: str | None, expected: str) -> None:
    assert r.upload_file_name(raw, r.DocumentKind.ATTESTATION, ".pdf") == expected


def test_verification_results_need_evidence_and_mandatory_items_apply() -> None:
    V, S = r.VerificationItem, r.VerificationStatus
    r.check_verification_update(r.RequestState.VERIFICATION, V.DEA, S.NOT_APPLICABLE, None)
    for item, status, evidence, reason in (
        (V.LICENCE, S.VERIFIED, " ", "evidence_required"),
        (V.LICENCE, S.NOT_APPLICABLE, None, "mandatory_item"),
        (V.DEA, S.PENDING, "x", "pending_result"),
    ):
        with pytest.raises(BusinessRuleViolation) as refused:
            r.check_verification_update(r.RequestState.VERIFICATION, item, status, evidence)
        assert refused.value.extra["reason"] == reason
    with pytest.raises(BusinessRuleViolation):
        r.check_verification_update(r.RequestState.APPLICATION, V.DEA, S.VERIFIED, "x")


def _checklist(**overrides: r.VerificationStatus) -> dict[r.VerificationItem, r.VerificationStatus]:
    result = dict.fromkeys(r.VerificationItem, r.VerificationStatus.VERIFIED)
    result.update({r.VerificationItem(k): v for k, v in overrides.items()})
    return result


def test_committee_decision_rules() -> None:
    S = r.RequestState.COMMITTEE_REVIEW
    assert r.check_decision(S, r.CommitteeDecision.APPROVE, _checklist(), None) is r.RequestState.APPROVED
    # a failed malpractice history is for the committee to weigh; a failed licence is not
    failed_history = _checklist(MALPRACTICE_HISTORY=r.VerificationStatus.FAILED)
    assert r.check_decision(S, r.CommitteeDecision.APPROVE, failed_history, None) is r.RequestState.APPROVED
    cases = (
        (_checklist(LICENCE=r.VerificationStatus.FAILED), {}, "mandatory_item_not_verified"),
        (_checklist(EXCLUSION_CHECK=r.VerificationStatus.FAILED), {}, "mandatory_item_not_verified"),
        (_checklist(), {"has_active_sanction": True}, "active_sanction"),
        (_checklist(), {"licences_lapsed": True}, "licence_lapsed"),
    )
    for checklist, facts, reason in cases:
        with pytest.raises(BusinessRuleViolation) as refused:
            r.check_decision(S, r.CommitteeDecision.APPROVE, checklist, None, **facts)  # type: ignore[arg-type]
        assert refused.value.extra["reason"] == reason
    with pytest.raises(BusinessRuleViolation) as refused:
        r.check_decision(S, r.CommitteeDecision.DENY, _checklist(), "  ")
    assert refused.value.extra["reason"] == "reason_required"
    assert r.check_decision(S, r.CommitteeDecision.DENY, _checklist(), "incomplete history") is r.RequestState.DENIED
    with pytest.raises(BusinessRuleViolation):
        r.check_decision(r.RequestState.VERIFICATION, r.CommitteeDecision.APPROVE, _checklist(), None)


def test_approval_plan_recredentialing_in_36_months_with_reminders() -> None:
    plan = r.plan_approval(date(2026, 1, 28))
    assert plan.recredentialing_due_on == date(2029, 1, 28)
    assert [(t.kind, t.due_at, t.days_before) for t in plan.timers] == [
        (r.TimerKind.RECREDENTIALING_REMINDER, datetime(2028, 9, 30, tzinfo=UTC), 120),
        (r.TimerKind.RECREDENTIALING_REMINDER, datetime(2028, 10, 30, tzinfo=UTC), 90),
        (r.TimerKind.RECREDENTIALING_REMINDER, datetime(2028, 12, 29, tzinfo=UTC), 30),
        (r.TimerKind.RECREDENTIALING_DUE, datetime(2029, 1, 28, tzinfo=UTC), None),
    ]
    # 29 February approvals fall due on 28 February three years later
    assert r.plan_approval(date(2028, 2, 29)).recredentialing_due_on == date(2031, 2, 28)


def test_licence_lapse_in_practice_states() -> None:
    today = date(2026, 7, 1)
    ny_current = r.LicenceFacts("NY", date(2026, 7, 1))
    ny_lapsed = r.LicenceFacts("NY", date(2026, 6, 30))
    nj_lapsed = r.LicenceFacts("NJ", date(2026, 6, 30))
    assert r.licence_lapse_at(date(2026, 6, 30)) == datetime(2026, 7, 1, tzinfo=UTC)
    assert not r.practising_licences_lapsed([ny_current], frozenset({"NY"}), today)
    assert r.practising_licences_lapsed([ny_lapsed], frozenset({"NY"}), today)
    # a lapsed licence in a state without a location does not matter
    assert not r.practising_licences_lapsed([ny_current, nj_lapsed], frozenset({"NY"}), today)
    # a renewal recorded beside the old licence covers the state
    assert not r.practising_licences_lapsed([ny_lapsed, ny_current], frozenset({"NY"}), today)
    # no locations: every licence must be current
    assert r.practising_licences_lapsed([ny_current, nj_lapsed], frozenset(), today)
    assert r.practising_licences_lapsed(
        [r.LicenceFacts("NY", date(2027, 1, 1), revoked=True)], frozenset({"NY"}), today
    )


def test_timer_decisions_judge_the_state_when_they_fire() -> None:
    A = r.CredentialingStatus.APPROVED
    common = {"timer_request_is_current": True, "open_recredentialing_exists": False, "licences_lapsed": False}
    reminder = r.decide_timer(r.TimerKind.RECREDENTIALING_REMINDER, provider_status=A, **common)
    assert reminder == r.TimerOutcome(send_reminder=True, open_recredentialing=True)
    again = r.decide_timer(
        r.TimerKind.RECREDENTIALING_REMINDER, provider_status=A, **{**common, "open_recredentialing_exists": True}
    )
    assert again == r.TimerOutcome(send_reminder=True, open_recredentialing=False)
    due = r.decide_timer(r.TimerKind.RECREDENTIALING_DUE, provider_status=A, **common)
    assert (due.new_status, due.reason) == (r.CredentialingStatus.EXPIRED, r.StatusChangeReason.RECREDENTIALING_OVERDUE)
    superseded = r.decide_timer(
        r.TimerKind.RECREDENTIALING_DUE, provider_status=A, **{**common, "timer_request_is_current": False}
    )
    assert superseded.new_status is None
    assert not superseded.send_reminder
    lapsed = r.decide_timer(r.TimerKind.LICENCE_EXPIRY, provider_status=A, **{**common, "licences_lapsed": True})
    assert (lapsed.new_status, lapsed.reason) == (r.CredentialingStatus.EXPIRED, r.StatusChangeReason.LICENCE_LAPSED)
    renewed = r.decide_timer(r.TimerKind.LICENCE_EXPIRY, provider_status=A, **common)
    assert renewed.new_status is None
    suspended = r.decide_timer(
        r.TimerKind.LICENCE_EXPIRY,
        provider_status=r.CredentialingStatus.SUSPENDED,
        **{**common, "licences_lapsed": True},
    )
    assert suspended.new_status is None


def test_a_sanction_suspends_only_an_approved_provider() -> None:
    assert r.sanction_outcome(r.CredentialingStatus.APPROVED) is r.CredentialingStatus.SUSPENDED
    assert r.sanction_outcome(r.CredentialingStatus.NOT_CREDENTIALED) is None
    assert r.sanction_outcome(r.CredentialingStatus.EXPIRED) is None


# -- network membership ----------------------------------------------------------------------------------
ORG = uuid.UUID("00000000-0000-7000-8000-00000000000a")
DOC = uuid.UUID("00000000-0000-7000-8000-00000000000b")
C1 = uuid.UUID("00000000-0000-7000-8000-0000000000c1")
C2 = uuid.UUID("00000000-0000-7000-8000-0000000000c2")
C3 = uuid.UUID("00000000-0000-7000-8000-0000000000c3")


def test_memberships_from_own_and_organisation_contracts() -> None:
    own = [r.ContractFacts(C1, DOC, "K-1", "PPO", "TIER_2", date(2026, 1, 1), None)]
    org_contracts = [
        r.ContractFacts(C2, ORG, "K-2", "HMO", "TIER_1", date(2025, 1, 1), date(2026, 12, 31)),
        r.ContractFacts(C3, ORG, "K-3", "EPO", "TIER_1", date(2027, 6, 1), None),
    ]
    affiliation = r.AffiliationFacts(ORG, date(2026, 3, 1), date(2027, 2, 28))
    result = r.derive_memberships(own, [(affiliation, org_contracts)])
    assert result == [
        r.Membership(C1, None, "PPO", "TIER_2", date(2026, 1, 1), None),
        # the overlap of the HMO contract (2025–2026) and the affiliation (Mar 2026–Feb 2027)
        r.Membership(C2, ORG, "HMO", "TIER_1", date(2026, 3, 1), date(2026, 12, 31)),
        # the EPO contract starts after the affiliation ends: no membership
    ]


def test_membership_diff() -> None:
    a = r.Membership(C1, None, "PPO", "TIER_2", date(2026, 1, 1), None)
    b = r.Membership(C2, ORG, "HMO", "TIER_1", date(2026, 3, 1), None)
    b_terminated = r.Membership(C2, ORG, "HMO", "TIER_1", date(2026, 3, 1), date(2026, 9, 30))
    c = r.Membership(C3, None, "EPO", "TIER_1", date(2026, 1, 1), None)
    diff = r.diff_memberships([a, b], [b_terminated, c])
    assert diff == r.MembershipDiff(added=(c,), changed=(b_terminated,), removed=(a,))
    assert r.diff_memberships([a], [a]).is_empty


def test_network_status_needs_a_contract_on_the_date_and_approval() -> None:
    own = r.Membership(C1, None, "PPO", "TIER_2", date(2026, 1, 1), date(2026, 12, 31))
    via_org = r.Membership(C2, ORG, "PPO", "TIER_1", date(2026, 1, 1), None)
    hmo = r.Membership(C3, None, "HMO", "TIER_1", date(2026, 1, 1), None)
    A = r.CredentialingStatus.APPROVED
    best = r.decide_network_status([own, via_org, hmo], A, date(2026, 6, 1), "PPO")
    assert (best.status, best.membership, best.reason) == (r.NetworkStatus.IN_NETWORK, own, "contract_in_effect")
    after_own_ends = r.decide_network_status([own, via_org], A, date(2027, 1, 1), "PPO")
    assert after_own_ends.membership == via_org
    other_network = r.decide_network_status([own], A, date(2026, 6, 1), "EPO")
    assert (other_network.status, other_network.reason) == (r.NetworkStatus.OUT_OF_NETWORK, "no_contract_in_effect")
    suspended = r.decide_network_status([own], r.CredentialingStatus.SUSPENDED, date(2026, 6, 1))
    assert (suspended.status, suspended.reason) == (r.NetworkStatus.OUT_OF_NETWORK, "credentialing_suspended")
    assert r.decide_network_status([own], A, date(2025, 12, 31)).status is r.NetworkStatus.OUT_OF_NETWORK


def test_the_contract_deciding_each_day() -> None:
    """Own PPO contract in 2026, renewed from 2027 (signed ahead); an organisation's better-tier HMO
    contract from March to June 2026 loses to the own one (own first); a gap in February 2028."""
    own = r.Membership(C1, None, "PPO", "TIER_2", date(2026, 1, 1), date(2026, 12, 31))
    renewal = r.Membership(C3, None, "PPO", "TIER_2", date(2027, 1, 1), date(2028, 1, 31))
    via_org = r.Membership(C2, ORG, "HMO", "TIER_1", date(2026, 3, 1), date(2028, 6, 30))
    assert r.contract_periods([own, renewal, via_org]) == [
        (own, date(2026, 1, 1), date(2026, 12, 31)),
        (renewal, date(2027, 1, 1), date(2028, 1, 31)),
        (via_org, date(2028, 2, 1), date(2028, 6, 30)),  # the organisation's when no own one covers
    ]
    later = r.Membership(C1, None, "PPO", "TIER_2", date(2028, 3, 1), None)
    assert r.contract_periods([own, later]) == [
        (own, date(2026, 1, 1), date(2026, 12, 31)),
        (later, date(2028, 3, 1), None),  # the days between are no contract's
    ]
    assert r.contract_periods([]) == []


def test_contract_periods() -> None:
    with pytest.raises(BusinessRuleViolation):
        r.check_contract_period(date(2026, 2, 1), date(2026, 1, 31))
    assert r.check_termination(date(2026, 1, 1), None, date(2026, 6, 30)) == date(2026, 6, 30)
    assert r.check_termination(date(2026, 1, 1), None, date(2025, 12, 31)) == date(2025, 12, 31)  # voided
    for start, current, last in (
        (date(2026, 1, 1), None, date(2025, 12, 30)),
        (date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1)),
    ):
        with pytest.raises(BusinessRuleViolation):
            r.check_termination(start, current, last)


# -- fee schedule rows ------------------------------------------------------------------------------------
def test_rate_rows_per_kind() -> None:
    K = r.FeeScheduleKind
    assert r.parse_rate_row(K.AMOUNT, {"code": "99213", "modifier": "", "amount": "92.47"}, "USD") == (
        r.Rate("99213", "", amount=Money(9247, "USD")),
        [],
    )
    assert r.parse_rate_row(K.RELATIVE_VALUE, {"code": "99213", "relative_value": "2.6"}, "USD") == (
        r.Rate("99213", "", relative_value=Decimal("2.6")),
        [],
    )
    assert r.parse_rate_row(K.PERCENT_OF_BILLED, {"code": "*", "percent": "65"}, "USD") == (
        r.Rate("*", "", percent=Decimal("65")),
        [],
    )
    assert r.parse_rate_row(K.PER_DIEM, {"code": "0120", "per_diem": "1850.00"}, "USD") == (
        r.Rate("0120", "", amount=Money(185000, "USD")),
        [],
    )


def test_rate_row_errors_name_each_column() -> None:
    K = r.FeeScheduleKind

    def codes(kind: r.FeeScheduleKind, row: dict[str, str]) -> list[tuple[str, str]]:
        rate, errors = r.parse_rate_row(kind, row, "USD")
        assert rate is None
        return [(e.field, e.code) for e in errors]

    assert codes(K.AMOUNT, {"code": "9921", "modifier": "2", "amount": "92.471"}) == [
        ("code", "invalid_code"),
        ("modifier", "invalid_modifier"),
        ("amount", "invalid_amount"),
    ]
    assert codes(K.AMOUNT, {"code": "*", "amount": "1.00"}) == [("code", "invalid_code")]
    assert codes(K.AMOUNT, {"code": "99213", "amount": "-1.00"}) == [("amount", "invalid_amount")]
    assert codes(K.PER_DIEM, {"code": "99213", "modifier": "26", "per_diem": "x"}) == [
        ("code", "invalid_code"),
        ("modifier", "not_allowed"),
        ("per_diem", "invalid_amount"),
    ]
    assert codes(K.PERCENT_OF_BILLED, {"code": "*", "modifier": "26", "percent": "1000.5"}) == [
        ("modifier", "not_allowed"),
        ("percent", "invalid_percent"),
    ]
    assert codes(K.RELATIVE_VALUE, {"code": "J1100", "relative_value": "0.12345"}) == [
        ("relative_value", "invalid_number")
    ]


def test_schedule_header_rules() -> None:
    K = r.FeeScheduleKind

    def fields(*args: object) -> list[tuple[str, str]]:
        return [(e.field, e.code) for e in r.check_schedule_header(*args)]  # type: ignore[arg-type]

    assert fields(K.PERCENT_OF_BASE, Decimal("120"), Decimal("33.2875"), K.RELATIVE_VALUE, "USD", "USD") == []
    assert fields(K.PERCENT_OF_BASE, None, None, K.AMOUNT, "USD", "USD") == [
        ("baseSchedule", "invalid_base"),
        ("conversionFactor", "required"),
        ("percent", "required"),
    ]
    assert fields(K.PERCENT_OF_BASE, Decimal("100"), Decimal("30"), K.RELATIVE_VALUE, "USD", "INR") == [
        ("baseSchedule", "currency_mismatch")
    ]
    assert fields(K.AMOUNT, Decimal("10"), Decimal("1"), K.RELATIVE_VALUE, "USD", "USD") == [
        ("percent", "not_allowed"),
        ("conversionFactor", "not_allowed"),
        ("baseSchedule", "not_allowed"),
    ]
    assert fields(K.PERCENT_OF_BILLED, None, None, None, "USD", None) == [("percent", "required")]


# -- directory facets and geometry --------------------------------------------------------------------
def test_flat_distance_agrees_with_the_great_circle_within_the_search_limit() -> None:
    assert r.flat_distance_miles(40.0, -74.0, 40.0, -74.0) == 0.0
    assert pytest.approx(69.0940, abs=1e-4) == r.MILES_PER_DEGREE
    for lat2, lon2 in ((40.36, -74.0), (40.0, -73.53), (41.2, -75.6), (41.8, -72.0), (38.5, -75.5)):
        great_circle = r.distance_miles(40.0, -74.0, lat2, lon2)
        assert great_circle < 200
        assert r.flat_distance_miles(40.0, -74.0, lat2, lon2) == pytest.approx(great_circle, rel=1e-3)


def test_search_rings_grow_to_the_radius() -> None:
    assert r.search_rings(25.0) == [1.0, 3.0, 9.0, 25.0]
    assert r.search_rings(2.0) == [1.0, 2.0]
    assert r.search_rings(0.5) == [0.5]
    assert r.search_rings(200.0) == [1.0, 3.0, 9.0, 27.0, 81.0, 200.0]


def test_geo_cells_cover_the_box_at_the_finest_level_that_fits() -> None:
    # 10001's centre point: level-0 cells are 0.05 degrees
    assert r.geo_cell_tokens_of(40.7506, -73.9972) == ["geo0y2615x2120", "geo1y653x530", "geo2y130x106"]
    one_mile = r.geo_cells_covering(r.bounding_box(40.7506, -73.9972, 1.0))
    assert one_mile == ["geo0y2614x2119", "geo0y2614x2120", "geo0y2615x2119", "geo0y2615x2120"]
    assert "geo0y2615x2120" in one_mile
    wide = r.geo_cells_covering(r.bounding_box(40.7506, -73.9972, 25.0))
    assert all(token.startswith("geo1") for token in wide)
    assert len(wide) <= r.MAX_CELLS_PER_QUERY
    assert "geo1y653x530" in wide
    continent = r.geo_cells_covering(r.bounding_box(40.0, -100.0, 200.0))
    assert all(token.startswith("geo2") for token in continent)


def test_facet_tokens_end_with_a_digit_so_no_stemmer_changes_them() -> None:
    tenant = uuid.UUID("00000000-0000-7000-8000-000000000001")
    facets = r.directory_facets(tenant, "INDIVIDUAL", ["es", "en"], True, 40.7506, -73.9972)
    assert facets == (
        "tnt000000000000700080000000000000010 kindind1 acceptnew1 langen0 langes0 "
        "geo0y2615x2120 geo1y653x530 geo2y130x106"
    )
    assert all(token[-1].isdigit() for token in facets.split())
    assert r.directory_facets(tenant, "ORGANISATION", [], False, None, None).split()[1:] == ["kindorg1", "acceptnew0"]
