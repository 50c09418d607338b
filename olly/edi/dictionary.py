"""The X12 element dictionary for the segments Olly's guides use: type, length, mandatory.

One line per segment, one token per element: ``!`` marks an element the standard makes mandatory,
then the type (AN, ID, DT, TM, R, N0…N9) and ``min-max`` length, ``xN`` when it may repeat; a
composite is ``C[...]`` with its components separated by commas. ``-`` is an element the 5010
health care guides never use. Guide-specific rules (qualifier codes, guide-required elements) are
written in the guides themselves.
"""

from __future__ import annotations

import re
from typing import Final

from olly.edi.grammar import ElementRule

_TOKEN = re.compile(r"^(!?)(AN|ID|DT|TM|R|N\d)(\d+)-(\d+)(?:x(\d+))?$")

# Composites used by several segments.
_C003 = "C[!ID2-2,!AN1-48,AN2-2,AN2-2,AN2-2,AN2-2,AN1-80,AN1-48]"  # composite medical procedure
_C022 = "C[!ID1-3,!AN1-30,ID2-3,AN1-35,R1-18,R1-15,AN1-30,AN1-30,ID1-1]"  # health care code info
_C023 = "C[!AN1-2,ID1-2,ID1-1]"  # place of service / frequency
_C040 = "C[!ID2-3,!AN1-50,ID2-3,AN1-50,ID2-3,AN1-50]"  # reference identifier
_C004 = "C[!N01-2,N01-2,N01-2,N01-2]"  # diagnosis code pointer
_C035 = "C[!ID1-2,!AN1-50,ID1-2]"  # provider specialty
_C043 = "C[!AN1-30,!AN1-30,ID2-3,AN1-30]"  # health care claim status
_C056 = "C[ID1-2,ID1-3,AN1-30]"  # composite race or ethnicity information

