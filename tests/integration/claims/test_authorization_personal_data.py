"""A deletion request finds a member's prior authorisations and appeals, pseudonymises or deletes them."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from olly.claims import appeals
from olly.claims import prior_auth as service
from olly.claims.authorization_access import AuthorizationPersonalData
from olly.claims.events import ClaimDenied
from olly.kernel.clock import FixedClock
from olly.platform.personal_data import DataSubject, RecordCategory
from olly.platform.runtime import Platform

MEMBER = uuid.UUID("01900000-0000-7000-8000-000000000001")
PSEUDONYM = uuid.UUID("01900000-0000-7000-8000-0000000000ff")


def test_find_pseudonymise_and_delete(platform: Platform, tenant_id: uuid.UUID, clock: FixedClock) -> None:
    clock.set(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    claim_id = uuid.uuid4()
    with platform.db.unit_of_work(tenant_id) as uow:
        request = service.submit_request(
            uow,
            service.PriorAuthRequestData(
                member_id=MEMBER,
                requesting_provider_id=uuid.uuid4(),
                requesting_npi="1234567893",
                services=(service.RequestedService("70551", 1),),
                service_from=date(2026, 3, 5),
                service_to=date(2026, 3, 31),
            ),
        ).request
        denial = ClaimDenied(
            claim_id=claim_id,
            member_id=MEMBER,
            provider_id=uuid.uuid4(),
            denial_reason_code="CO-197",
            denial_reason_text="Required prior authorization not on file",
            appeal_deadline=date(2026, 8, 29),
            adjudicated_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        )
        appeals.record_adjudication(uow, uuid.uuid4(), denial.wire())
        appeal = appeals.file_appeal(uow, appeals.AppealFiling(claim_id, "account:member", "Urgent scan"))
    handler = AuthorizationPersonalData()
    subject = DataSubject(tenant_id, MEMBER, PSEUDONYM)
    with platform.db.unit_of_work(tenant_id) as uow:
        items = handler.find(uow, subject)
        assert [(i.record_type, i.record_id, i.category, i.record_date) for i in items] == [
            ("prior_authorization", str(request.id), RecordCategory.PRIOR_AUTH, date(2026, 3, 2)),
            ("appeal", str(appeal.id), RecordCategory.CLAIM, date(2026, 3, 2)),
            ("appealable_claim", str(claim_id), RecordCategory.CLAIM, date(2026, 3, 1)),
        ]
        handler.pseudonymise(uow, subject, items[:2])
        handler.delete(uow, subject, items[2:])
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert handler.find(uow, subject) == []
        assert service.get(uow, request.id).request.member_id == PSEUDONYM
        assert appeals.get(uow, appeal.id).member_id == PSEUDONYM
        assert [(i.record_type) for i in handler.find(uow, DataSubject(tenant_id, PSEUDONYM, PSEUDONYM))] == [
            "prior_authorization",
            "appeal",
        ]
    with platform.db.unit_of_work(tenant_id) as uow:
        handler.delete(uow, subject, handler.find(uow, DataSubject(tenant_id, PSEUDONYM, PSEUDONYM)))
    with platform.db.unit_of_work(tenant_id, read_only=True) as uow:
        assert service.queue(uow) == []
        assert appeals.queue(uow) == []
