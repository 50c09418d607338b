"""Member reimbursement documents: what a file is, from its first bytes (never its name or the
content type the browser claims), and the size limits."""

from __future__ import annotations

from typing import Final

MAX_FILE_BYTES: Final = 10 * 1024 * 1024
MAX_TOTAL_BYTES: Final = 25 * 1024 * 1024
MAX_FILES: Final = 20

#: Document kinds a member uploads, by form field.
KINDS: Final = {"bills": "BILL", "prescriptions": "PRESCRIPTION", "dischargeSummary": "DISCHARGE_SUMMARY"}

_SIGNATURES: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


def sniff(content: bytes) -> str | None:
    """The content type of a PDF, JPEG or PNG file from its magic bytes; None for anything else."""
    for signature, content_type in _SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None