_SEGMENTS: Final[dict[str, str]] = {
    # envelopes
    "ST": "!ID3-3 !AN4-9 AN1-35",
    "SE": "!N01-10 !AN4-9",
    "BHT": "!ID4-4 !ID2-2 AN1-50 DT8-8 TM4-8 ID2-2",
    # names, addresses, references
    "NM1": "!ID2-3 !ID1-1 AN1-60 AN1-35 AN1-25 AN1-10 AN1-10 ID1-2 AN2-80 ID2-2 ID2-3 AN1-60",
    "N1": "!ID2-3 AN1-60 ID1-2 AN2-80 ID2-2 ID2-3",
    "N3": "!AN1-55 AN1-55",
    "N4": "AN2-30 ID2-2 ID3-15 ID2-3 ID1-2 AN1-30 ID1-3",
    "REF": f"!ID2-3 !AN1-50 AN1-80 {_C040}",
    "PER": "!ID2-2 AN1-60 ID2-2 AN1-256 ID2-2 AN1-256 ID2-2 AN1-256 AN1-20",
    "PRV": f"!ID1-3 ID2-3 AN1-50 ID2-2 {_C035} ID1-3",
    "CUR": "!ID2-3 !ID3-3 R4-10",
    "HL": "!AN1-12 AN1-12 !ID1-2 ID1-1",
    "DMG": f"ID2-3 AN1-35 ID1-1 ID1-1 {_C056}x10 ID1-2 ID2-3 ID1-2 R1-15 ID1-3 AN1-30",
    "DTP": "!ID3-3 !ID2-3 !AN1-35",
    "DTM": "!ID3-3 DT8-8 TM4-8 ID2-2 N01-2 ID2-3 AN1-35",
    "AMT": "!ID1-3 !R1-18 ID1-1",
    "QTY": "!ID2-2 R1-15 C[!ID2-2] AN1-30",
    "TRN": "!ID1-2 !AN1-50 AN10-10 AN1-50",
    "NTE": "ID3-3 !AN1-80",
    "PWK": "!ID2-2 ID1-2 N01-8 ID2-2 ID1-2 AN2-80 AN1-80 C[!ID2-2] ID1-1",
    "K3": "!AN1-80 ID1-1 C[ID2-2]",
    "LX": "!N01-6",
    "LS": "!AN1-4",
    "LE": "!AN1-4",
    # 837
    "SBR": "!ID1-1 ID2-2 AN1-50 AN1-60 ID1-3 ID1-1 ID1-1 ID2-2 ID1-2",
    "PAT": "ID2-2 ID1-2 ID2-2 ID2-2 ID2-3 AN1-35 ID2-2 R1-10 ID1-1",
    "CLM": (
        f"!AN1-38 R1-18 - - {_C023} ID1-1 ID1-1 ID1-1 ID1-1 ID1-1 C[!ID2-3,ID2-3,ID2-3,ID2-2,ID2-3] "
        "ID2-3 - - - - - - - ID1-2"
    ),
    "CN1": "!ID2-2 R1-18 R1-6 AN1-50 R1-6 AN1-30",
    "CR1": "ID2-2 R1-10 ID2-2 ID1-2 ID2-2 R1-15 AN1-35 AN1-35 AN1-80 AN1-80",
    "CR2": "N01-9 R1-15 - - ID2-2 R1-15 R1-15 ID1-2 ID1-1 AN1-80 AN1-80 ID1-1",
    "CR3": "ID1-1 ID2-2 R1-15 - AN1-80",
    "CRC": "!ID2-2 !ID1-1 !ID2-3 ID2-3 ID2-3 ID2-3 ID2-3",
    "HI": " ".join([_C022] * 12),
    "HCP": "!ID2-2 R1-18 R1-18 AN1-50 R1-9 AN1-50 R1-18 ID2-2 AN1-48 ID2-2 R1-15 ID1-2 ID1-2 ID1-2 ID1-2",
    "CAS": "!ID1-2 !ID1-5 !R1-18 R1-15 ID1-5 R1-18 R1-15 ID1-5 R1-18 R1-15 ID1-5 R1-18 R1-15 ID1-5 R1-18 "
    "R1-15 ID1-5 R1-18 R1-15",
    "OI": "ID2-2 ID2-2 ID1-1 ID1-1 ID1-1 ID1-1",
    "MOA": "R1-10 R1-18 AN1-50 AN1-50 AN1-50 AN1-50 AN1-50 R1-18 R1-18",
    "MIA": "!R1-15 R1-18 R1-15 R1-18 AN1-50 R1-18 R1-18 R1-18 R1-18 R1-18 R1-18 R1-18 R1-18 R1-18 R1-18 "
    "R1-18 R1-18 R1-18 R1-18 AN1-50 AN1-50 AN1-50 AN1-50 R1-18",
    "SV1": f"!{_C003} !R1-18 ID2-2 R1-15 AN1-2 - {_C004} - ID1-1 - ID1-1 ID1-1 - - ID1-1 ID1-2 - - - R1-18 ID1-1",
    "SV2": f"AN1-48 {_C003} R1-18 ID2-2 R1-15 R1-10 R1-18 ID1-1 - ID1-1",
    "SV5": f"!{_C003} !ID2-2 !R1-15 R1-18 R1-18 ID1-1 N01-4",
    "CL1": "ID1-1 ID1-1 ID1-2 ID1-2",
    "MEA": "ID2-2 ID1-3 R1-20 - - - - - - - AN1-4 - - -",
    "PS1": "!AN1-50 !R1-18 ID2-2",
    "LIN": "AN1-20 !ID2-2 !AN1-48",
    "CTP": "ID2-2 ID3-3 R1-17 R1-15 C[!ID2-2] ID3-3 R1-10 R1-15 AN1-20 ID1-2 R1-10",
    "SVD": f"!AN2-80 !R1-18 {_C003} AN1-48 R1-15 N01-6",
    "LQ": "ID1-3 AN1-30",
    "FRM": "!AN1-20 ID1-1 AN1-50 DT8-8 R1-6",
    # 834
    "BGN": "!ID2-2 !AN1-50 !DT8-8 !TM4-8 ID2-2 AN1-50 ID2-2 ID1-2 ID1-2",
    "ACT": "!AN1-35 AN1-60 ID2-2 AN2-80 ID1-3 AN1-35 C[!ID2-2]",
    "INS": "!ID1-1 !ID2-2 ID3-3 ID2-3 ID1-1 C[!ID1-1,ID1-3] ID1-2 ID2-2 ID1-1 ID1-1 ID2-3 AN1-35 ID1-1 ID1-3 ID1-3 "
    "ID1-1 N01-9",
    "EC": "ID1-2 ID2-2 ID1-2 - -",
    "ICM": "!ID1-1 R1-18 R1-15 AN1-30 ID1-1 ID2-3",
    "HLH": "ID1-1 R1-8 R1-10 R1-10",
    "LUI": "ID1-2 AN2-80 AN1-60 ID1-2 N01-2",
    "DSB": "!ID1-1 R1-15 ID2-2 ID4-6 ID2-2 R1-18 ID1-2 AN1-30",
    "HD": "!ID3-3 - ID2-3 AN1-50 ID3-3 - - ID1-1 ID1-1 ID2-3 ID1-1",
    "IDC": "!AN1-50 !ID1-1 R1-15 ID1-1",
    "COB": "ID1-1 AN1-50 ID1-1 ID1-2x5",
    # 270 / 271
    "EQ": "ID1-2x99 C[!ID2-2,!AN1-48,AN2-2,AN2-2,AN2-2,AN2-2,AN1-80,AN1-48] ID3-3 ID1-3 C[!AN1-3,AN1-3,AN1-3,AN1-3]",
    "III": "ID1-3 AN1-30 ID1-3 AN1-264 R1-15 C[!AN1-2,ID1-2,ID1-1] AN1-80 ID1-2 AN1-3",
    "EB": "!ID1-2 ID3-3 ID1-2x99 ID1-3 AN1-50 ID1-2 R1-18 R1-10 ID1-2 R1-15 ID1-1 ID1-1 "
    "C[!ID2-2,!AN1-48,AN2-2,AN2-2,AN2-2,AN2-2,AN1-80,AN1-48] C[!N01-2,N01-2,N01-2,N01-2]",
    "HSD": "ID2-2 R1-15 ID2-2 R1-6 ID1-2 N01-3 ID1-1 ID1-1",
    "MSG": "!AN1-264 ID2-2 N01-9",
    "AAA": "!ID1-1 ID2-2 ID2-2 ID1-1",
    "MPI": "!ID1-1 !ID2-2 !ID1-2 AN1-80 ID1-2 ID1-2 AN1-35",
    # 276 / 277
    "STC": f"!{_C043} DT8-8 ID1-2 R1-18 R1-18 DT8-8 ID1-2 DT8-8 AN1-16 {_C043} {_C043} AN1-264",
    "SVC": f"!{_C003} !R1-18 R1-18 AN1-48 R1-15 {_C003} R1-15",
}


def _rule(token: str) -> ElementRule:
    if token == "-":  # noqa: S105 - the "not used" marker, not a secret
        return ElementRule("AN", 1, 264, not_used=True)
    if token.startswith(("C[", "!C[")):
        required = token.startswith("!")
        body, _, suffix = token[token.index("[") + 1 :].rpartition("]")
        repeat = int(suffix[1:]) if suffix.startswith("x") else 1
        components = tuple(_rule(part) for part in body.split(","))
        return ElementRule("C", 0, 0, required, None, components, repeat)
    match = _TOKEN.match(token)
    if match is None:
        raise ValueError(f"bad dictionary token {token!r}")
    mandatory, kind, low, high, repeats = match.groups()
    return ElementRule(kind, int(low), int(high), bool(mandatory), None, (), int(repeats or 1))


def _parse(spec: str) -> tuple[ElementRule, ...]:
    return tuple(_rule(token) for token in spec.split())


DICTIONARY: Final[dict[str, tuple[ElementRule, ...]]] = {
    segment_id: _parse(spec) for segment_id, spec in _SEGMENTS.items()
}
