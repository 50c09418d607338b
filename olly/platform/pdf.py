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


def _pdf_text(value: str) -> str:
    if not value.isascii():  # ASCII is Latin-1 already
        value = value.encode("latin-1", "replace").decode("latin-1")
    return value.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def text_document(items: Sequence[TextLine], *, rule_under: Callable[[str], bool] | None = None) -> bytes:
    """The lines as PDF bytes, a page per 49 lines; a horizontal rule under every line for which
    ``rule_under`` is true (a table's header)."""
    per_page = (PAGE_HEIGHT - 2 * MARGIN) // LINE_HEIGHT
    pages = [items[i : i + per_page] for i in range(0, len(items), per_page)] or [[]]
    streams = []
    for page in pages:
        ops = []
        y = PAGE_HEIGHT - MARGIN
        for x, value, size in page:
            if value:
                ops.append(f"BT /F1 {size} Tf {x} {y} Td ({_pdf_text(value)}) Tj ET")
            if rule_under is not None and rule_under(value):
                ops.append(f"{MARGIN} {y - 4} m {PAGE_WIDTH - MARGIN} {y - 4} l S")
            y -= LINE_HEIGHT
        streams.append("\n".join(ops).encode("latin-1"))
    # Objects: 1 catalog, 2 pages, 3 font, then a page and its content stream per page.
    objects: list[bytes] = []
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objects.append(b"<< /Type /Catalog /Pages 2 0 R >>")
    objects.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objects.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    for index, stream in enumerate(streams):
        content_id = 5 + 2 * index
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {content_id} 0 R >>".encode()
        )
        objects.append(f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
