"""The 5010 implementation guides Olly validates, written as loop trees (see ``olly.edi.grammar``).

Each tree follows its guide's loop and segment order, usage (R required, S situational), repeat
counts and the qualifier codes that tell same-id siblings apart. Where a guide lists many
qualifier-specific repeats of one segment (the 2300 DTPs, the REFs) they are folded into one node
with the union of codes and the summed maximum: the walker then still catches unknown codes,
wrong order between different segments, and required segments that never came.
"""

from __future__ import annotations

from typing import Final

from olly.edi.codes import TransactionKind
from olly.edi.dictionary import DICTIONARY
from olly.edi.grammar import REQUIRED as R
from olly.edi.grammar import SITUATIONAL as S
from olly.edi.grammar import UNBOUNDED as UN
from olly.edi.grammar import Guide, Loop, Seg, compile_guide, loop, seg

_PERSON_OR_ORG = {2: "1 2"}


def _st(reference: str, set_id: str) -> Seg:
    return seg("ST", R, q=(1, set_id), codes={3: reference}, require=(3,))


def _se() -> Seg:
    return seg("SE", R)


def _address() -> list[Seg | Loop]:
    return [seg("N3", R), seg("N4", R, require=(1, 2, 3))]


def _optional_address() -> list[Seg | Loop]:
    return [seg("N3", S), seg("N4", S, require=(1,))]


# -- 837P 005010X222A1 ---------------------------------------------------------------------------


def _provider_loop(loop_id: str, qualifiers: str, extra: list[Seg | Loop] | None = None, max_repeat: int = 1) -> Loop:
    return loop(
        loop_id,
        S,
        max_repeat,
        [seg("NM1", R, q=(1, qualifiers), codes=_PERSON_OR_ORG), *(extra or []), seg("REF", S, 20)],
    )


