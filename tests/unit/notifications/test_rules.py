"""What each event becomes in the inbox, word for word."""

from __future__ import annotations

import uuid

from olly.notifications import rules

CLAIM = str(uuid.UUID(int=7))


def test_an_approved_claim_says_what_the_plan_paid_and_what_the_member_owes() -> None:
    notice = rules.claim_notice(
        {"eventType": "CLAIM_APPROVED", "claimId": CLAIM, "paidAmount": "75.00", "memberResponsibility": "25.00"}
    )
    assert notice == rules.Notice("CLAIM_APPROVED", {"paid": "75.00 USD", "owed": "25.00 USD"}, f"/claims/{CLAIM}")
    assert rules.message_of(notice.kind, notice.parameters) == rules.Message(
        "Your explanation of benefits is ready",
        "A claim was processed: the plan pays 75.00 USD and your share is 25.00 USD.",
    )


def test_a_denied_claim_gives_the_appeal_deadline() -> None:
    notice = rules.claim_notice({"eventType": "CLAIM_DENIED", "claimId": CLAIM, "appealDeadline": "2026-07-09"})
    assert notice is not None
    assert (
        rules.message_of(notice.kind, notice.parameters).body == "A claim was denied. You may appeal until 2026-07-09."
    )


def test_only_a_payment_to_the_member_is_news_to_them() -> None:
    to_provider = {"payee": "PROVIDER", "claimId": CLAIM, "paidAmount": "75.00", "currency": "USD"}
    assert rules.claim_paid_notice(to_provider) is None
    notice = rules.claim_paid_notice({**to_provider, "payee": "MEMBER", "currency": "INR"})
    assert notice == rules.Notice("REIMBURSEMENT_PAID", {"amount": "75.00 INR"}, f"/claims/{CLAIM}")


def test_a_grace_period_notice_turns_premium_cents_into_a_decimal_amount() -> None:
    notice = rules.missed_payment_notice(
        {
            "eventType": "GRACE_PERIOD_STARTED",
            "premiumCents": 48507,
            "currency": "USD",
            "gracePeriodEndDate": "2026-04-30",
        }
    )
    assert notice == rules.Notice(
        "GRACE_PERIOD_STARTED", {"premium": "485.07 USD", "grace_end": "2026-04-30"}, "/invoices"
    )
    assert rules.message_of(notice.kind, notice.parameters).body == (
        "A premium of 485.07 USD is overdue. Pay it by 2026-04-30 to keep your coverage."
    )
    assert rules.missed_payment_notice({"eventType": "SOMETHING_ELSE"}) is None


def test_an_invoice_and_a_payment() -> None:
    invoice = rules.invoice_notice({"totalAmount": "412.30", "currency": "USD", "dueDate": "2026-02-01"})
    assert rules.message_of(invoice.kind, invoice.parameters).body == "An invoice of 412.30 USD is due on 2026-02-01."
    payment = rules.payment_notice({"amount": "412.30", "currency": "USD"})
    assert (
        rules.message_of(payment.kind, payment.parameters).body == "We received your payment of 412.30 USD. Thank you."
    )


def test_a_template_missing_a_parameter_or_unknown_says_less_but_never_fails() -> None:
    assert rules.message_of("PRIOR_AUTH_APPROVED", {}) == rules.Message(
        "A prior authorisation was approved", "Open your account for the details."
    )
    assert rules.message_of("NO_SUCH_KIND", {"x": "1"}) == rules.UNKNOWN


def test_cobra_notice_and_election() -> None:
    case_id = uuid.UUID("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    notice = rules.cobra_notice(
        {
            "cobraCaseId": str(case_id),
            "qualifyingEventDate": "2026-03-20",
            "electionDeadline": "2026-05-31",
            "memberId": str(uuid.uuid4()),
        }
    )
    # the message links the printed notice: that is how the notice reaches the beneficiary
    assert (notice.kind, notice.link) == (
        "COBRA_ELECTION_NOTICE",
        "/api/v1/cobra-cases/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b/notice.pdf",
    )
    assert notice.parameters == {"event_date": "2026-03-20", "deadline": "2026-05-31"}
    assert rules.message_of(notice.kind, notice.parameters) == rules.Message(
        "You may continue your coverage (COBRA)",
        "After the qualifying event of 2026-03-20 you may keep your group coverage: elect continuation coverage "
        "by 2026-05-31 and it continues with no gap. Your election notice (PDF) gives the dates, the premium and "
        "how to elect.",
    )
    elected = rules.cobra_elected_notice(
        {
            "coverageStartDate": "2026-04-01",
            "coverageEndDate": "2027-09-30",
            "monthlyPremium": "612.00",
            "currency": "USD",
            "firstPremiumDueDate": "2026-06-30",
        }
    )
    assert rules.message_of(elected.kind, elected.parameters).body == (
        "COBRA continuation covers you from 2026-04-01 to 2027-09-30 at 612.00 USD a month; the first premium is "
        "due by 2026-06-30."
    )


def test_cobra_extension_and_early_end() -> None:
    extended = rules.cobra_extended_notice(
        {"extension": "DISABILITY", "previousCoverageEndDate": "2027-09-30", "coverageEndDate": "2028-08-31"}
    )
    assert extended is not None
    assert (extended.kind, extended.link) == ("COBRA_EXTENDED_DISABILITY", "/coverage")
    assert rules.message_of(extended.kind, extended.parameters) == rules.Message(
        "Your continuation coverage was extended",
        "After a Social Security disability determination, COBRA continuation may cover you until 2028-08-31 "
        "(instead of 2027-09-30).",
    )
    second = rules.cobra_extended_notice(
        {"extension": "SECOND_EVENT", "previousCoverageEndDate": "2027-09-30", "coverageEndDate": "2029-03-31"}
    )
    assert second is not None
    assert rules.message_of(second.kind, second.parameters).body == (
        "After a second qualifying event, COBRA continuation may cover you until 2029-03-31 (instead of 2027-09-30)."
    )
    assert rules.cobra_extended_notice({"extension": "SOMETHING_NEW"}) is None
    ended = rules.cobra_ended_notice({"reason": "OTHER_GROUP_COVERAGE", "coverageEndDate": "2026-08-31"})
    assert ended is not None
    assert (ended.kind, ended.parameters, ended.link) == (
        "COBRA_ENDED_OTHER_GROUP_COVERAGE",
        {"end": "2026-08-31"},
        "/coverage",
    )
    assert rules.message_of(ended.kind, ended.parameters) == rules.Message(
        "Your continuation coverage ends",
        "You are covered by another group health plan, so COBRA continuation ends early: it covers you until "
        "2026-08-31.",
    )
    medicare = rules.cobra_ended_notice({"reason": "MEDICARE_ENTITLEMENT", "coverageEndDate": "2026-09-30"})
    assert medicare is not None
    assert rules.message_of(medicare.kind, medicare.parameters).body == (
        "You are entitled to Medicare, so COBRA continuation ends early: it covers you until 2026-09-30."
    )
    # nobody is told of their own death
    assert rules.cobra_ended_notice({"reason": "DEATH", "coverageEndDate": "2026-06-30"}) is None
