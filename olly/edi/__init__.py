"""X12 5010 EDI: streaming tokenizer, implementation-guide validation, acknowledgements, mappers.

The toolkit exported here is pure and database-free: frozen dataclasses in and out, only
``olly.kernel`` imported. The gateway (``service``, ``api``, ``folders``, ``ports`` …) is in its own
modules and is not imported by this package. The toolkit's entry points:

* reading a partner file: ``check`` (pass 1: validation report) → ``acknowledge`` (TA1/999) →
  ``transactions`` (pass 2: ``ClaimSubmission``, ``EnrollmentChange``, ``EligibilityInquiry``,
  ``StatusInquiry`` of the accepted sets, in file order, constant memory);
* answering: ``write_277ca``, ``write_271``, ``write_277``, ``write_835`` / ``write_payment_run``;
  sending: ``write_834``.
"""

from olly.edi.acks import Acknowledgments, acknowledge
from olly.edi.claim_ack import AcknowledgedClaim, ClaimAcknowledgment, write_277ca
from olly.edi.claims import ClaimOptions, ClaimProblem, ClaimSubmission, Diagnosis, ServiceLine, is_valid_npi
from olly.edi.codes import TransactionKind
from olly.edi.eligibility import Benefit, EligibilityAnswer, EligibilityInquiry, Person, coverage_benefits, write_271
from olly.edi.enrollment import (
    CoverageChange,
    EnrollmentChange,
    EnrollmentFile,
    EnrollmentMember,
    Maintenance,
    MemberCoverage,
    write_834,
)
from olly.edi.inbound import InboundResult, InboundTransaction, check, read_all, transactions
from olly.edi.remittance import (
    Adjustment,
    LineOutcome,
    PayeeInfo,
    PayeeRemittance,
    PayerInfo,
    Payment,
    ProviderAdjustment,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
    balance_errors,
    remittance_claim,
    write_835,
    write_payment_run,
)
from olly.edi.status import ClaimStatus, StatusAnswer, StatusInquiry, write_277
from olly.edi.syntax import Delimiters, Segment, SegmentReader, X12SyntaxError, read_segments
from olly.edi.validate import (
    InMemoryInterchangeStore,
    InterchangeStore,
    Origin,
    ValidationReport,
    validate,
)
from olly.edi.writer import ControlNumbers, EnvelopeSettings, InMemoryControlNumbers, Interchange, Party

__all__ = [
    "AcknowledgedClaim",
    "Acknowledgments",
    "Adjustment",
    "Benefit",
    "ClaimAcknowledgment",
    "ClaimOptions",
    "ClaimProblem",
    "ClaimStatus",
    "ClaimSubmission",
    "ControlNumbers",
    "CoverageChange",
    "Delimiters",
    "Diagnosis",
    "EligibilityAnswer",
    "EligibilityInquiry",
    "EnrollmentChange",
    "EnrollmentFile",
    "EnrollmentMember",
    "EnvelopeSettings",
    "InMemoryControlNumbers",
    "InMemoryInterchangeStore",
    "InboundResult",
    "InboundTransaction",
    "Interchange",
    "InterchangeStore",
    "LineOutcome",
    "Maintenance",
    "MemberCoverage",
    "Origin",
    "Party",
    "PayeeInfo",
    "PayeeRemittance",
    "PayerInfo",
    "Payment",
    "Person",
    "ProviderAdjustment",
    "Remittance",
    "RemittanceClaim",
    "RemittanceLine",
    "Segment",
    "SegmentReader",
    "ServiceLine",
    "StatusAnswer",
    "StatusInquiry",
    "TransactionKind",
    "ValidationReport",
    "X12SyntaxError",
    "acknowledge",
    "balance_errors",
    "check",
    "coverage_benefits",
    "is_valid_npi",
    "read_all",
    "read_segments",
    "remittance_claim",
    "transactions",
    "validate",
    "write_271",
    "write_277",
    "write_277ca",
    "write_834",
    "write_835",
    "write_payment_run",
]