def _claim_2300(professional: bool) -> Loop:
    header: list[Seg | Loop] = [
        seg("CLM", R, require=(2, 5, 6, 7, 8, 9) if professional else (2, 5, 7, 8, 9)),
        seg("DTP", S, 30),
        seg("CL1", R if not professional else "N"),
        seg("PWK", S, 10),
        seg("CN1", S),
        seg("AMT", S, 3),
        seg("REF", S, 30),
        seg("K3", S, 10),
        seg("NTE", S, 10),
        seg("CR1", S),
        seg("CR2", S),
        seg("CRC", S, 8),
        seg("HI", R, 25),
        seg("HCP", S),
    ]
    if professional:
        providers: list[Seg | Loop] = [
            _provider_loop("2310A", "DN P3", max_repeat=2),
            _provider_loop("2310B", "82", [seg("PRV", S)]),
            loop("2310C", S, 1, [seg("NM1", R, q=(1, "77")), *_address(), seg("REF", S, 3), seg("PER", S)]),
            _provider_loop("2310D", "DQ"),
            loop("2310E", S, 1, [seg("NM1", R, q=(1, "PW")), *_address()]),
            loop("2310F", S, 1, [seg("NM1", R, q=(1, "45")), *_address()]),
        ]
        line: list[Seg | Loop] = [
            seg("LX", R),
            seg("SV1", R, require=(2, 3, 4, 7)),
            seg("SV5", S),
            seg("PWK", S, 10),
            seg("CR1", S),
            seg("CR3", S),
            seg("CRC", S, 3),
            seg("DTP", R, q=(1, "472"), codes={2: "D8 RD8"}),
            seg("DTP", S, 12, q=(1, "471 607 463 461 304 738 739 011 455 454 441 296 297 011 356 357 435 096")),
            seg("QTY", S, 2),
            seg("MEA", S, 5),
            seg("CN1", S),
            seg("REF", S, 20),
            seg("AMT", S, 2),
            seg("K3", S, 10),
            seg("NTE", S, 2),
            seg("PS1", S),
            seg("HCP", S),
            loop("2410", S, 1, [seg("LIN", R), seg("CTP", R), seg("REF", S)]),
            _provider_loop("2420A", "82", [seg("PRV", S)]),
            loop("2420B", S, 1, [seg("NM1", R, q=(1, "QB")), seg("REF", S, 20)]),
            loop("2420C", S, 1, [seg("NM1", R, q=(1, "77")), *_address(), seg("REF", S)]),
            _provider_loop("2420D", "DQ"),
            _provider_loop("2420E", "DK", [seg("N3", S), seg("N4", S), seg("PER", S)]),
            _provider_loop("2420F", "DN P3", max_repeat=2),
            loop("2420G", S, 1, [seg("NM1", R, q=(1, "PW")), *_address()]),
            loop("2420H", S, 1, [seg("NM1", R, q=(1, "45")), *_address()]),
            loop("2430", S, 15, [seg("SVD", R), seg("CAS", S, 5), seg("DTP", R, q=(1, "573")), seg("AMT", S)]),
            loop("2440", S, 20, [seg("LQ", R), seg("FRM", R, 99)]),
        ]
        max_lines = 50
    else:
        providers = [
            _provider_loop("2310A", "71", [seg("PRV", S)]),
            _provider_loop("2310B", "72"),
            _provider_loop("2310C", "ZZ"),
            _provider_loop("2310D", "82"),
            loop("2310E", S, 1, [seg("NM1", R, q=(1, "77")), *_address(), seg("REF", S, 3)]),
            _provider_loop("2310F", "DN"),
        ]
        line = [
            seg("LX", R),
            seg("SV2", R, require=(2, 3, 4, 5)),
            seg("PWK", S, 10),
            seg("DTP", S, q=(1, "472"), codes={2: "D8 RD8"}),
            seg("REF", S, 10),
            seg("AMT", S, 2),
            seg("NTE", S),
            seg("HCP", S),
            loop("2410", S, 1, [seg("LIN", R), seg("CTP", R), seg("REF", S)]),
            _provider_loop("2420A", "72"),
            _provider_loop("2420B", "ZZ"),
            _provider_loop("2420C", "82"),
            _provider_loop("2420D", "DN"),
            loop("2430", S, 15, [seg("SVD", R), seg("CAS", S, 5), seg("DTP", R, q=(1, "573")), seg("AMT", S)]),
        ]
        max_lines = 999
    other_subscriber = loop(
        "2320",
        S,
        10,
        [
            seg("SBR", R, q=(1, "A B C D E F G H P S T U")),
            seg("CAS", S, 5),
            seg("AMT", S, 3),
            seg("OI", R),
            seg("MIA", S),
            seg("MOA", S),
            loop("2330A", R, 1, [seg("NM1", R, q=(1, "IL")), seg("N3", S), seg("N4", S), seg("REF", S)]),
            loop(
                "2330B", R, 1, [seg("NM1", R, q=(1, "PR")), seg("N3", S), seg("N4", S), seg("DTP", S), seg("REF", S, 6)]
            ),
            loop("2330C", S, 2, [seg("NM1", R, q=(1, "DN P3 71")), seg("REF", R, 3)]),
            loop("2330D", S, 1, [seg("NM1", R, q=(1, "82 72")), seg("REF", R, 3)]),
            loop("2330E", S, 1, [seg("NM1", R, q=(1, "77 ZZ")), seg("REF", R, 3)]),
            loop("2330F", S, 1, [seg("NM1", R, q=(1, "DQ 82")), seg("REF", R, 3)]),
            loop("2330G", S, 1, [seg("NM1", R, q=(1, "85 DN")), seg("REF", R, 2)]),
            loop("2330H", S, 1, [seg("NM1", R, q=(1, "DN")), seg("REF", R, 2)]),
            loop("2330I", S, 1, [seg("NM1", R, q=(1, "85")), seg("REF", R, 2)]),
        ],
    )
    qualifier = "ABK BK ABF BF ABJ BJ APR PR ABN BN BBR BR CAH BBQ BQ BI BH BE BG TC BP BO"
    header[12] = seg("HI", R, 25, codes={1: qualifier})
    return loop("2300", S, 100, [*header, *providers, other_subscriber, loop("2400", R, max_lines, line)])


