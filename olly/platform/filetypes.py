"""What an uploaded document is, from its first bytes: never from its name or the content type the
client claims (a renamed executable stays an executable). Shared by every domain that accepts
documents: member reimbursement bills (claims) and credentialing applications (provider)."""

from __future__ import annotations

from typing import Final

_SIGNATURES: Final = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)

#: The content types ``sniff`` recognises, with the file extension each is saved under.
EXTENSIONS: Final = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def sniff(content: bytes) -> str | None:
    """The content type of a PDF, JPEG or PNG file from its magic bytes; None for anything else."""
    for signature, content_type in _SIGNATURES:
        if content.startswith(signature):
            return content_type
    return None
