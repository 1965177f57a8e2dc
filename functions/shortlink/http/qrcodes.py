"""QR codes of short URLs (segno, pure Python): SVG text or PNG bytes, exactly the size asked
(a poster's 1024 px is 1024 px: whole pixels per module, the rest added to the quiet zone)."""

from __future__ import annotations

import io
import struct
import zlib

import segno

from ..errors import InvalidInput

MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 64, 2048, 256
BORDER = 4  # the quiet zone the QR standard asks for


def size_of(text: str) -> int:
    """The size a query asks for, its length bounded before conversion (int() refuses 4,301
    digits; "²" is a digit to str.isdigit but not to int())."""
    if not (text.isascii() and text.isdigit() and len(text) <= len(str(MAX_SIZE))):
        raise InvalidInput.single("size", f"must be a whole number of pixels, {MIN_SIZE} to {MAX_SIZE}")
    return int(text)


def qr_image(text: str, image_format: str, size: int) -> tuple[bytes, str]:
    """(image, content type) `size` pixels wide, black on white so any camera reads it."""
    if image_format not in ("svg", "png"):
        raise InvalidInput.single("format", "must be svg or png")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InvalidInput.single("size", f"must be between {MIN_SIZE} and {MAX_SIZE} pixels")
    code = segno.make(text, error="m", micro=False)
    if image_format == "svg":
        out = io.BytesIO()
        code.save(out, kind="svg", scale=size / code.symbol_size(border=BORDER)[0], border=BORDER, dark="#000",
                  light="#fff", xmldecl=False, title=text)
        return out.getvalue(), "image/svg+xml"
    return _png(code.matrix, size), "image/png"


def _png(matrix: tuple[bytearray, ...], size: int) -> bytes:
    """A 1-bit greyscale PNG, `size` pixels square: whole pixels per module, centred."""
    modules = len(matrix)
    scale = max(1, size // (modules + 2 * BORDER))
    offset = (size - modules * scale) // 2
    width = (size + 7) // 8
    blank = b"\x00" + (int("1" * size + "0" * (width * 8 - size), 2)).to_bytes(width, "big")
    rows = [blank] * offset
    for line in matrix:
        pixels = "1" * offset + "".join(("0" if dark else "1") * scale for dark in line)
        pixels = pixels.ljust(size, "1") + "0" * (width * 8 - size)
        rows += [b"\x00" + int(pixels, 2).to_bytes(width, "big")] * scale  # filter byte 0, then the row
    rows += [blank] * (size - len(rows))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9)) + chunk(b"IEND", b"")