def _claim_guide(reference: str, professional: bool) -> Loop:
    patient = loop(
        "2000C",
        S,
        UN,
        [
            seg("HL", R, q=(3, "23"), require=(2,)),
            seg("PAT", R),
            loop("2010CA", R, 1, [seg("NM1", R, q=(1, "QC"), require=(3,)), *_address(), seg("DMG", R), seg("REF", S)]),
            _claim_2300(professional),
        ],
    )
    subscriber = loop(
        "2000B",
        R,
        UN,
        [
            seg("HL", R, q=(3, "22"), require=(2, 4)),
            seg("SBR", R, require=(1, 9)),
            seg("PAT", S),
            loop(
                "2010BA",
                R,
                1,
                [
                    seg("NM1", R, q=(1, "IL"), require=(3,)),
                    *_optional_address(),
                    seg("DMG", S),
                    seg("REF", S, 2),
                    seg("PER", S),
                ],
            ),
            loop(
                "2010BB",
                R,
                1,
                [seg("NM1", R, q=(1, "PR"), require=(3, 8, 9)), *_optional_address(), seg("REF", S, 5)],
            ),
            _claim_2300(professional),
            patient,
        ],
    )
    billing = loop(
        "2000A",
        R,
        UN,
        [
            seg("HL", R, q=(3, "20"), require=(4,)),
            seg("PRV", S),
            seg("CUR", S),
            loop(
                "2010AA",
                R,
                1,
                [
                    seg("NM1", R, q=(1, "85"), require=(3, 8, 9), codes={8: "XX"}),
                    *_address(),
                    seg("REF", R, 3),
                    seg("PER", S, 2),
                ],
            ),
            loop("2010AB", S, 1, [seg("NM1", R, q=(1, "87")), *_address()]),
            loop("2010AC", S, 1, [seg("NM1", R, q=(1, "PE")), *_optional_address(), seg("REF", S, 3)]),
            subscriber,
        ],
    )
    return loop(
        "",
        R,
        1,
        [
            _st(reference, "837"),
            seg("BHT", R, codes={1: "0019", 2: "00 18", 6: "31 CH RP"}, require=(3, 4, 5, 6)),
            loop("1000A", R, 1, [seg("NM1", R, q=(1, "41"), require=(3, 8, 9)), seg("PER", R, 2)]),
            loop("1000B", R, 1, [seg("NM1", R, q=(1, "40"), require=(3, 8, 9))]),
            billing,
            _se(),
        ],
    )


# -- 834 005010X220A1 ----------------------------------------------------------------------------


def _enrollment_guide() -> Loop:
    member = loop(
        "2000",
        R,
        UN,
        [
            seg("INS", R, require=(3, 5), codes={1: "Y N", 3: "001 021 024 025 030 032"}),
            seg("REF", R, q=(1, "0F")),
            seg("REF", S, q=(1, "1L")),
            seg("REF", S, 13, q=(1, "17 23 3H 4A 6O ABB D3 F6 P5 Q4 QQ ZZ DX")),
            seg("DTP", S, 24),
            loop(
                "2100A",
                R,
                1,
                [
                    seg("NM1", R, q=(1, "IL 74"), require=(3,)),
                    seg("PER", S),
                    seg("N3", S),
                    seg("N4", S),
                    seg("DMG", S),
                    seg("EC", S, UN),
                    seg("ICM", S),
                    seg("AMT", S, 7),
                    seg("HLH", S),
                    seg("LUI", S, UN),
                ],
            ),
            loop("2100B", S, 1, [seg("NM1", R, q=(1, "70")), seg("DMG", S)]),
            loop("2100C", S, 1, [seg("NM1", R, q=(1, "31")), *_address()]),
            loop("2100D", S, 3, [seg("NM1", R, q=(1, "36")), seg("PER", S), *_optional_address()]),
            loop("2100E", S, 3, [seg("NM1", R, q=(1, "M8")), seg("PER", S), *_optional_address()]),
            loop("2100F", S, 1, [seg("NM1", R, q=(1, "S3")), seg("PER", S), *_optional_address()]),
            loop(
                "2100G",
                S,
                13,
                [
                    seg("NM1", R, q=(1, "6Y 9K E1 EI EXS GB GD J6 LR QD S1 TZ X4")),
                    seg("PER", S),
                    *_optional_address(),
                ],
            ),
            loop("2100H", S, 1, [seg("NM1", R, q=(1, "45")), *_optional_address()]),
            loop("2200", S, 30, [seg("DSB", R), seg("DTP", S, 2)]),
            loop(
                "2300",
                S,
                99,
                [
                    seg("HD", R, codes={1: "001 002 021 024 025 026 030 032"}, require=(3,)),
                    seg("DTP", R, 6, q=(1, "300 303 343 348 349 543 695")),
                    seg("AMT", S, 9),
                    seg("REF", S, 14),
                    seg("IDC", S, 3),
                    loop(
                        "2310",
                        S,
                        30,
                        [
                            seg("LX", R),
                            seg("NM1", R),
                            *_optional_address(),
                            seg("PER", S, 2),
                            seg("PRV", S),
                            seg("DTP", S),
                        ],
                    ),
                    loop(
                        "2320",
                        S,
                        5,
                        [
                            seg("COB", R),
                            seg("REF", S, 4),
                            seg("DTP", S, 3),
                            loop("2330", S, 3, [seg("NM1", R), *_optional_address(), seg("PER", S)]),
                        ],
                    ),
                ],
            ),
            seg("LS", S, q=(1, "2700")),
            loop(
                "2700",
                S,
                UN,
                [
                    seg("LX", R),
                    loop("2750", R, 1, [seg("N1", R, q=(1, "75")), seg("REF", S), seg("DTP", S)]),
                ],
            ),
            seg("LE", S, q=(1, "2700")),
        ],
    )
    return loop(
        "",
        R,
        1,
        [
            _st("005010X220A1", "834"),
            seg("BGN", R, codes={1: "00 15 22"}),
            seg("REF", S, q=(1, "38")),
            seg("DTP", S, 6),
            seg("QTY", S, 3),
            loop("1000A", R, 1, [seg("N1", R, q=(1, "P5"), require=(3, 4))]),
            loop("1000B", R, 1, [seg("N1", R, q=(1, "IN"), require=(3, 4))]),
            loop("1000C", S, 2, [seg("N1", R, q=(1, "BO TV")), seg("ACT", S)]),
            member,
            _se(),
        ],
    )


