"""Document types from their magic bytes, never from a name or a claimed content type."""

from __future__ import annotations

from olly.platform.filetypes import EXTENSIONS, sniff


def test_sniff_by_content_never_by_name() -> None:
    assert sniff(b"%PDF-1.7\n...") == "application/pdf"
    assert sniff(b"\xff\xd8\xff\xe0\x00\x10JFIF") == "image/jpeg"
    assert sniff(b"\x89PNG\r\n\x1a\n\x00\x00") == "image/png"
    assert sniff(b"GIF89a") is None
    assert sniff(b"<html>%PDF-") is None
    assert sniff(b"") is None


def test_every_sniffed_type_has_an_extension() -> None:
    assert EXTENSIONS == {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
