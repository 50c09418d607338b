"""Eligibility use cases: keep the read model in step with enrollment, and answer the fast path."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from operator import itemgetter
from typing import Any, Final, NamedTuple, Protocol

from olly.eligibility import rules
from olly.eligibility.models import AccumulatorBalance, CoverageRecord
from olly.eligibility.repository import EligibilityRepository
from olly.enrollment import public as enrollment
from olly.kernel.ids import uuid7
from olly.kernel.money import Money
from olly.platform.cache import Cache, json_bytes, shared_cache, shared_refresher
from olly.platform.db import Database, PendingRows, UnitOfWork
from olly.policy_admin import public as people

#: How long an answer may be served from the cache (the transaction seed suggests 30 s to 2 min;
#: coverage and accumulator events invalidate sooner). Each entry lives a random 75-100 % of it,
#: so answers cached together (a busy minute, a restart) do not all expire together.
ANSWER_TTL_SECONDS = 120.0
#: An answer read with less than this left is recomputed in the background (``Refresher``): a
#: member asked about often is answered from the cache without a gap.
REFRESH_AHEAD_SECONDS = 20.0

_jitter = random.Random()  # noqa: S311 - spreads expiry times; not a secret


def answer_ttl() -> float:
    return ANSWER_TTL_SECONDS * _jitter.uniform(0.75, 1.0)


class BenefitSource(Protocol):
    """The plans domain as eligibility sees it (implemented over ``olly.plans.public``)."""

    def benefits(
        self, uow: UnitOfWork, plan_code: str, on: date, row: rules.CoverageRow
    ) -> rules.PlanBenefits | None: ...


def sync_policy(uow: UnitOfWork, policy_id: uuid.UUID, cache: Cache | None = None) -> set[uuid.UUID]:
    """Copy a policy's current coverage from enrollment into the read model; returns the people touched.

    Replaying the same event, or events out of order, converges on the same rows: the copy is of
    enrollment's current knowledge, not of the event's contents.
    """
    repo = EligibilityRepository(uow)
    before = {r.party_id for r in repo.records_of_policy(policy_id)}
    now = uow.clock.now()
    records = [
        CoverageRecord(
            id=uuid7(),
            party_id=f.party_id,
            policy_id=f.policy_id,
            account_id=f.account_id,
            subscriber_party_id=f.subscriber_party_id,
            market=f.market,
            policy_status=f.policy_status,
            relationship=f.relationship,
            member_number=f.member_number,
            plan_id=f.plan_id,
            plan_code=f.plan_code,
            coverage_type=f.coverage_type,
            tier_code=f.tier_code,
            valid_from=f.valid_from,
            valid_to=f.valid_to,
            synced_at=now,
        )
        for f in enrollment.coverage_facts(uow, policy_id)
    ]
    repo.replace_policy(policy_id, records)
    touched = before | {r.party_id for r in records}
    if cache is not None:
        tenant = uow.require_tenant()

        def invalidate() -> None:
            for party in touched:
                cache.invalidate(_subject(tenant, party))

        uow.after_commit(invalidate)
    return touched


def forget_answers(uow: UnitOfWork, party_ids: Iterable[uuid.UUID]) -> None:
    """Abandon the cached answers (and group facts) of these people once the unit of work commits:
    their copies are gone (a deletion request), so nothing may still answer from them."""
    cache = shared_cache(uow.session.info["database"].settings.redis_url)
    tenant, parties = uow.require_tenant(), set(party_ids)

    def invalidate() -> None:
        for party in parties:
            cache.invalidate(_subject(tenant, party))

    uow.after_commit(invalidate)


#: The columns of a balance as ``AccumulatorChunk`` inserts it.
BALANCE_COLUMNS: Final = (
    "id",
    "holder_id",
    "level",
    "plan_year",
    "currency",
    "deductible_in_network_minor",
    "deductible_out_of_network_minor",
    "out_of_pocket_in_network_minor",
    "out_of_pocket_out_of_network_minor",
    "as_of",
    "tenant_id",
)
_balance_values: Final = itemgetter(*BALANCE_COLUMNS)


class AccumulatorChunk:
    """What a chunk of ``claims.accumulator.updated`` events reads, in two queries (the consumer's
    ``prepare``): the balances of every member and family the chunk names, and who each family
    covers. A balance the chunk adds is kept as its values (``new``), so a later event of the same
    holder finds and changes it, and the chunk's new balances are inserted together just before it
    commits (one statement, no object per balance); a balance read here is changed through the ORM,
    in the chunk's flush. Without a tenant, new balances are ORM objects too. The cache is
    invalidated once per person when the chunk commits."""

    def __init__(self, uow: UnitOfWork, payloads: Iterable[dict[str, Any]]) -> None:
        self.uow = uow
        holders: set[uuid.UUID] = set()
        families: set[uuid.UUID] = set()
        for payload in payloads:
            holders.add(uuid.UUID(payload["memberId"]))
            if payload.get("familyId"):
                families.add(uuid.UUID(payload["familyId"]))
        repo = EligibilityRepository(uow)
        self.balances: dict[tuple[uuid.UUID, str, date], AccumulatorBalance] = {}
        for row in repo.balances(sorted(holders | families)):
            self.balances.setdefault((row.holder_id, row.level, row.plan_year), row)
        self.covered: dict[uuid.UUID, set[uuid.UUID]] = {family: set() for family in families}
        for policy_id, party_id in repo.parties_of_policies(families):
            self.covered[policy_id].add(party_id)
        self.touched: set[uuid.UUID] = set()
        self._invalidating = False
        self.new: PendingRows[tuple[uuid.UUID, str, date], dict[str, Any]] | None = None
        if uow.tenant_id is not None:
            self.new = PendingRows(
                uow, lambda rows: repo.insert_balances(BALANCE_COLUMNS, [_balance_values(row) for row in rows])
            )

    def invalidate_on_commit(self, uow: UnitOfWork, cache: Cache, parties: set[uuid.UUID]) -> None:
        self.touched |= parties
        if self._invalidating:
            return
        self._invalidating = True
        tenant = uow.require_tenant()

        def invalidate() -> None:
            for party in self.touched:
                cache.invalidate(_subject(tenant, party))

        uow.after_commit(invalidate)


def record_accumulators(
    uow: UnitOfWork, payload: dict[str, Any], cache: Cache | None = None, *, chunk: AccumulatorChunk | None = None
) -> None:
    """Store the totals of a ``claims.accumulator.updated`` event (newer totals replace older ones).
    ``chunk``: what the chunk this event came in read at once."""
    repo = EligibilityRepository(uow)
    member_id = uuid.UUID(payload["memberId"])
    family_id = uuid.UUID(payload["familyId"]) if payload.get("familyId") else None
    plan_year = date.fromisoformat(payload["planYear"])
    as_of = datetime.fromisoformat(payload["updatedAt"].replace("Z", "+00:00"))
    currency = payload.get("currency", "USD")
    levels: list[tuple[uuid.UUID, str, str]] = [(member_id, "MEMBER", "")]
    if family_id is not None and payload.get("familyDeductibleUsedInNetwork") is not None:
        levels.append((family_id, "FAMILY", "family"))
    for holder, level, prefix in levels:

        def minor(name: str, prefix: str = prefix) -> int:
            field = prefix + (name[0].upper() + name[1:] if prefix else name)
            return Money.parse(payload[field], currency).amount

        if chunk is not None:
            row = chunk.balances.get((holder, level, plan_year))
        else:
            row = repo.balance(holder, level, plan_year)
        if row is None and chunk is not None and chunk.new is not None:
            new = chunk.new.get((holder, level, plan_year))
            if new is not None and new["as_of"] > as_of:
                continue
            if new is None:
                new = {"id": uuid7(), "holder_id": holder, "level": level, "plan_year": plan_year}
                new["tenant_id"] = uow.tenant_id
                chunk.new[(holder, level, plan_year)] = new
            new["currency"] = currency
            new["deductible_in_network_minor"] = minor("deductibleUsedInNetwork")
            new["deductible_out_of_network_minor"] = minor("deductibleUsedOutOfNetwork")
            new["out_of_pocket_in_network_minor"] = minor("outOfPocketUsedInNetwork")
            new["out_of_pocket_out_of_network_minor"] = minor("outOfPocketUsedOutOfNetwork")
            new["as_of"] = as_of
            continue
        if row is not None and row.as_of > as_of:
            continue
        if row is None:
            row = AccumulatorBalance(id=uuid7(), holder_id=holder, level=level, plan_year=plan_year)
            uow.session.add(row)
            if chunk is not None:
                chunk.balances[(holder, level, plan_year)] = row
        row.currency = currency
        row.deductible_in_network_minor = minor("deductibleUsedInNetwork")
        row.deductible_out_of_network_minor = minor("deductibleUsedOutOfNetwork")
        row.out_of_pocket_in_network_minor = minor("outOfPocketUsedInNetwork")
        row.out_of_pocket_out_of_network_minor = minor("outOfPocketUsedOutOfNetwork")
        row.as_of = as_of
    if cache is None:
        return
    if chunk is not None:
        chunk.invalidate_on_commit(
            uow, cache, {member_id} | (chunk.covered.get(family_id, set()) if family_id else set())
        )
        return
    tenant = uow.require_tenant()
    touched = {member_id} | ({r.party_id for r in repo.records_of_policy(family_id)} if family_id else set())

    def invalidate() -> None:
        for party in touched:
            cache.invalidate(_subject(tenant, party))

    uow.after_commit(invalidate)


def _spent(uow: UnitOfWork, row: rules.CoverageRow, on: date) -> dict[tuple[str, str, str], int]:
    """Spending by (kind, network, level) in the plan year containing ``on`` (the latest year started)."""
    balances = EligibilityRepository(uow).balances([row.party_id, row.policy_id])
    current = [b for b in balances if b.plan_year <= on and on < _year_after(b.plan_year)]
    spent: dict[tuple[str, str, str], int] = {}
    for balance in current:
        level = "family" if balance.level == "FAMILY" else "individual"
        spent[("deductible", "IN_NETWORK", level)] = balance.deductible_in_network_minor
        spent[("deductible", "OUT_OF_NETWORK", level)] = balance.deductible_out_of_network_minor
        spent[("out_of_pocket", "IN_NETWORK", level)] = balance.out_of_pocket_in_network_minor
        spent[("out_of_pocket", "OUT_OF_NETWORK", level)] = balance.out_of_pocket_out_of_network_minor
    return spent


def _year_after(day: date) -> date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _remaining(kind: str, value: rules.Accumulator, spent: dict[tuple[str, str, str], int]) -> rules.Accumulator:
    individual = value.individual_remaining.amount - spent.get((kind, value.network, "individual"), 0)
    family = value.family_remaining.amount - spent.get((kind, value.network, "family"), 0)
    currency = value.individual.currency
    return rules.Accumulator(
        value.network,
        value.individual,
        Money(max(0, min(individual, family)), currency),
        value.family,
        Money(max(0, family), currency),
    )


def _subject(tenant_id: uuid.UUID, party_id: uuid.UUID) -> str:
    return f"elig:{tenant_id}:{party_id}"


def _row(record: CoverageRecord) -> rules.CoverageRow:
    return rules.CoverageRow(
        policy_id=record.policy_id,
        account_id=record.account_id,
        party_id=record.party_id,
        subscriber_party_id=record.subscriber_party_id,
        market=record.market,
        policy_status=record.policy_status,
        relationship=record.relationship,
        member_number=record.member_number,
        plan_id=record.plan_id,
        plan_code=record.plan_code,
        coverage_type=record.coverage_type,
        valid_from=record.valid_from,
        valid_to=record.valid_to,
    )


class Facts(NamedTuple):
    """What every check reads of its answer (the audit record's status, the verified event's fields),
    kept in the cache beside the answer's bytes instead of the parsed document: a few flat values
    the cyclic garbage collector never has to walk (see ``olly.platform.cache.Cache``)."""

    member_id: str | None
    covered: bool
    status: str
    plan_id: str | None
    group_id: str | None
    coverage_start: str | None
    coverage_end: str | None
    currency: str
    deductible_remaining: str | None
    out_of_pocket_remaining: str | None


def _in_network_remaining(document: dict[str, Any], name: str) -> str | None:
    found = next((a for a in document.get(name) or () if a["network"] == "IN_NETWORK"), None)
    return None if found is None else found["individual_remaining"]


def facts_of(document: dict[str, Any]) -> Facts:
    return Facts(
        member_id=document["member_id"],
        covered=document["covered"],
        status=document["status"],
        plan_id=document.get("plan_id"),
        group_id=document.get("group_id"),
        coverage_start=document.get("coverage_start"),
        coverage_end=document.get("coverage_end"),
        currency=document.get("currency", "USD"),
        deductible_remaining=_in_network_remaining(document, "deductible"),
        out_of_pocket_remaining=_in_network_remaining(document, "out_of_pocket"),
    )


def _cached_facts(document: dict[str, Any]) -> tuple[Any, ...]:
    """The facts as the cache keeps them: a plain tuple of strings and flags, which the collector
    stops tracking (a named tuple it would keep walking)."""
    return tuple(facts_of(document))


@dataclass(frozen=True, slots=True)
class Answer:
    """An eligibility answer: its serialised bytes (what is sent) and its ``facts``; ``refresh_due``
    when it came from the cache close to expiring. ``document`` is the whole answer, parsed from the
    bytes unless it was just computed."""

    facts: Facts
    body: bytes
    refresh_due: bool = False
    computed: dict[str, Any] | None = None

    @classmethod
    def of(cls, document: dict[str, Any], body: bytes | None = None) -> Answer:
        return cls(facts_of(document), json_bytes(document) if body is None else body, computed=document)

    @property
    def document(self) -> dict[str, Any]:
        return dict(self.computed) if self.computed is not None else dict(json.loads(self.body))


def answer_key(cache: Cache, tenant_id: uuid.UUID, party_id: uuid.UUID, on: date, service_type: str) -> str:
    """The cache key of one answer: the person's current generation, the date and the service type
    (any coverage change for the person bumps the generation, abandoning every such key)."""
    subject = _subject(tenant_id, party_id)
    return f"{subject}:{cache.generation(subject)}:{on.isoformat()}:{service_type.upper()}"


def cached_answer(cache: Cache, key: str) -> Answer | None:
    """The fast path's first step, before any unit of work is opened."""
    found = cache.lookup_document(key, _cached_facts)
    if found is None:
        return None
    (facts, body), left = found
    return Answer(Facts._make(facts), body, refresh_due=left < REFRESH_AHEAD_SECONDS)


