"""billing: invoices, payments, ledger, grace periods, claim payments

Revision ID: 0014_billing
Revises: 0013_prior_auth_appeals
Create Date: 2026-11-23 12:04:19.424647
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_billing"
down_revision: str | None = "0013_prior_auth_appeals"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_LEDGER_TABLES = ("ledger_postings", "ledger_entries")


def upgrade() -> None:
    op.create_table(
        "billing_accounts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("market", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("proration", sa.String(length=16), nullable=False),
        sa.Column("receives_aptc", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_accounts")),
        sa.UniqueConstraint("tenant_id", "account_id", name=op.f("uq_billing_accounts_tenant_id_account_id")),
        schema="billing",
    )
    op.create_index(
        op.f("ix_billing_accounts_tenant_id"), "billing_accounts", ["tenant_id"], unique=False, schema="billing"
    )
    op.create_table(
        "billing_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("invoice_count", sa.Integer(), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_runs")),
        schema="billing",
    )
    op.create_index(
        op.f("ix_billing_runs_period_start"), "billing_runs", ["period_start"], unique=False, schema="billing"
    )
    op.create_index(op.f("ix_billing_runs_tenant_id"), "billing_runs", ["tenant_id"], unique=False, schema="billing")
    op.create_table(
        "claim_payables",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("payee", sa.String(length=8), nullable=False),
        sa.Column("payee_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("claim_payment_id", sa.Uuid(), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_payables")),
        sa.UniqueConstraint("tenant_id", "claim_id", name=op.f("uq_claim_payables_tenant_id_claim_id")),
        schema="billing",
    )
    op.create_index(op.f("ix_claim_payables_status"), "claim_payables", ["status"], unique=False, schema="billing")
    op.create_index(
        op.f("ix_claim_payables_tenant_id"), "claim_payables", ["tenant_id"], unique=False, schema="billing"
    )
    op.create_table(
        "grace_periods",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("rule", sa.String(length=16), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("coverage_end_if_expired", sa.Date(), nullable=False),
        sa.Column("claims_pend_from", sa.Date(), nullable=False),
        sa.Column("premium_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grace_periods")),
        sa.UniqueConstraint(
            "tenant_id", "invoice_id", "policy_id", name=op.f("uq_grace_periods_tenant_id_invoice_id_policy_id")
        ),
        schema="billing",
    )
    op.create_index(op.f("ix_grace_periods_member_id"), "grace_periods", ["member_id"], unique=False, schema="billing")
    op.create_index(op.f("ix_grace_periods_policy_id"), "grace_periods", ["policy_id"], unique=False, schema="billing")
    op.create_index(op.f("ix_grace_periods_tenant_id"), "grace_periods", ["tenant_id"], unique=False, schema="billing")
    op.create_table(
        "installment_schedules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("remainder_to", sa.String(length=8), nullable=False),
        sa.Column("installments", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_installment_schedules")),
        sa.UniqueConstraint(
            "tenant_id", "policy_id", "term_id", name=op.f("uq_installment_schedules_tenant_id_policy_id_term_id")
        ),
        schema="billing",
    )
    op.create_index(
        op.f("ix_installment_schedules_tenant_id"),
        "installment_schedules",
        ["tenant_id"],
        unique=False,
        schema="billing",
    )
    op.create_table(
        "invoices",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_number", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("employer_minor", sa.BigInteger(), nullable=False),
        sa.Column("member_minor", sa.BigInteger(), nullable=False),
        sa.Column("paid_minor", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_reason", sa.String(length=120), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("tenant_id", "invoice_number", name=op.f("uq_invoices_tenant_id_invoice_number")),
        schema="billing",
    )
    op.create_index(
        "ix_invoices_open", "invoices", ["tenant_id", "account_id", "status"], unique=False, schema="billing"
    )
    op.create_index(op.f("ix_invoices_tenant_id"), "invoices", ["tenant_id"], unique=False, schema="billing")
    op.create_table(
        "ledger_postings",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("reference_type", sa.String(length=16), nullable=False),
        sa.Column("reference_id", sa.Uuid(), nullable=False),
        sa.Column("reverses_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_postings")),
        schema="billing",
    )
    op.create_index(
        op.f("ix_ledger_postings_account_id"), "ledger_postings", ["account_id"], unique=False, schema="billing"
    )
    op.create_index(
        "ix_ledger_postings_reference",
        "ledger_postings",
        ["tenant_id", "reference_type", "reference_id"],
        unique=False,
        schema="billing",
    )
    op.create_index(
        op.f("ix_ledger_postings_tenant_id"), "ledger_postings", ["tenant_id"], unique=False, schema="billing"
    )
    op.create_table(
        "payment_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("payment_count", sa.Integer(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_runs")),
        schema="billing",
    )
    op.create_index(op.f("ix_payment_runs_tenant_id"), "payment_runs", ["tenant_id"], unique=False, schema="billing")
    op.create_table(
        "payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("applied_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_minor", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint(
            "tenant_id",
            "account_id",
            "method",
            "reference",
            name=op.f("uq_payments_tenant_id_account_id_method_reference"),
        ),
        schema="billing",
    )
    op.create_index(op.f("ix_payments_account_id"), "payments", ["account_id"], unique=False, schema="billing")
    op.create_index(op.f("ix_payments_tenant_id"), "payments", ["tenant_id"], unique=False, schema="billing")
    op.create_table(
        "claim_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("payee", sa.String(length=8), nullable=False),
        sa.Column("payee_id", sa.Uuid(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=8), nullable=False),
        sa.Column("trace_number", sa.String(length=32), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["billing.payment_runs.id"], name=op.f("fk_claim_payments_run_id_payment_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_payments")),
        sa.UniqueConstraint("tenant_id", "trace_number", name=op.f("uq_claim_payments_tenant_id_trace_number")),
        schema="billing",
    )
    op.create_index(op.f("ix_claim_payments_run_id"), "claim_payments", ["run_id"], unique=False, schema="billing")
    op.create_index(
        op.f("ix_claim_payments_tenant_id"), "claim_payments", ["tenant_id"], unique=False, schema="billing"
    )
    op.create_table(
        "invoice_lines",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=False),
        sa.Column("term_id", sa.Uuid(), nullable=False),
        sa.Column("member_id", sa.Uuid(), nullable=False),
        sa.Column("plan_code", sa.String(length=40), nullable=False),
        sa.Column("tier_code", sa.String(length=16), nullable=False),
        sa.Column("covered_people", sa.Integer(), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("covered_from", sa.Date(), nullable=False),
        sa.Column("covered_to", sa.Date(), nullable=False),
        sa.Column("proration", sa.String(length=16), nullable=False),
        sa.Column("total_minor", sa.BigInteger(), nullable=False),
        sa.Column("employer_minor", sa.BigInteger(), nullable=False),
        sa.Column("member_minor", sa.BigInteger(), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["billing.invoices.id"], name=op.f("fk_invoice_lines_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice_lines")),
        sa.UniqueConstraint(
            "tenant_id",
            "policy_id",
            "term_id",
            "period_start",
            name=op.f("uq_invoice_lines_tenant_id_policy_id_term_id_period_start"),
        ),
        schema="billing",
    )
    op.create_index(
        op.f("ix_invoice_lines_invoice_id"), "invoice_lines", ["invoice_id"], unique=False, schema="billing"
    )
    op.create_index(op.f("ix_invoice_lines_policy_id"), "invoice_lines", ["policy_id"], unique=False, schema="billing")
    op.create_index(op.f("ix_invoice_lines_tenant_id"), "invoice_lines", ["tenant_id"], unique=False, schema="billing")
    op.create_table(
        "ledger_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("posting_id", sa.Uuid(), nullable=False),
        sa.Column("ledger_account", sa.String(length=24), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("debit_minor", sa.BigInteger(), nullable=False),
        sa.Column("credit_minor", sa.BigInteger(), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["posting_id"], ["billing.ledger_postings.id"], name=op.f("fk_ledger_entries_posting_id_ledger_postings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
        schema="billing",
    )
    op.create_index(
        op.f("ix_ledger_entries_posting_id"), "ledger_entries", ["posting_id"], unique=False, schema="billing"
    )
    op.create_index(
        op.f("ix_ledger_entries_tenant_id"), "ledger_entries", ["tenant_id"], unique=False, schema="billing"
    )
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("payment_id", sa.Uuid(), nullable=True),
        sa.Column("invoice_id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["billing.invoices.id"], name=op.f("fk_payment_allocations_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocations")),
        schema="billing",
    )
    op.create_index(
        op.f("ix_payment_allocations_invoice_id"), "payment_allocations", ["invoice_id"], unique=False, schema="billing"
    )
    op.create_index(
        op.f("ix_payment_allocations_payment_id"), "payment_allocations", ["payment_id"], unique=False, schema="billing"
    )
    op.create_index(
        op.f("ix_payment_allocations_tenant_id"), "payment_allocations", ["tenant_id"], unique=False, schema="billing"
    )

    # The ledger is append-only: the database itself refuses UPDATE and DELETE of postings and
    # entries (corrections are reversal postings).
    if op.get_bind().dialect.name == "sqlite":
        for table in _LEDGER_TABLES:
            for verb in ("UPDATE", "DELETE"):
                op.execute(
                    f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only'); END"
                )
    else:
        op.execute(
            """
            CREATE FUNCTION billing.refuse_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
              RAISE EXCEPTION 'the ledger is append-only' USING ERRCODE = 'insufficient_privilege';
            END $$
            """
        )
        for table in _LEDGER_TABLES:
            op.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON billing.{table} "
                "FOR EACH ROW EXECUTE FUNCTION billing.refuse_ledger_change()"
            )
            op.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON billing.{table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION billing.refuse_ledger_change()"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        for table in _LEDGER_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON billing.{table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON billing.{table}")
        op.execute("DROP FUNCTION IF EXISTS billing.refuse_ledger_change()")
    op.drop_index(op.f("ix_payment_allocations_tenant_id"), table_name="payment_allocations", schema="billing")
    op.drop_index(op.f("ix_payment_allocations_payment_id"), table_name="payment_allocations", schema="billing")
    op.drop_index(op.f("ix_payment_allocations_invoice_id"), table_name="payment_allocations", schema="billing")
    op.drop_table("payment_allocations", schema="billing")
    op.drop_index(op.f("ix_ledger_entries_tenant_id"), table_name="ledger_entries", schema="billing")
    op.drop_index(op.f("ix_ledger_entries_posting_id"), table_name="ledger_entries", schema="billing")
    op.drop_table("ledger_entries", schema="billing")
    op.drop_index(op.f("ix_invoice_lines_tenant_id"), table_name="invoice_lines", schema="billing")
    op.drop_index(op.f("ix_invoice_lines_policy_id"), table_name="invoice_lines", schema="billing")
    op.drop_index(op.f("ix_invoice_lines_invoice_id"), table_name="invoice_lines", schema="billing")
    op.drop_table("invoice_lines", schema="billing")
    op.drop_index(op.f("ix_claim_payments_tenant_id"), table_name="claim_payments", schema="billing")
    op.drop_index(op.f("ix_claim_payments_run_id"), table_name="claim_payments", schema="billing")
    op.drop_table("claim_payments", schema="billing")
    op.drop_index(op.f("ix_payments_tenant_id"), table_name="payments", schema="billing")
    op.drop_index(op.f("ix_payments_account_id"), table_name="payments", schema="billing")
    op.drop_table("payments", schema="billing")
    op.drop_index(op.f("ix_payment_runs_tenant_id"), table_name="payment_runs", schema="billing")
    op.drop_table("payment_runs", schema="billing")
    op.drop_index(op.f("ix_ledger_postings_tenant_id"), table_name="ledger_postings", schema="billing")
    op.drop_index("ix_ledger_postings_reference", table_name="ledger_postings", schema="billing")
    op.drop_index(op.f("ix_ledger_postings_account_id"), table_name="ledger_postings", schema="billing")
    op.drop_table("ledger_postings", schema="billing")
    op.drop_index(op.f("ix_invoices_tenant_id"), table_name="invoices", schema="billing")
    op.drop_index("ix_invoices_open", table_name="invoices", schema="billing")
    op.drop_table("invoices", schema="billing")
    op.drop_index(op.f("ix_installment_schedules_tenant_id"), table_name="installment_schedules", schema="billing")
    op.drop_table("installment_schedules", schema="billing")
    op.drop_index(op.f("ix_grace_periods_tenant_id"), table_name="grace_periods", schema="billing")
    op.drop_index(op.f("ix_grace_periods_policy_id"), table_name="grace_periods", schema="billing")
    op.drop_index(op.f("ix_grace_periods_member_id"), table_name="grace_periods", schema="billing")
    op.drop_table("grace_periods", schema="billing")
    op.drop_index(op.f("ix_claim_payables_tenant_id"), table_name="claim_payables", schema="billing")
    op.drop_index(op.f("ix_claim_payables_status"), table_name="claim_payables", schema="billing")
    op.drop_table("claim_payables", schema="billing")
    op.drop_index(op.f("ix_billing_runs_tenant_id"), table_name="billing_runs", schema="billing")
    op.drop_index(op.f("ix_billing_runs_period_start"), table_name="billing_runs", schema="billing")
    op.drop_table("billing_runs", schema="billing")
    op.drop_index(op.f("ix_billing_accounts_tenant_id"), table_name="billing_accounts", schema="billing")
    op.drop_table("billing_accounts", schema="billing")
