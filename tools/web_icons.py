"""Draw the portal's app icons (a white cross on the brand colour) as PNGs, without an image library.

python tools/web_icons.py   # writes olly/web/static/icons/icon-{192,512}.png
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

BRAND = (0x0B, 0x5D, 0x57)
WHITE = (0xFF, 0xFF, 0xFF)
OUT = Path(__file__).resolve().parents[1] / "olly" / "web" / "static" / "icons"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def icon(size: int) -> bytes:
    arm, bar = size * 3 // 10, size // 10  # the cross: arms 30 % from the centre, 20 % thick
    centre = size // 2
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter: none
        for x in range(size):
            in_cross = (abs(x - centre) <= bar and abs(y - centre) <= arm) or (
                abs(y - centre) <= bar and abs(x - centre) <= arm
            )
            row += bytes(WHITE if in_cross else BRAND)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        (OUT / f"icon-{size}.png").write_bytes(icon(size))