# -- 270 / 271 005010X279A1 ----------------------------------------------------------------------

_SOURCE_QUALIFIERS = "2B 36 GP P5 PR"
_RECEIVER_QUALIFIERS = "1P 2B 36 80 FA GP P5 PR"


def _eligibility_guide(response: bool) -> Loop:
    def person(level: str, name_loop: str, qualifier: str, benefit_loop: str) -> Loop:
        if response:
            benefits = loop(
                benefit_loop,
                S,
                UN,
                [
                    seg("EB", R, codes={1: "1 2 3 4 5 6 7 8 A B C D E F G H I J K L M MC N O P Q R S T U V W X Y"}),
                    seg("HSD", S, 9),
                    seg("REF", S, 9),
                    seg("DTP", S, 20),
                    seg("AAA", S, 9),
                    seg("MSG", S, 10),
                    loop("2115" + benefit_loop[-1], S, 10, [seg("III", R), seg("LS", S)]),
                    seg("LS", S, q=(1, "2120")),
                    loop(
                        "2120" + benefit_loop[-1],
                        S,
                        23,
                        [seg("NM1", R), seg("N3", S), seg("N4", S), seg("PER", S, 3), seg("PRV", S)],
                    ),
                    seg("LE", S, q=(1, "2120")),
                ],
            )
            name: list[Seg | Loop] = [
                seg("NM1", R, q=(1, qualifier)),
                seg("REF", S, 9),
                seg("N3", S),
                seg("N4", S),
                seg("AAA", S, 9, codes={1: "Y N", 4: "C N P R S W X Y"}),
                seg("PRV", S),
                seg("DMG", S),
                seg("INS", S),
                seg("HI", S),
                seg(
                    "DTP",
                    S,
                    9,
                    q=(1, "102 152 291 307 318 340 341 342 343 346 347 356 357 382 435 442 458 472 539 540 636 771"),
                ),
                seg("MPI", S),
                benefits,
            ]
        else:
            inquiry = loop(
                benefit_loop, S, 99, [seg("EQ", R), seg("AMT", S, 2), seg("III", S, 10), seg("REF", S), seg("DTP", S)]
            )
            name = [
                seg("NM1", R, q=(1, qualifier)),
                seg("REF", S, 9),
                seg("N3", S),
                seg("N4", S),
                seg("PRV", S),
                seg("DMG", S),
                seg("INS", S),
                seg("HI", S),
                seg("DTP", S, 2, q=(1, "291 307 435 472")),
                inquiry,
            ]
        return loop(name_loop, R, 1, name)

    dependent = loop(
        "2000D",
        S,
        UN,
        [seg("HL", R, q=(3, "23"), require=(2,)), seg("TRN", S, 3), person("23", "2100D", "03", "2110D")],
    )
    subscriber = loop(
        "2000C",
        S if response else R,
        UN,
        [
            seg("HL", R, q=(3, "22"), require=(2, 4)),
            seg("TRN", S, 3 if response else 2),
            person("22", "2100C", "IL", "2110C"),
            dependent,
        ],
    )
    receiver_name: list[Seg | Loop] = [
        seg("NM1", R, q=(1, _RECEIVER_QUALIFIERS)),
        seg("REF", S, 9),
    ]
    if response:
        receiver_name += [seg("AAA", S, 9), seg("PRV", S)]
    else:
        receiver_name += [seg("N3", S), seg("N4", S), seg("PRV", S)]
    source_name: list[Seg | Loop] = [seg("NM1", R, q=(1, _SOURCE_QUALIFIERS))]
    if response:
        source_name += [seg("PER", S, 3), seg("AAA", S, 9)]
    receiver = loop(
        "2000B",
        S if response else R,
        UN,
        [seg("HL", R, q=(3, "21"), require=(2, 4)), loop("2100B", R, 1, receiver_name), subscriber],
    )
    source_header: list[Seg | Loop] = [seg("HL", R, q=(3, "20"), require=(4,))]
    if response:
        source_header.append(seg("AAA", S, 9))
    source = loop("2000A", R, UN, [*source_header, loop("2100A", R, 1, source_name), receiver])
    return loop(
        "",
        R,
        1,
        [
            _st("005010X279A1", "271" if response else "270"),
            seg("BHT", R, codes={1: "0022", 2: "11 06" if response else "01 13 36"}, require=(3, 4, 5)),
            source,
            _se(),
        ],
    )


