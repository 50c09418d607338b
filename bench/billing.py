"""Billing: a monthly billing run over N active policies, and ledger postings per second.

Policies are written straight into enrollment's tables (Core bulk inserts; no events) so the setup
is quick: 80% sit in employer groups of 100 employees (one list bill per group), 20% are
individual-market households (one invoice each). The run is timed end to end in one unit of work:
enrollment's billable terms, proration, invoices and lines, ledger postings and the outbox rows of
``billing.invoice.generated``. A second run of the same month shows the idempotent rerun's cost.

BENCH_BILLING_POLICIES (default 100000) and BENCH_BILLING_POSTINGS (default 20000) size it;
BENCH_BILLING_ENGINES (default "sqlite,postgresql") picks the engines of the posting figure (the
run itself is measured on SQLite, the issue's target).
"""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, date, datetime

from sqlalchemy import insert

from bench._support import engines, fresh_platform
from olly.billing import service
from olly.billing.rules import LedgerAccount, PostingKind, debit_credit
from olly.config import DEFAULT_TENANT_ID
from olly.enrollment.models import CoverageSpan, Policy, PolicyElement, PolicyTerm
from olly.kernel.ids import uuid7
from olly.kernel.periods import DatePeriod
from olly.platform.crypto import FORMAT_VERSION
from olly.platform.db import table_of
from olly.platform.runtime import Platform

POLICIES = int(os.environ.get("BENCH_BILLING_POLICIES", "100000"))
POSTINGS = int(os.environ.get("BENCH_BILLING_POSTINGS", "20000"))
GROUP_SIZE = 100
PERIOD = DatePeriod(date(2026, 2, 1), date(2026, 2, 28))
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
TIERS = (("EE", 60000, 24000), ("EE+SP", 110000, 44000), ("EE+CH", 100000, 40000), ("EE+FAM", 160000, 64000))


def seed(platform: Platform, count: int) -> None:
    tenant = DEFAULT_TENANT_ID
    plan_id = uuid.UUID("00000000-0000-7000-8000-00000000a001")
    groups = [uuid7() for _ in range(max(1, int(count * 0.8) // GROUP_SIZE))]
    batch: dict[str, list[dict[str, object]]] = {"p": [], "t": [], "e": [], "s": []}

    def flush() -> None:
        with platform.db.connect() as connection:
            for model, key in ((Policy, "p"), (PolicyTerm, "t"), (PolicyElement, "e"), (CoverageSpan, "s")):
                if batch[key]:
                    connection.execute(insert(table_of(model)), batch[key])
                batch[key] = []

    for index in range(count):
        policy_id, term_id, element_id, party_id = uuid7(), uuid7(), uuid7(), uuid7()
        in_group = index < len(groups) * GROUP_SIZE
        tier, total, member = TIERS[index % len(TIERS)]
        # one policy in seven joined mid-February: a prorated line
        start = date(2026, 2, 10) if index % 7 == 3 else date(2026, 1, 1)
        batch["p"].append(
            {
                "id": policy_id,
                "tenant_id": tenant,
                "policy_number": f"POL{index:09d}",
                "market": "GROUP" if in_group else "INDIVIDUAL",
                "account_id": groups[index // GROUP_SIZE] if in_group else uuid7(),
                "subscriber_party_id": party_id,
                "subscriber_external_id": None,
                "status": "ACTIVE",
                "status_reason": None,
                "created_at": NOW,
            }
        )
        batch["t"].append(
            {
                "id": term_id,
                "tenant_id": tenant,
                "policy_id": policy_id,
                "plan_id": plan_id,
                "plan_code": "PPO-2026",
                "coverage_type": "MEDICAL",
                "tier_code": tier,
                "period_start": start,
                "period_end": date(2026, 12, 31),
                "currency": "USD",
                "total_premium_minor": total,
                "member_premium_minor": member if in_group else total,
                "premium_period": "MONTHLY",
                "created_at": NOW,
            }
        )
        batch["e"].append(
            {
                "id": element_id,
                "tenant_id": tenant,
                "policy_id": policy_id,
                "party_id": party_id,
                "element_type": "employee",
                "relationship": "SELF",
                # Billing never reads member numbers: a placeholder in the sealed format, not a real one.
                "member_number": FORMAT_VERSION + b"bench",
                "member_number_index": None,
                "coverage_terms": {},
                "created_at": NOW,
            }
        )
        batch["s"].append(
            {
                "id": uuid7(),
                "tenant_id": tenant,
                "element_id": element_id,
                "term_id": term_id,
                "policy_id": policy_id,
                "party_id": party_id,
                "valid_from": start,
                "valid_to": None,
                "recorded_at": NOW,
                "superseded_at": None,
                "transaction_id": uuid7(),
            }
        )
        if len(batch["p"]) >= 5000:
            flush()
    flush()


def billing_run(count: int) -> None:
    with fresh_platform("sqlite") as platform:
        started = time.perf_counter()
        seed(platform, count)
        print(f"seeded {count:,} active policies in {time.perf_counter() - started:.1f} s (sqlite)", flush=True)
        started = time.perf_counter()
        with platform.db.unit_of_work(DEFAULT_TENANT_ID) as uow:
            summary = service.run_billing(uow, PERIOD)
        elapsed = time.perf_counter() - started
        print(
            f"billing run 2026-02, {count:,} policies: {elapsed:.2f} s "
            f"({count / elapsed:,.0f} policies/s); {summary.invoice_count:,} invoices, {summary.line_count:,} lines, "
            f"{summary.total_minor / 100:,.2f} USD",
            flush=True,
        )
        started = time.perf_counter()
        with platform.db.unit_of_work(DEFAULT_TENANT_ID) as uow:
            again = service.run_billing(uow, PERIOD)
        print(
            f"rerun of the same month: {time.perf_counter() - started:.2f} s, {again.invoice_count} new invoices",
            flush=True,
        )


def postings(engine: str, count: int) -> None:
    per_transaction = 100
    with fresh_platform(engine) as platform:
        accounts = [uuid7() for _ in range(50)]
        started = time.perf_counter()
        done = 0
        while done < count:
            with platform.db.unit_of_work(DEFAULT_TENANT_ID) as uow:
                for _ in range(min(per_transaction, count - done)):
                    service.post(
                        uow,
                        PostingKind.PAYMENT,
                        debit_credit(LedgerAccount.CASH, LedgerAccount.PREMIUM_RECEIVABLE, 4800 + done % 97),
                        currency="USD",
                        reference_type="PAYMENT",
                        reference_id=uuid7(),
                        account_id=accounts[done % len(accounts)],
                    )
                    done += 1
        elapsed = time.perf_counter() - started
        with platform.db.unit_of_work(DEFAULT_TENANT_ID, read_only=True) as uow:
            clean = service.reconcile(uow).debit_minor == service.reconcile(uow).credit_minor
        print(
            f"ledger postings ({engine}): {count:,} two-line postings, {per_transaction} per transaction, "
            f"{elapsed:.2f} s = {count / elapsed:,.0f} postings/s; balanced: {clean}",
            flush=True,
        )


def main() -> None:
    billing_run(POLICIES)
    wanted = os.environ.get("BENCH_BILLING_ENGINES", "sqlite,postgresql").split(",")
    for engine in engines():
        if engine in wanted:
            postings(engine, POSTINGS)


if __name__ == "__main__":
    main()