def refresh_answer(
    db: Database,
    cache: Cache,
    tenant_id: uuid.UUID,
    party_id: uuid.UUID,
    on: date,
    service_type: str,
    benefits: BenefitSource,
) -> None:
    """Ask the background refresher to recompute an answer that is about to expire."""

    def recompute() -> None:
        key = answer_key(cache, tenant_id, party_id, on, service_type)
        with db.unit_of_work(tenant_id, read_only=True) as uow:
            answer(uow, party_id, on, service_type, benefits, cache, key)

    shared_refresher().request(f"{_subject(tenant_id, party_id)}:{on.isoformat()}:{service_type.upper()}", recompute)


def answer(
    uow: UnitOfWork,
    party_id: uuid.UUID,
    on: date,
    service_type: str,
    benefits: BenefitSource,
    cache: Cache | None = None,
    key: str | None = None,
) -> Answer:
    """Compute the answer from the read model and keep it under ``key`` (from ``answer_key``, taken
    before the read so that an invalidation during the read makes the entry unreachable).

    The decision point's facts about the person (their group accounts) come from the same rows:
    they are kept too, under the same generation, so that refreshing an answer refreshes them."""
    records = EligibilityRepository(uow).records_of(party_id)
    rows = [_row(r) for r in records]
    document = _render(uow, rules.decide(rows, on), party_id, on, service_type, benefits)
    if cache is None or key is None:
        return Answer.of(document)
    ttl = answer_ttl()
    generation_prefix = ":".join(key.split(":", 4)[:4])  # elig:<tenant>:<party>:<generation>
    groups = tuple(sorted({str(r.account_id) for r in rows if r.market == "GROUP"}))
    cache.set(f"{generation_prefix}:groups", groups, ttl)
    return Answer.of(document, cache.set_document(key, document, ttl, _cached_facts))


