"""Payee bank accounts: kept encrypted by billing, managed with ``olly billing payee-bank``, and
named in the EFT 835 (BPR*I…ACH with both banks); without one the 835 is a cheque advice (CHK)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from typer.testing import CliRunner

from olly import edi_links
from olly.billing import bank_accounts
from olly.billing import public as billing_public
from olly.billing import service as billing
from olly.billing.models import PayeeBankAccount
from olly.cli import app as cli
from olly.edi import service
from olly.eligibility.plan_benefits import PlanBenefitSource
from olly.enrollment.plan_catalog import PlansCatalog
from olly.platform.audit import AuditEvent
from olly.platform.db import table_of
from olly.platform.runtime import Platform
from tests.integration.claims.support import NPI_IN, drain
from tests.integration.edi.helpers import register, segments
from tests.integration.edi.test_claims_round_trip import PAYER_BANK, SENDER, claim, members  # noqa: F401  (fixture)
from tests.integration.edi.test_ways_in import cli_env  # noqa: F401  (fixture)
from tests.integration.edi.test_zero_claims_835 import PAID, claims_file
from tests.unit.edi.pyx12_judge import judge

LATER = claim("PCN-8", [("99213", "150.00", "20260112")])  # another office visit: pays 75.00 too
ROUTING = "021000021"
ACCOUNT = "5550001234"


def _remit_one(
    platform: Platform, tenant_id: uuid.UUID, control: str, member: str, lines: list[str]
) -> tuple[str, uuid.UUID]:
    links = edi_links.build_links(PlansCatalog(), PlanBenefitSource(), payer_bank=PAYER_BANK)
    with platform.db.unit_of_work(tenant_id) as uow:
        assert (
            service.ingest(uow, claims_file(control, member, [lines]), source="cli", links=links).claims_accepted == 1
        )
    drain(platform)
    with platform.db.unit_of_work(tenant_id) as uow:
        run_id = str(billing.run_claim_payments(uow).id)
    with platform.db.unit_of_work(tenant_id) as uow:
        (remitted,) = service.remit(uow, run_id, links)
        advice = billing_public.payment_run(uow, uuid.UUID(run_id))
        assert advice is not None
        return service.file_content(uow, remitted.id)[1].decode(), advice.payments[0].payee_id


def test_an_eft_835_names_the_payee_bank_billing_keeps(
    platform: Platform,
    tenant_id: uuid.UUID,
    members: dict[str, str],  # noqa: F811
) -> None:
    register(platform, tenant_id, "CLINIC", kind="PROVIDER", qualifier="ZZ", identifier=SENDER, provider_ids=[NPI_IN])
    # no bank account yet: the EFT's 835 is a cheque advice with the EFT trace
    before, clinic = _remit_one(platform, tenant_id, "000000301", members["ana"], PAID)
    assert judge(before) == []
    (bpr,) = segments(before, "BPR")
    assert bpr[1:5] == ["I", "75.00", "C", "CHK"]
    assert len(segments(before, "TRN")[0][2]) == 20

    with platform.db.unit_of_work(tenant_id) as uow:
        bank_accounts.set_payee_bank(uow, clinic, routing_number=ROUTING, account_number=ACCOUNT, account_type="SG")
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        table = PayeeBankAccount.__table__
        raw = uow.session.execute(select(table.c.routing_number, table.c.account_number)).one()
    stored = b"".join(bytes(v) for v in raw)
    assert ROUTING.encode() not in stored and ACCOUNT.encode() not in stored  # encrypted at rest

    after, payee = _remit_one(platform, tenant_id, "000000302", members["ana"], LATER)
    assert payee == clinic
    assert judge(after) == []
    (bpr,) = segments(after, "BPR")
    assert bpr[1:] == [
        "I",
        "75.00",
        "C",
        "ACH",
        "CCP",
        "01",
        PAYER_BANK[0],
        "DA",
        PAYER_BANK[1],
        "1000000000",
        "",
        "01",
        ROUTING,
        "SG",
        ACCOUNT,
        "20260115",
    ]


def test_cli_manages_payee_bank_accounts(cli_env: Platform, tenant_id: uuid.UUID) -> None:  # noqa: F811
    clinic = uuid.uuid4()  # a provider id (the payee id of its claim payments)
    runner = CliRunner()
    saved = runner.invoke(
        cli, ["billing", "payee-bank", "set", str(clinic), "--routing", ROUTING, "--account", ACCOUNT]
    )
    assert saved.exit_code == 0, saved.output
    assert saved.output.strip() == f"payee {clinic}: DA account ••••1234 saved"
    shown = runner.invoke(cli, ["billing", "payee-bank", "show", str(clinic)])
    assert shown.exit_code == 0 and shown.output.strip() == f"payee {clinic}: routing {ROUTING}, DA account ••••1234"
    assert ACCOUNT not in shown.output
    bad = runner.invoke(cli, ["billing", "payee-bank", "set", str(clinic), "--routing", "021000022", "--account", "12"])
    assert bad.exit_code == 1
    assert "routing_number: must be a 9-digit ABA routing number" in bad.output
    assert "account_number: must be 4 to 17 digits" in bad.output and "021000022" not in bad.output
    unknown = runner.invoke(cli, ["billing", "payee-bank", "show", "1999999984"])
    assert unknown.exit_code == 1 and "no provider has this NPI" in unknown.output
    assert runner.invoke(cli, ["billing", "payee-bank", "remove", str(clinic)]).exit_code == 0
    gone = runner.invoke(cli, ["billing", "payee-bank", "show", str(clinic)])
    assert gone.exit_code == 1 and "cheque advices (CHK)" in gone.output
    assert runner.invoke(cli, ["billing", "payee-bank", "show", "not-an-id"]).exit_code == 2
    events = table_of(AuditEvent)
    with cli_env.db.connect() as connection:
        rows = connection.execute(
            select(events.c.subject, events.c.action, events.c.resource_id, events.c.detail)
            .where(events.c.resource_type == "payee_bank_account")
            .order_by(events.c.seq)
        ).all()
    assert [tuple(r[:3]) for r in rows] == [
        ("cli", "payee_bank.write", str(clinic)),
        ("cli", "payee_bank.delete", str(clinic)),
    ]
    assert ACCOUNT not in str([r[3] for r in rows])


def test_routing_numbers_are_checked() -> None:
    assert bank_accounts.valid_routing_number(ROUTING)
    assert bank_accounts.valid_routing_number("011000015")
    assert not bank_accounts.valid_routing_number("021000022")
    assert not bank_accounts.valid_routing_number("02100002")
    assert not bank_accounts.valid_routing_number("02100002X")
    assert bank_accounts.masked(ACCOUNT) == "••••1234"
