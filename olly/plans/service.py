"""Use cases of the plans domain: load plan documents, read versions, quote premiums.

Loading is all or nothing: every plan in a document is validated (shape, cross-field and
regulatory checks, version order against what is stored) before any row is written, and the unit
of work commits once at the boundary. Versions are append-only: a new version never rewrites an
old one, and one that would change what was in force on a past date is refused.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from importlib import resources
from types import MappingProxyType
from typing import Any, Final, Literal

from sqlalchemy import inspect
from sqlalchemy.exc import IntegrityError

from olly.config import Settings
from olly.kernel.errors import ConfigurationError, Conflict, FieldError, NotFound, ValidationFailed
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.plans import document, repository, rules
from olly.plans.models import BenefitRecord, Plan, PlanVersionRecord
from olly.platform.db import UnitOfWork

DEMO_PACKAGE: Final = "olly.plans.demo"


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class LoadOutcome:
    code: str
    version: int
    effective_from: date
    status: Literal["created", "unchanged"]
    version_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A stored plan version: its row's facts, the canonical document and the plan it describes."""

    id: uuid.UUID
    plan: rules.PlanVersion
    document: Mapping[str, Any]
    document_sha256: str
    source: str | None
    loaded_at: datetime


@dataclass(frozen=True, slots=True)
class PlanListing:
    code: str
    latest_version: int
    in_force: StoredVersion | None


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
def limits_from_settings(settings: Settings) -> rules.RegulatoryLimits:
    """The regulatory dollar limits from ``OLLY_PLANS_*`` settings."""
    try:
        return rules.RegulatoryLimits(
            aca_max_oop_self_only=Money.parse(settings.plans_aca_max_oop_self_only, "USD"),
            aca_max_oop_family=Money.parse(settings.plans_aca_max_oop_family, "USD"),
            hdhp_min_deductible_self_only=Money.parse(settings.plans_hdhp_min_deductible_self_only, "USD"),
            hdhp_min_deductible_family=Money.parse(settings.plans_hdhp_min_deductible_family, "USD"),
            hdhp_max_oop_self_only=Money.parse(settings.plans_hdhp_max_oop_self_only, "USD"),
            hdhp_max_oop_family=Money.parse(settings.plans_hdhp_max_oop_family, "USD"),
        )
    except ValidationFailed:
        raise ConfigurationError("OLLY_PLANS_* limits must be USD amounts such as 10600.00") from None


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def load_text(
    uow: UnitOfWork,
    raw: bytes | str,
    fmt: document.DocumentFormat,
    limits: rules.RegulatoryLimits,
    *,
    source: str | None = None,
) -> list[LoadOutcome]:
    """Load every plan version in a YAML or JSON document (all or nothing)."""
    return load_documents(uow, document.read_documents(raw, fmt), limits, source=source)


def check_text(
    raw: bytes | str, fmt: document.DocumentFormat, limits: rules.RegulatoryLimits
) -> list[rules.PlanVersion]:
    """Validate a document without storing it (``olly plans check``)."""
    return check_documents(document.read_documents(raw, fmt), limits)


def check_documents(docs: Sequence[document.PlanDocument], limits: rules.RegulatoryLimits) -> list[rules.PlanVersion]:
    plans: list[rules.PlanVersion] = []
    errors: list[FieldError] = []
    bundle = len(docs) > 1
    for index, doc in enumerate(docs):
        try:
            plans.append(document.checked_plan(doc, limits, prefix=f"plans.{index}" if bundle else ""))
        except ValidationFailed as exc:
            errors.extend(exc.errors)
    if errors:
        raise ValidationFailed(errors)
    return plans


