"""The claims domain's periodic jobs."""

from __future__ import annotations

from olly.claims import prior_auth
from olly.platform.audit import AuditRecord, AuditTrail
from olly.platform.db import UnitOfWork
from olly.platform.jobs import JobScheduler

OVERDUE_JOB = "claims.escalate-overdue-prior-auths"


def escalate_overdue_prior_auths(uow: UnitOfWork) -> int:
    """Escalate each undecided request past its due time once: stamp ``escalated_at`` (the queue
    shows it) and write an audit record in the same transaction, so the breach of the CMS-0057-F
    window is on the record even if the request is decided minutes later."""
    escalated = prior_auth.escalate_overdue(uow)
    if escalated:
        trail = AuditTrail(uow.session.info["database"])
        trail.append(
            uow.session.connection(),
            [
                AuditRecord(
                    subject=f"job:{OVERDUE_JOB}",
                    role="system",
                    action="prior_auth.escalate",
                    resource_type="prior_auth",
                    resource_id=str(request.id),
                    tenant_id=uow.tenant_id,
                    detail={"decisionDueAt": request.decision_due_at.isoformat(), "expedited": request.expedited},
                )
                for request in escalated
            ],
        )
    return len(escalated)


def register(scheduler: JobScheduler) -> None:
    # Expedited requests are due within hours: a five-minute sweep escalates within minutes of the breach.
    scheduler.add(OVERDUE_JOB, 300.0, escalate_overdue_prior_auths)
