"""The claims domain's personal-data handler for deletion requests (``olly.platform.personal_data``).

What it finds of a member, and what each disposition does:

* **claim** (the claim record, kept six years from its first date of service): pseudonymised, the
  claim, its lines, diagnoses, adjudications (with their traces), status history and EOBs stay,
  the member id becomes the pseudonym wherever it is written (the claim, the stored results and
  their accumulator movements), and what names the person goes: the raw payload (an 837's segments
  name the patient; a JSON claim carries the member id), the documents a member uploaded, the
  idempotency keys (hashes of the submission), an examiner's free-text note, and of an 837's
  origin the patient's name, member number and patient control number. Deleted, every row of the
  claim and every object it stored.
* **accumulators** of one plan year (the member's own, kept while the claims that moved them are):
  keyed to the pseudonym, or deleted. The family's accumulators are the family's (keyed by the
  policy) and are left alone.
* **coverage**, claims' copy of enrollment's coverage (an enrollment record): the pseudonym, the
  plan and periods stay, so kept claims still read and adjudicate against their plan; the birth
  date and declared pre-existing conditions go. Deleted, the row goes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Collection
from datetime import date, timedelta
from typing import Any, Final

from olly.claims import models as m
from olly.claims.repository import ClaimsRepository
from olly.kernel.periods import add_months
from olly.platform.db import UnitOfWork
from olly.platform.objectstore import object_store_of
from olly.platform.personal_data import DataSubject, PersonalDataItem, RecordCategory, ids_by_type

CLAIM: Final = "claim"
ACCUMULATORS: Final = "accumulators"
COVERAGE: Final = "coverage"

KEPT_DOCUMENTS: Final = frozenset({"EOB"})
"""Documents a pseudonymised claim keeps: the EOB is rendered from the structured result alone (claim
id, service dates, billing NPI, amounts, codes) and names nobody."""

ORIGIN_KEPT: Final = frozenset(
    {"kind", "file", "sender", "isa", "gs", "st", "segment", "facility", "frequency", "lineControl"}
)
"""What a pseudonymised claim keeps of its 837 origin: the envelope, the bill's type and the provider's
line control numbers; nothing of the patient (``patient``, ``memberNumber`` and CLM01's patient
control number ``claim`` go: the 835 then names the payer's claim id instead) and nothing unknown."""


class ClaimsPersonalData:
    """A member's claims, their own accumulators and claims' copy of their coverage (see the module
    docstring for what each disposition does)."""

    domain = "claims"

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
        repo, party = ClaimsRepository(uow), subject.party_id
        found = [
            PersonalDataItem(
                self.domain,
                CLAIM,
                str(claim_id),
                RecordCategory.CLAIM,
                first_service,
                "claim with its lines, diagnoses, adjudications and documents",
            )
            for claim_id, first_service in repo.claim_dates_of_members([party])
        ]
        found += [
            PersonalDataItem(
                self.domain,
                ACCUMULATORS,
                plan_year.isoformat(),
                RecordCategory.CLAIM,
                add_months(plan_year, 12) - timedelta(days=1),  # kept as long as any claim of the year
                "deductible, out-of-pocket and benefit-limit accumulators of one plan year",
            )
            for plan_year in repo.accumulator_years([str(party)])
        ]
        today = uow.clock.today()
        found += [
            PersonalDataItem(
                self.domain,
                COVERAGE,
                str(coverage.id),
                RecordCategory.ENROLLMENT,
                _coverage_end(coverage, today),
                "claims' copy of the member's coverage (plan, periods, age and declared conditions)",
            )
            for coverage in repo.coverages_of_members([party])
        ]
        return found

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo = ClaimsRepository(uow)
        owners = (subject.party_id, subject.pseudonym)
        old, new = str(subject.party_id), str(subject.pseudonym)
        claims = repo.claims_of_members_by_id(ids_by_type(items)[CLAIM], owners)
        claim_ids = [claim.id for claim in claims]
        for claim in claims:
            claim.member_id = subject.pseudonym
            claim.detail = _renamed(_without_origin_identifiers(claim.detail), old, new)
            claim.raw_object_key = None
        for record in repo.results_of(claim_ids):
            record.result = _renamed(record.result, old, new)
        for decision in repo.decisions_of(claim_ids):
            decision.note = None  # an examiner's free text may name the person
        named = [document for document in repo.documents_of(claim_ids) if document.kind not in KEPT_DOCUMENTS]
        _erase_objects(uow, [document.object_key for document in named])
        repo.delete_documents([document.id for document in named])
        repo.delete_idempotency_keys(claim_ids)
        repo.rename_accumulators([old], _plan_years(items), new)
        repo.rename_accumulator_holder(old, new)
        wanted = set(ids_by_type(items)[COVERAGE])
        for coverage in repo.coverages_of_members(owners):
            if coverage.id in wanted:
                coverage.member_id = subject.pseudonym
                coverage.birth_date = None
                coverage.pre_existing = None
        uow.flush()

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
        repo = ClaimsRepository(uow)
        owners = (subject.party_id, subject.pseudonym)
        holders = [str(owner) for owner in owners]
        claim_ids = [claim.id for claim in repo.claims_of_members_by_id(ids_by_type(items)[CLAIM], owners)]
        _erase_objects(uow, [document.object_key for document in repo.documents_of(claim_ids)])
        repo.delete_claims(claim_ids)
        repo.delete_accumulators(holders, _plan_years(items))
        # The lock row carries nothing but the holder id; adjudication makes it again if it is needed.
        repo.delete_accumulator_holders([holder for holder in holders if not repo.accumulator_years([holder])])
        wanted = set(ids_by_type(items)[COVERAGE])
        repo.delete_coverages([coverage.id for coverage in repo.coverages_of_members(owners) if coverage.id in wanted])


def _plan_years(items: list[PersonalDataItem]) -> list[date]:
    years = []
    for item in items:
        if item.record_type == ACCUMULATORS:
            try:
                years.append(date.fromisoformat(item.record_id))
            except ValueError:
                continue
    return years


def _coverage_end(coverage: m.CoverageView, today: date) -> date:
    """When the coverage ended: the end of its last period; today while a period is open; the day
    claims last heard of it when enrollment left it no period."""
    ends = []
    for _start, end in coverage.periods or ():
        if end is None:
            return today
        ends.append(date.fromisoformat(end))
    return max(ends) if ends else coverage.synced_at.date()


def _without_origin_identifiers(detail: dict[str, Any]) -> dict[str, Any]:
    """The claim's detail with only ``ORIGIN_KEPT`` of its origin (an origin that is not a JSON
    object is dropped whole)."""
    origin = detail.get("origin")
    if origin is None:
        return dict(detail)
    try:
        sent = json.loads(origin)
    except (TypeError, ValueError):
        sent = None
    if not isinstance(sent, dict):
        return detail | {"origin": None}
    kept = {key: value for key, value in sent.items() if key in ORIGIN_KEPT}
    return detail | {"origin": json.dumps(kept, separators=(",", ":"))}


def _renamed(value: Any, old: str, new: str) -> Any:
    """``value`` (JSON) with every occurrence of ``old`` in its strings replaced by ``new``: a member
    id is written in a result as its ``memberId``, as the holder of each member-level movement, and
    may be in a trace's inputs."""
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, dict):
        return {_renamed(key, old, new): _renamed(item, old, new) for key, item in value.items()}
    if isinstance(value, list):
        return [_renamed(item, old, new) for item in value]
    if isinstance(value, uuid.UUID):
        return new if str(value) == old else value
    return value


def _erase_objects(uow: UnitOfWork, keys: Collection[str]) -> None:
    """Erase these objects with the transaction (``ObjectStore.delete``: unreadable from the commit,
    their bytes removed after it)."""
    store = object_store_of(uow)
    for key in sorted(set(keys)):
        store.delete(uow, key)