def load_documents(
    uow: UnitOfWork,
    docs: Sequence[document.PlanDocument],
    limits: rules.RegulatoryLimits,
    *,
    source: str | None = None,
) -> list[LoadOutcome]:
    plans = check_documents(docs, limits)
    session = uow.session
    today = uow.clock.today()
    now = uow.clock.now()
    bundle = len(docs) > 1
    # What was stored before this load: a new version may not rewrite what these already answered.
    stored: dict[str, tuple[Plan | None, list[PlanVersionRecord]]] = {}
    for code in sorted({doc.code for doc in docs}):
        plan_row = repository.plan_by_code(session, code, for_update=True)
        stored[code] = (plan_row, repository.versions_of(session, plan_row.id) if plan_row else [])

    errors: list[FieldError] = []
    outcomes: list[LoadOutcome | None] = []
    canonical_docs = [document.canonical(doc) for doc in docs]
    for index, doc in enumerate(docs):
        prefix = f"plans.{index}." if bundle else ""
        _plan_row, existing = stored[doc.code]
        sha = _sha256(canonical_docs[index])
        same = next((record for record in existing if record.version == doc.version), None)
        if same is not None:
            if same.document_sha256 != sha:
                raise Conflict(
                    f"plan {doc.code} version {doc.version} is already loaded with different content; "
                    "versions are never rewritten: load the change as a new version"
                )
            outcomes.append(LoadOutcome(doc.code, doc.version, same.effective_from, "unchanged", same.id))
            continue
        outcomes.append(None)
        if not existing:
            continue
        latest = max(existing, key=lambda record: record.version)
        if doc.version < latest.version:
            errors.append(
                FieldError(
                    f"{prefix}version",
                    f"must be greater than the latest stored version ({latest.version})",
                    "version_not_increasing",
                )
            )
        elif doc.effective_from <= latest.effective_from:
            errors.append(
                FieldError(
                    f"{prefix}effective_from",
                    f"must be after the effective_from of stored version {latest.version} "
                    f"({latest.effective_from.isoformat()})",
                    "versions_out_of_order",
                )
            )
        elif doc.effective_from <= today:
            errors.append(
                FieldError(
                    f"{prefix}effective_from",
                    f"must be after today ({today.isoformat()}): a new version may not change "
                    "which version was in force on a past date",
                    "retroactive_version",
                )
            )
    if errors:
        raise ValidationFailed(errors)

    results: list[LoadOutcome] = []
    for index, (doc, plan) in enumerate(zip(docs, plans, strict=True)):
        done = outcomes[index]
        if done is not None:
            results.append(done)
            continue
        plan_row, _existing = stored[doc.code]
        if plan_row is None:
            plan_row = Plan(id=uuid7(), code=doc.code, created_at=now)
            try:
                repository.add_plan(session, plan_row)
            except IntegrityError:
                raise Conflict(f"plan {doc.code} was created by another load at the same time; retry") from None
            stored[doc.code] = (plan_row, _existing)
        record = PlanVersionRecord(
            id=uuid7(),
            plan_id=plan_row.id,
            version=doc.version,
            name=doc.name,
            market=doc.market.value,
            plan_type=doc.plan_type.value,
            currency=doc.currency,
            metal_level=doc.metal_level.value if doc.metal_level else None,
            effective_from=doc.effective_from,
            effective_to=doc.effective_to,
            document=canonical_docs[index],
            document_sha256=_sha256(canonical_docs[index]),
            source=source[:200] if source else None,
            loaded_at=now,
        )
        try:
            repository.add_version(session, record, _benefit_rows(record.id, plan.schedule))
        except IntegrityError:
            raise Conflict(
                f"plan {doc.code} version {doc.version} was loaded by another request at the same time; retry"
            ) from None
        results.append(LoadOutcome(doc.code, doc.version, doc.effective_from, "created", record.id))
    return results