def check(
    uow: UnitOfWork,
    party_id: uuid.UUID,
    on: date,
    service_type: str,
    benefits: BenefitSource,
    cache: Cache | None = None,
) -> dict[str, Any]:
    """The eligibility answer for one person, date and service type, as a JSON-ready document."""
    key = None
    if cache is not None:
        key = answer_key(cache, uow.require_tenant(), party_id, on, service_type)
        hit = cached_answer(cache, key)
        if hit is not None:
            return hit.document
    return answer(uow, party_id, on, service_type, benefits, cache, key).document


def group_accounts(
    db: Database, tenant_id: uuid.UUID, party_id: uuid.UUID, load: Callable[[UnitOfWork], Iterable[uuid.UUID]]
) -> frozenset[uuid.UUID]:
    """The person's group accounts for the policy decision point (``access.py`` loads them),
    cached like the answers and abandoned with them when the person's coverage changes."""
    cache = shared_cache(db.settings.redis_url)
    subject = _subject(tenant_id, party_id)

    def fill() -> frozenset[uuid.UUID]:
        key = f"{subject}:{cache.generation(subject)}:groups"
        with db.unit_of_work(tenant_id, read_only=True) as uow:
            groups = frozenset(load(uow))
        cache.set(key, tuple(sorted(str(g) for g in groups)), answer_ttl())
        return groups

    hit = cache.lookup(f"{subject}:{cache.generation(subject)}:groups")
    if hit is not None and isinstance(hit[0], (list, tuple)):  # a tuple in memory, a list from Redis's JSON
        if hit[1] < REFRESH_AHEAD_SECONDS:
            shared_refresher().request(f"{subject}:groups", fill)
        return frozenset(uuid.UUID(g) for g in hit[0])
    return fill()


