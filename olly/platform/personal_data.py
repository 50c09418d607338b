"""Finding, pseudonymising and deleting one person's data across every domain.

A deletion request (``olly.consent``) must find every record of a person, keep what the law
requires by pseudonymising it, and delete the rest. No domain's tables are read from outside it,
so each domain that holds personal data registers a ``PersonalDataHandler``::

    class ClaimsPersonalData:                           # olly/claims/personal_data.py
        domain = "claims"

        def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]:
            return [PersonalDataItem("claims", "claim", str(c.id), RecordCategory.CLAIM, c.received_on)
                    for c in repository.claims_of_party(uow.session, subject.party_id)]

        def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
            ...  # drop names/contact details, replace the party id with subject.pseudonym

        def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None:
            ...

    registry.register(ClaimsPersonalData())

The deletion service calls ``find`` on every handler, decides per item (retention rules in
``olly.consent.rules``) and then calls ``pseudonymise`` and ``delete`` with the items it chose,
all in one unit of work: either the whole request is carried out or nothing is.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from olly.platform.db import UnitOfWork


class RecordCategory(StrEnum):
    """What a record is, which decides how long the law makes Olly keep it."""

    CLAIM = "claim"
    ENROLLMENT = "enrollment"
    BILLING = "billing"
    PRIOR_AUTH = "prior_auth"
    CORRESPONDENCE = "correspondence"
    CONSENT = "consent"
    ACCOUNT = "account"
    CONTACT = "contact"
    ACCESS_LOG = "access_log"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class DataSubject:
    tenant_id: uuid.UUID
    party_id: uuid.UUID
    pseudonym: uuid.UUID
    """A random id that replaces the party id in what is kept: stable within one request."""


@dataclass(frozen=True, slots=True)
class PersonalDataItem:
    domain: str
    record_type: str
    record_id: str
    category: RecordCategory
    record_date: date
    """The date retention runs from (service date of a claim, end of an enrollment, …)."""
    description: str = ""
    """What the record holds, in words without PHI (shown in the report)."""


class PersonalDataHandler(Protocol):
    domain: str

    def find(self, uow: UnitOfWork, subject: DataSubject) -> list[PersonalDataItem]: ...

    def pseudonymise(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None: ...

    def delete(self, uow: UnitOfWork, subject: DataSubject, items: list[PersonalDataItem]) -> None: ...


def ids_by_type(items: Iterable[PersonalDataItem]) -> defaultdict[str, list[uuid.UUID]]:
    """The items' record ids by record type, for a handler whose record ids are UUIDs (an id that is
    not one names no record of it and is passed over)."""
    grouped: defaultdict[str, list[uuid.UUID]] = defaultdict(list)
    for item in items:
        try:
            record_id = uuid.UUID(item.record_id)
        except ValueError:
            continue
        grouped[item.record_type].append(record_id)
    return grouped


class PersonalDataRegistry:
    def __init__(self) -> None:
        self._handlers: dict[str, PersonalDataHandler] = {}

    def register(self, handler: PersonalDataHandler) -> None:
        if handler.domain in self._handlers:
            raise ValueError(f"a personal-data handler for {handler.domain!r} is already registered")
        self._handlers[handler.domain] = handler

    def handlers(self) -> list[PersonalDataHandler]:
        return [self._handlers[name] for name in sorted(self._handlers)]

    def get(self, domain: str) -> PersonalDataHandler | None:
        return self._handlers.get(domain)
