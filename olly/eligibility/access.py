"""How the policy decision point learns whose eligibility a request asks about.

Two ways to name the person:

* by member id (``GET /api/v1/eligibility?memberId=``): the person's own answer, their groups are the
  accounts of the group coverage in the read model. Nothing identifies the patient, so a provider
  is refused (the identified-patient relation never holds);
* by search (``POST /api/v1/eligibility/search``): the member number with the patient's date of
  birth and family name as evidence. When all three match one person the patient is identified;
  otherwise the request names nobody, and only roles that may read any member's eligibility get
  the "not found" answer — everyone else gets 404.

A malformed member id names nobody either (the same rule applies), so callers allowed everything
still see the validation error while the rest see 404. The facts' id is always a party id, never the
member number: the audit trail names resources by that id.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Final

from sqlalchemy import select

from olly.eligibility import service
from olly.eligibility.models import CoverageRecord
from olly.platform.auth import ResolveContext, ResourceFacts, ResourceRef
from olly.platform.auth.resolvers import parse_uuid
from olly.platform.db import UnitOfWork

#: Body fields of a search handed to the resolver as evidence.
SEARCH_EVIDENCE: Final = ("birth_date", "family_name")


class EligibilityFacts:
    def resolve(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts | None:
        if "birth_date" in ref.evidence:
            return self._search(context, ref)
        party_id = parse_uuid(ref.resource_id)
        if party_id is None:
            return ResourceFacts(kind=ref.kind)
        # Asked on every request by member id: cached, and invalidated with the person's answers.
        groups = service.group_accounts(context.db, context.tenant_id, party_id, lambda uow: _groups(uow, party_id))
        return ResourceFacts(
            kind=ref.kind, resource_id=str(party_id), party_ids=frozenset({party_id}), group_account_ids=groups
        )

    def _search(self, context: ResolveContext, ref: ResourceRef) -> ResourceFacts:
        nobody = ResourceFacts(kind=ref.kind)
        member_number, family_name = ref.resource_id, ref.evidence.get("family_name")
        birth_date = _date(ref.evidence.get("birth_date"))
        if not member_number or not isinstance(family_name, str) or not family_name.strip() or birth_date is None:
            return nobody
        with context.db.unit_of_work(context.tenant_id, read_only=True) as uow:
            party_id = service.find_member(uow, member_number, birth_date, family_name)
            if party_id is None:
                return nobody
            groups = _groups(uow, party_id)
        return ResourceFacts(
            kind=ref.kind,
            resource_id=str(party_id),
            party_ids=frozenset({party_id}),
            group_account_ids=groups,
            identified=True,
        )


def _groups(uow: UnitOfWork, party_id: uuid.UUID) -> frozenset[uuid.UUID]:
    rows = uow.session.execute(
        select(CoverageRecord.account_id).where(CoverageRecord.party_id == party_id, CoverageRecord.market == "GROUP")
    )
    return frozenset(rows.scalars())


def _date(value: Any) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None