def find_member(uow: UnitOfWork, member_number: str, birth_date: date, family_name: str) -> uuid.UUID | None:
    """The person a provider describes by member number, date of birth and family name (all three
    must match, through blind indexes; a partial match is no match)."""
    candidates = {r.party_id for r in EligibilityRepository(uow).records_by_member_number(member_number)}
    if not candidates:
        return None
    matching = {p.party_id for p in people.find_people(uow, family_name=family_name, birth_date=birth_date)}
    found = candidates & matching
    return next(iter(found)) if len(found) == 1 else None


def _money(value: Any) -> str:
    return str(value.to_decimal_string())


def _render(
    uow: UnitOfWork,
    decision: rules.Decision,
    party_id: uuid.UUID,
    on: date,
    service_type: str,
    benefits: BenefitSource,
) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "member_id": str(party_id),
        "service_date": on.isoformat(),
        "service_type": service_type.upper(),
        "covered": decision.covered,
        "status": decision.reason,
    }
    row = decision.row
    if row is None:
        return answer
    answer.update(
        {
            "member_number": row.member_number,
            "relationship": row.relationship,
            "policy_id": str(row.policy_id),
            "group_id": str(row.account_id) if row.market == "GROUP" else None,
            "plan_id": str(row.plan_id),
            "plan_code": row.plan_code,
            "coverage_type": row.coverage_type,
            "coverage_start": row.valid_from.isoformat(),
            "coverage_end": row.valid_to.isoformat() if row.valid_to else None,
        }
    )
    if not decision.covered:
        return answer
    plan = benefits.benefits(uow, row.plan_code, on, row)
    if plan is None:
        return answer
    service = rules.service_benefit(plan, service_type)
    answer["plan_name"] = plan.plan_name
    answer["plan_type"] = plan.plan_type
    answer["currency"] = plan.currency
    answer["network_tier"] = "IN_NETWORK"
    answer["service"] = {
        "category": service.category,
        "covered": service.covered,
        "requires_prior_auth": service.requires_prior_auth,
        "in_network": _share(service.in_network),
        "out_of_network": _share(service.out_of_network),
    }
    spent = _spent(uow, row, on)
    answer["deductible"] = [_accumulator(_remaining("deductible", a, spent)) for a in plan.deductibles]
    answer["out_of_pocket"] = [_accumulator(_remaining("out_of_pocket", a, spent)) for a in plan.out_of_pocket]
    return answer


def _share(share: rules.CostShareView | None) -> dict[str, Any] | None:
    if share is None:
        return None
    return {
        "copay": _money(share.copay),
        "coinsurance_percent": str(share.coinsurance_percent),
        "deductible_applies": share.deductible_applies,
    }


def _accumulator(value: rules.Accumulator) -> dict[str, Any]:
    return {
        "network": value.network,
        "individual": _money(value.individual),
        "individual_remaining": _money(value.individual_remaining),
        "family": _money(value.family),
        "family_remaining": _money(value.family_remaining),
    }
