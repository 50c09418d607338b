"""Reading a partner's file: validation, acknowledgements and the transactions in it.

Two passes, each in constant memory:

1. ``check(source)`` tokenizes and validates everything (duplicate interchanges through the
   ``InterchangeStore``) and returns the ``ValidationReport`` the TA1/999 are built from.
2. ``transactions(source, report)`` reads the file again and yields, in file order, the
   ``ClaimSubmission`` / ``EnrollmentChange`` / ``EligibilityInquiry`` / ``StatusInquiry`` of the
   transaction sets that were accepted (set, group and interchange), nothing from rejected ones.

``read_all`` does both for small inputs (API bodies, tests).
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from olly.edi.claims import ClaimMapper, ClaimOptions, ClaimSubmission
from olly.edi.codes import TransactionKind
from olly.edi.eligibility import EligibilityInquiry, EligibilityInquiryMapper
from olly.edi.enrollment import EnrollmentChange, EnrollmentMapper
from olly.edi.status import StatusInquiry, StatusInquiryMapper
from olly.edi.syntax import SegmentReader, X12SyntaxError
from olly.edi.validate import (
    InterchangeStore,
    SetContext,
    TransactionHandler,
    ValidationReport,
    Validator,
    validate,
)

InboundTransaction = ClaimSubmission | EnrollmentChange | EligibilityInquiry | StatusInquiry
Source = str | os.PathLike[str] | bytes
T = TypeVar("T")


def check(
    source: Source | BinaryIO,
    *,
    store: InterchangeStore | None = None,
    receiver_ids: Iterable[str] | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> ValidationReport:
    """Pass 1: validate the whole file (never raises on bad content)."""
    return validate(source, store=store, receiver_ids=receiver_ids, on_progress=on_progress)


def _handler_factory(
    emit: Callable[[InboundTransaction], None],
    accepted: set[tuple[str, str, str]] | None,
    options: ClaimOptions,
) -> Callable[[SetContext], TransactionHandler | None]:
    def factory(context: SetContext) -> TransactionHandler | None:
        key = (context.interchange.control_number, context.group.control_number, context.report.control_number)
        if accepted is not None and key not in accepted:
            return None
        kind = context.kind
        if kind in (TransactionKind.CLAIM_PROFESSIONAL, TransactionKind.CLAIM_INSTITUTIONAL):
            return ClaimMapper(context, emit, options)
        if kind is TransactionKind.ENROLLMENT:
            return EnrollmentMapper(context, emit)
        if kind is TransactionKind.ELIGIBILITY_INQUIRY:
            return EligibilityInquiryMapper(context, emit)
        if kind is TransactionKind.STATUS_INQUIRY:
            return StatusInquiryMapper(context, emit, options.currency)
        return None

    return factory


def transactions(
    source: Source,
    report: ValidationReport,
    *,
    options: ClaimOptions | None = None,
    accepted_only: bool = True,
) -> Iterator[InboundTransaction]:
    """Pass 2: the transactions of the accepted sets (all sets when ``accepted_only`` is False)."""
    pending: deque[InboundTransaction] = deque()
    accepted = report.accepted_sets() if accepted_only else None
    if accepted is not None and not accepted:
        return
    # The elements were checked by pass 1 (whose report the acknowledgements answer): this pass only
    # follows the loops, for the mappers.
    validator = Validator(
        handlers=_handler_factory(pending.append, accepted, options or ClaimOptions()), check_elements=False
    )
    reader = SegmentReader(source)
    seen = None
    try:
        for segment in reader:
            if reader.delimiters is not seen:
                seen = reader.delimiters
                validator.use_delimiters(seen)
            validator.feed(segment)
            while pending:
                yield pending.popleft()
    except X12SyntaxError:
        # Pass 1 saw the same error; nothing after it was accepted.
        pass
    validator.finish()
    while pending:
        yield pending.popleft()


@dataclass(frozen=True, slots=True)
class InboundResult:
    report: ValidationReport
    transactions: tuple[InboundTransaction, ...]

    def of_type(self, kind: type[T]) -> list[T]:
        return [t for t in self.transactions if isinstance(t, kind)]


def read_all(
    source: Source,
    *,
    store: InterchangeStore | None = None,
    receiver_ids: Iterable[str] | None = None,
    options: ClaimOptions | None = None,
) -> InboundResult:
    """Both passes, collecting the transactions in memory: for small inputs."""
    report = check(source, store=store, receiver_ids=receiver_ids)
    return InboundResult(report, tuple(transactions(source, report, options=options)))
