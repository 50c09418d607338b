"""The resource kinds routes act on, and the actions on them (``<kind>.<verb>``).

Every policy a route declares names one of these actions; an unknown action fails at import time,
so a typo can never become an unguarded route. A domain that needs a new kind adds it here and
grants it in ``rules.GRANTS`` — the one place that says who may do what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

READ: Final = "read"
WRITE: Final = "write"


@dataclass(frozen=True, slots=True)
class ResourceKind:
    name: str
    description: str
    phi: bool
    """Holds PHI (or personal data treated like it): every allowed access is audited, not only refusals."""
    clinical: bool = False
    """Reveals care received (claims, diagnoses, authorisations): never visible to employers."""
    verbs: tuple[str, ...] = (READ, WRITE)


_KINDS: Final[tuple[ResourceKind, ...]] = (
    ResourceKind(
        "party",
        "a person's (or organisation's) demographics and contact details; ``create`` registers a new one",
        phi=True,
        verbs=(READ, WRITE, "create"),
    ),
    ResourceKind("member", "a covered person's membership (subscriber or dependent)", phi=True),
    ResourceKind("eligibility", "coverage on a date: eligibility and benefits answers", phi=True),
    ResourceKind(
        "enrollment",
        "enrollment transactions and coverage elections; ``purchase`` is a member buying an individual-market "
        "policy for themselves (and people already covered with them)",
        phi=True,
        verbs=(READ, WRITE, "purchase"),
    ),
    ResourceKind("roster", "an employer group's list of covered employees and dependents", phi=True),
    ResourceKind(
        "underwriting",
        "medical-underwriting findings on the people of a policy: declared conditions, waiting periods, loadings",
        phi=True,
        clinical=True,
    ),
    ResourceKind(
        "customer_account",
        "an employer group or household account (the billing entity) and the roles people hold on it",
        phi=True,
    ),
    ResourceKind("id_card", "a member's ID card", phi=True),
    ResourceKind("accumulator", "deductible and out-of-pocket totals of a member", phi=True, clinical=True),
    ResourceKind(
        "claim",
        "a claim, its lines, diagnoses and adjudication; ``decide`` settles a pended line (examiners)",
        phi=True,
        clinical=True,
        verbs=(READ, WRITE, "decide"),
    ),
    ResourceKind("remittance", "payment advice to a provider (835)", phi=True, clinical=True),
    ResourceKind(
        "prior_auth",
        "a prior authorisation request and decision; ``decide`` approves or denies it",
        phi=True,
        clinical=True,
        verbs=(READ, WRITE, "decide"),
    ),
    ResourceKind(
        "appeal",
        "an appeal of a claim determination; ``decide`` upholds or overturns it",
        phi=True,
        clinical=True,
        verbs=(READ, WRITE, "decide"),
    ),
    ResourceKind("eob", "an explanation of benefits", phi=True, clinical=True),
    ResourceKind("cobra_notice", "a COBRA election notice letter to one qualified beneficiary", phi=True),
    ResourceKind("edi_file", "an X12 interchange received or sent", phi=True, clinical=True),
    ResourceKind("transaction", "the status of an asynchronous submission", phi=True),
    ResourceKind("invoice", "a premium invoice of a group or household", phi=True),
    ResourceKind("payment", "a premium payment", phi=True),
    ResourceKind(
        "payee_bank_account",
        "the bank account a provider's EFT payments go to (answered masked: the last four digits)",
        phi=True,
    ),
    ResourceKind("plan", "a benefit plan and its schedule", phi=False),
    ResourceKind("provider", "a provider's directory and network record", phi=False),
    ResourceKind(
        "provider_directory",
        "the fields of a provider's directory listing its own users may keep current: languages, "
        "accepting new patients, locations",
        phi=False,
    ),
    ResourceKind(
        "credentialing",
        "a practitioner's credentialing file; ``apply`` is the practitioner's part (open a request, add "
        "documents, submit the application), ``write`` the credentialing staff's (verifications, decisions)",
        phi=True,
        verbs=(READ, WRITE, "apply"),
    ),
    ResourceKind("contract", "a provider contract and fee schedule", phi=False),
    ResourceKind(
        "fee_schedule",
        "a fee schedule named by its code, as ``contract.*`` routes locate it: it belongs to the providers "
        "whose contracts price with it",
        phi=False,
        verbs=(READ,),
    ),
    ResourceKind("notification", "a message in a member's in-app inbox (claims, premiums, coverage)", phi=True),
    ResourceKind("consent", "consent records: communications, app sharing, confidential communications", phi=True),
    ResourceKind(
        "deletion_request",
        "a request to erase a person's data, and its report",
        phi=True,
        verbs=(READ, WRITE, "process"),
    ),
    ResourceKind("account", "a sign-in account (e-mail, phone, MFA)", phi=True, verbs=(READ, WRITE, "manage")),
    ResourceKind("session", "the caller's own session and tokens", phi=False),
    ResourceKind(
        "code_set",
        "reference code sets (ICD-10-CM, HCPCS): public data, read by any signed-in role",
        phi=False,
        verbs=(READ,),
    ),
    ResourceKind("api_client", "a trading partner's API client", phi=False),
    ResourceKind("break_glass", "emergency access grants and their review", phi=True, verbs=(READ, WRITE, "review")),
    ResourceKind("audit_log", "the audit trail", phi=True, verbs=(READ,)),
    ResourceKind("bus", "the event backbone's status: transport, counters, consumer lag", phi=False, verbs=(READ,)),
    ResourceKind(
        "dead_letter",
        "events no consumer could handle, with their original payloads; ``redrive`` sends one back",
        phi=True,
        verbs=(READ, "redrive"),
    ),
)

RESOURCE_KINDS: Final[dict[str, ResourceKind]] = {k.name: k for k in _KINDS}


@dataclass(frozen=True, slots=True)
class Action:
    kind: ResourceKind
    verb: str

    @property
    def name(self) -> str:
        return f"{self.kind.name}.{self.verb}"

    @property
    def is_read(self) -> bool:
        return self.verb == READ


def parse_action(action: str) -> Action:
    """``"claim.read"`` → the claim kind and the read verb; anything unknown raises ``ValueError``."""
    kind_name, _, verb = action.partition(".")
    kind = RESOURCE_KINDS.get(kind_name)
    if kind is None:
        raise ValueError(f"unknown resource kind in action {action!r}; declare it in olly/platform/auth/catalog.py")
    if verb not in kind.verbs:
        raise ValueError(f"unknown verb in action {action!r}; {kind.name} allows {', '.join(kind.verbs)}")
    return Action(kind, verb)