def _sha256(canonical_doc: Mapping[str, Any]) -> str:
    text = json.dumps(canonical_doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _benefit_rows(version_id: uuid.UUID, schedule: rules.BenefitSchedule) -> list[BenefitRecord]:
    rows: list[BenefitRecord] = []
    for category, benefit in schedule.benefits.items():
        for network in rules.Network:
            share = benefit.cost_share(network)
            rows.append(
                BenefitRecord(
                    id=uuid7(),
                    plan_version_id=version_id,
                    category=category.value,
                    network=network.value,
                    covered=share is not None,
                    copay_minor=share.copay.amount if share else None,
                    copay_applies=share.copay_applies.value if share else None,
                    deductible_applies=share.deductible_applies if share else None,
                    coinsurance_basis_points=int(share.coinsurance_percent * 100) if share else None,
                    requires_prior_auth=benefit.requires_prior_auth,
                    requires_referral=benefit.requires_referral,
                )
            )
    return rows


def demo_documents() -> list[tuple[str, str]]:
    """(file name, text) of every demo plan shipped with the package."""
    folder = resources.files(DEMO_PACKAGE)
    return sorted(
        (entry.name, entry.read_text(encoding="utf-8")) for entry in folder.iterdir() if entry.name.endswith(".yaml")
    )


def load_demo_plans(uow: UnitOfWork, limits: rules.RegulatoryLimits) -> list[LoadOutcome]:
    """Load the demo plans (idempotent: a second run reports them unchanged)."""
    outcomes: list[LoadOutcome] = []
    for name, text in demo_documents():
        outcomes.extend(load_text(uow, text, "yaml", limits, source=f"demo/{name}"))
    return outcomes


# ---------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------
class _ParsedCache:
    """Versions never change, so a parsed version is kept by id (bounded, least recently used)."""

    def __init__(self, size: int = 256) -> None:
        self._items: OrderedDict[tuple[uuid.UUID, str], tuple[rules.PlanVersion, Mapping[str, Any]]] = OrderedDict()
        self._size = size
        self._lock = threading.Lock()

    def get(
        self, record: PlanVersionRecord, load_document: Callable[[], dict[str, Any]]
    ) -> tuple[rules.PlanVersion, Mapping[str, Any]]:
        key = (record.id, record.document_sha256)
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
                return found
        # Stored documents passed every check when loaded; they are read back without the
        # regulatory checks so a later change of the yearly limits cannot make them unreadable.
        raw = load_document()
        entry = (document.to_plan_version(document.validate_plan(raw)), MappingProxyType(raw))
        with self._lock:
            self._items[key] = entry
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return entry


_parsed = _ParsedCache()


def _stored(uow: UnitOfWork, record: PlanVersionRecord) -> StoredVersion:
    if "document" in inspect(record).unloaded:
        plan, doc = _parsed.get(record, lambda: repository.document_of(uow.session, record.id))
    else:
        plan, doc = _parsed.get(record, lambda: dict(record.document))
    return StoredVersion(
        id=record.id,
        plan=plan,
        document=doc,
        document_sha256=record.document_sha256,
        source=record.source,
        loaded_at=record.loaded_at,
    )


def _plan_or_404(uow: UnitOfWork, code: str) -> Plan:
    plan = repository.plan_by_code(uow.session, code)
    if plan is None:
        raise NotFound(f"no plan with code {code}")
    return plan


def find_version_in_force(uow: UnitOfWork, code: str, on: date) -> StoredVersion | None:
    """The version of ``code`` in force on ``on``; None when the plan is unknown or not in force."""
    record = repository.version_in_force_by_code(uow.session, code, on)
    return None if record is None else _stored(uow, record)


def version_in_force(uow: UnitOfWork, code: str, on: date) -> StoredVersion:
    stored = find_version_in_force(uow, code, on)
    if stored is None:
        _plan_or_404(uow, code)
        raise NotFound(f"plan {code} has no version in force on {on.isoformat()}")
    return stored


def get_version(uow: UnitOfWork, code: str, version: int) -> StoredVersion:
    plan = _plan_or_404(uow, code)
    record = repository.version_of(uow.session, plan.id, version)
    if record is None:
        raise NotFound(f"plan {code} has no version {version}")
    return _stored(uow, record)


def list_versions(uow: UnitOfWork, code: str) -> list[StoredVersion]:
    plan = _plan_or_404(uow, code)
    return [_stored(uow, record) for record in repository.versions_of(uow.session, plan.id)]


def list_plans(uow: UnitOfWork, on: date) -> list[PlanListing]:
    """Every plan with its latest version number and the version in force on ``on`` (if any)."""
    session = uow.session
    in_force = repository.versions_in_force(session, on)
    latest = repository.latest_versions(session)
    listings: list[PlanListing] = []
    for plan in repository.all_plans(session):
        record = in_force.get(plan.id)
        listings.append(PlanListing(plan.code, latest.get(plan.id, 0), _stored(uow, record) if record else None))
    return listings


def list_in_force(uow: UnitOfWork, on: date) -> list[StoredVersion]:
    records = repository.versions_in_force(uow.session, on).values()
    return sorted((_stored(uow, record) for record in records), key=lambda stored: stored.plan.code)


# ---------------------------------------------------------------------------------------------
# Quoting
# ---------------------------------------------------------------------------------------------
def quote(
    uow: UnitOfWork,
    code: str,
    on: date,
    request: rules.QuoteRequest,
    *,
    contribution_percent: Decimal | None = None,
    contribution_amount: str | None = None,
) -> rules.PremiumQuote:
    """The premium for ``request`` on the version of ``code`` in force on ``on``.

    An employer's own contribution (a percentage or an amount in the plan's currency) overrides
    the rate table's default for this quote.
    """
    stored = version_in_force(uow, code, on)
    plan = stored.plan
    if contribution_percent is not None and contribution_amount is not None:
        raise ValidationFailed(
            [FieldError("employer_contribution", "give a percent or an amount, not both", "contribution_kind")]
        )
    override: rules.EmployerContribution | None = request.employer_contribution
    if contribution_percent is not None:
        if contribution_percent < 0 or contribution_percent > 100:
            raise ValidationFailed(
                [FieldError("employer_contribution.percent", "must be between 0 and 100", "percent_range")]
            )
        override = rules.PercentContribution(MappingProxyType(dict.fromkeys(rules.Tier, contribution_percent)))
    elif contribution_amount is not None:
        try:
            amount = Money.parse(contribution_amount, plan.currency)
        except ValidationFailed:
            raise ValidationFailed(
                [
                    FieldError(
                        "employer_contribution.amount",
                        f"must be an amount in {plan.currency} such as 250.00",
                        "invalid_amount",
                    )
                ]
            ) from None
        if amount.is_negative:
            raise ValidationFailed(
                [FieldError("employer_contribution.amount", "must not be negative", "negative_amount")]
            )
        override = rules.FixedContribution(MappingProxyType(dict.fromkeys(rules.Tier, amount)))
    if override is not request.employer_contribution:
        request = rules.QuoteRequest(request.members, request.tier, request.rating_area, override)
    return rules.quote_premium(plan, request)