# -- 276 / 277 005010X212 ------------------------------------------------------------------------


def _status_guide(response: bool) -> Loop:
    def claim_loop(loop_id: str, line_id: str) -> Loop:
        if response:
            line = loop(
                line_id,
                S,
                UN,
                [seg("SVC", R), seg("STC", R, UN, not_used=(3, 4, 5, 6, 7, 8, 9, 12)), seg("REF", S), seg("DTP", S)],
            )
            return loop(
                loop_id,
                R,
                UN,
                [
                    seg("TRN", R, q=(1, "2")),
                    seg("STC", R, UN, not_used=(3, 7, 12)),
                    seg("REF", S, 6, q=(1, "1K BLT EA EJ XZ VV D9")),
                    seg("DTP", S, q=(1, "472")),
                    line,
                ],
            )
        line = loop(line_id, S, UN, [seg("SVC", R), seg("REF", S), seg("DTP", S)])
        return loop(
            loop_id,
            R,
            UN,
            [
                seg("TRN", R, q=(1, "1")),
                seg("REF", S, 5, q=(1, "1K BLT EA EJ XZ D9 6P")),
                seg("AMT", S, q=(1, "T3")),
                seg("DTP", S, q=(1, "472")),
                line,
            ],
        )

    dependent = loop(
        "2000E",
        S,
        UN,
        [
            seg("HL", R, q=(3, "23"), require=(2,)),
            seg("DMG", S),
            loop("2100E", R, 1, [seg("NM1", R, q=(1, "QC"))]),
            claim_loop("2200E", "2220E"),
        ],
    )
    subscriber_children: list[Seg | Loop] = [seg("HL", R, q=(3, "22"), require=(2,))]
    if not response:
        subscriber_children.append(seg("DMG", S))
    subscriber_children += [
        loop("2100D", R, 1, [seg("NM1", R, q=(1, "IL"))]),
        claim_loop("2200D", "2220D"),
        dependent,
    ]
    subscriber = loop("2000D", R, UN, subscriber_children)
    # 2200D is situational: a subscriber level may carry only its dependents' claims.
    subscriber_children[-2].usage = S
    provider = loop(
        "2000C",
        R,
        UN,
        [seg("HL", R, q=(3, "19"), require=(2,)), loop("2100C", R, 1, [seg("NM1", R, q=(1, "1P"))]), subscriber],
    )
    receiver = loop(
        "2000B",
        R,
        UN,
        [seg("HL", R, q=(3, "21"), require=(2,)), loop("2100B", R, 1, [seg("NM1", R, q=(1, "41"))]), provider],
    )
    source_name: list[Seg | Loop] = [seg("NM1", R, q=(1, "PR"))]
    if response:
        source_name.append(seg("PER", S, 3))
    source = loop("2000A", R, UN, [seg("HL", R, q=(3, "20")), loop("2100A", R, 1, source_name), receiver])
    return loop(
        "",
        R,
        1,
        [
            _st("005010X212", "277" if response else "276"),
            seg("BHT", R, codes={1: "0010", 2: "08" if response else "13"}, require=(3, 4)),
            source,
            _se(),
        ],
    )


GUIDES: Final[dict[TransactionKind, Guide]] = {
    TransactionKind.CLAIM_PROFESSIONAL: compile_guide("837P", _claim_guide("005010X222A1", True), DICTIONARY),
    TransactionKind.CLAIM_INSTITUTIONAL: compile_guide(
        "837I", _claim_guide("005010X223A2 005010X223A3", False), DICTIONARY
    ),
    TransactionKind.ENROLLMENT: compile_guide("834", _enrollment_guide(), DICTIONARY),
    TransactionKind.ELIGIBILITY_INQUIRY: compile_guide("270", _eligibility_guide(False), DICTIONARY),
    TransactionKind.ELIGIBILITY_RESPONSE: compile_guide("271", _eligibility_guide(True), DICTIONARY),
    TransactionKind.STATUS_INQUIRY: compile_guide("276", _status_guide(False), DICTIONARY),
    TransactionKind.STATUS_RESPONSE: compile_guide("277", _status_guide(True), DICTIONARY),
}
