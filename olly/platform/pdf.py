"""A small PDF 1.4 writer for the letters the platform prints (explanations of benefits, COBRA
notices): Helvetica text lines on US Letter pages, paginated, with an optional rule under a line.
No dependency; Latin-1 text (other characters print as ``?``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

PAGE_WIDTH: Final = 612
PAGE_HEIGHT: Final = 792
MARGIN: Final = 48
LINE_HEIGHT: Final = 14

#: One line of text: (x, text, font size); the y position is assigned by pagination.
TextLine = tuple[int, str, int]


_PER_PAGE: Final = (PAGE_HEIGHT - 2 * MARGIN) // LINE_HEIGHT
#: The y of each line of a page, top down.
_LINE_Y: Final = tuple(PAGE_HEIGHT - MARGIN - LINE_HEIGHT * index for index in range(_PER_PAGE))
_RULES: Final = tuple(f"{MARGIN} {y - 4} m {PAGE_WIDTH - MARGIN} {y - 4} l S" for y in _LINE_Y)

_STARTS: dict[tuple[int, int], tuple[str, ...]] = {}
"""The text operators before a line's text, by (x, font size), for each line of a page."""


def _starts(x: int, size: int) -> tuple[str, ...]:
    starts = _STARTS[x, size] = tuple(f"BT /F1 {size} Tf {x} {y} Td (" for y in _LINE_Y)
    return starts


# What every document shares, written once: the header, the catalog (object 1), the font (object 3)
# and each page object (4, 6, 8, ...) but for the number of its content stream.
_HEADER: Final = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
_CATALOG: Final = b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
_FONT: Final = b"3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>\nendobj\n"
_PAGE: Final = (
    f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
    "/Resources << /Font << /F1 3 0 R >> >> /Contents "
)


def text_document(items: Sequence[TextLine], *, rule_under: Callable[[str], bool] | None = None) -> bytes:
    """The lines as PDF bytes, a page per 49 lines; a horizontal rule under every line for which
    ``rule_under`` is true (a table's header)."""
    per_page = _PER_PAGE
    pages = [items[i : i + per_page] for i in range(0, len(items), per_page)] or [[]]
    streams = []
    for page in pages:
        ops = []
        for index, (x, value, size) in enumerate(page):
            if value:
                shown = value
                if not shown.isascii():  # ASCII is Latin-1 already; other characters print as ?
                    shown = shown.encode("latin-1", "replace").decode("latin-1")
                if "\\" in shown or "(" in shown or ")" in shown:
                    shown = shown.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
                starts = _STARTS.get((x, size)) or _starts(x, size)
                ops.append(f"{starts[index]}{shown}) Tj ET")
            if rule_under is not None and rule_under(value):
                ops.append(_RULES[index])
        streams.append("\n".join(ops).encode("latin-1"))
    # Objects: 1 catalog, 2 pages, 3 font, then a page and its content stream per page.
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    parts = [
        _HEADER,
        _CATALOG,
        f"2 0 obj\n<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>\nendobj\n".encode(),
        _FONT,
    ]
    offsets = [len(_HEADER), len(_HEADER) + len(_CATALOG)]
    at = offsets[1] + len(parts[2])
    offsets.append(at)
    at += len(_FONT)
    for index, stream in enumerate(streams):
        page_id = 4 + 2 * index
        page_object = f"{page_id} 0 obj\n{_PAGE}{page_id + 1} 0 R >>\nendobj\n".encode()
        content = (
            f"{page_id + 1} 0 obj\n<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream\nendobj\n"
        )
        parts += (page_object, content)
        offsets.append(at)
        at += len(page_object)
        offsets.append(at)
        at += len(content)
    count = len(offsets) + 1
    parts.append(f"xref\n0 {count}\n0000000000 65535 f \n".encode())
    parts.append("".join([f"{offset:010d} 00000 n \n" for offset in offsets]).encode())
    parts.append(f"trailer\n<< /Size {count} /Root 1 0 R >>\nstartxref\n{at}\n%%EOF\n".encode())
    return b"".join(parts)
