"""QR codes of short URLs (segno, pure Python): SVG text or PNG bytes."""

from __future__ import annotations

import io

import segno

from ..errors import InvalidInput

MIN_SIZE, MAX_SIZE, DEFAULT_SIZE = 64, 2048, 256
BORDER = 4  # the quiet zone the QR standard asks for


def qr_image(text: str, image_format: str, size: int) -> tuple[bytes, str]:
    """(image, content type) about `size` pixels wide, black on white so any camera reads it."""
    if image_format not in ("svg", "png"):
        raise InvalidInput.single("format", "must be svg or png")
    if not MIN_SIZE <= size <= MAX_SIZE:
        raise InvalidInput.single("size", f"must be between {MIN_SIZE} and {MAX_SIZE} pixels")
    code = segno.make(text, error="m", micro=False)
    scale = max(1, size // code.symbol_size(border=BORDER)[0])
    out = io.BytesIO()
    if image_format == "svg":
        code.save(out, kind="svg", scale=scale, border=BORDER, dark="#000", light="#fff", xmldecl=False,
                  title=text)
        return out.getvalue(), "image/svg+xml"
    code.save(out, kind="png", scale=scale, border=BORDER, dark="#000", light="#fff")
    return out.getvalue(), "image/png"
