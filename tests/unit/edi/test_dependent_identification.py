"""``identify_dependent``: which of a policy's dependents (of one relationship) an 834 member loop
without a known SSN is about, on plain data."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date

from olly.edi.enrollment import DependentMatch, KnownDependent, identify_dependent
from tests.unit.edi.test_reconcile import change

KIM = KnownDependent(uuid.UUID(int=1), "M-1", "KIM", "NGUYEN", date(2012, 4, 1))
MAI = KnownDependent(uuid.UUID(int=2), "M-2", "MAI", "NGUYEN", date(2012, 4, 1))  # KIM's twin
BAO = KnownDependent(uuid.UUID(int=3), "M-3", "BAO", "NGUYEN", date(2015, 9, 9))


def sent(
    first: str, born: date | None, reference: str | None = None, last: str = "NGUYEN"
) -> tuple[DependentMatch, uuid.UUID | None]:
    loop = replace(change(14, subscriber=False, first=first, last=last, born=born), member_reference=reference)
    return identify_dependent(loop, [KIM, MAI, BAO])


def test_name_and_birth_date_together_then_either_one() -> None:
    assert sent("KIM", date(2012, 4, 1)) == (DependentMatch.FOUND, KIM.party_id)  # the twin shares only the date
    assert sent(" bao ", date(2015, 9, 10)) == (DependentMatch.FOUND, BAO.party_id)  # birth date corrected
    assert sent("BAOLAN", date(2015, 9, 9)) == (DependentMatch.FOUND, BAO.party_id)  # name corrected
    assert sent("BAO", date(2015, 9, 9), last="TRAN") == (DependentMatch.FOUND, BAO.party_id)  # family name too


def test_two_candidates_are_ambiguous_and_none_is_none() -> None:
    assert sent("KIMMY", date(2012, 4, 1)) == (DependentMatch.AMBIGUOUS, None)  # either twin
    assert sent("KIM", date(2015, 9, 9)) == (DependentMatch.AMBIGUOUS, None)  # KIM by name, BAO by date
    assert sent("LAN", date(2000, 1, 1)) == (DependentMatch.NONE, None)
    assert sent("", None, last="") == (DependentMatch.NONE, None)


def test_a_member_number_decides_alone() -> None:
    assert sent("KIMMY", date(2012, 4, 1), "M-2") == (DependentMatch.FOUND, MAI.party_id)
    assert sent("KIM", date(2012, 4, 1), "M-9") == (DependentMatch.NONE, None)  # not overruled by the name
