"""Plots on the feedback page at a quarter of their weight.

Matplotlib writes 24-bit PNGs with an alpha channel; a plot has few colours, so
the page shows it with at most 256 (Pillow's fast octree quantizer), flattened on
the page's white, the same size in pixels: 70-80 KB becomes about 15-20 KB. Only
the page's copy changes: the autograded notebook keeps the output as it was.

A student's PNG is decoded by Pillow's PNG decoder only, and only when its header
says it has at most MAX_PIXELS pixels; anything else (another format, a broken
file, a smaller result) leaves the image as it was.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
import struct
import zlib

from PIL import Image, UnidentifiedImageError

MAX_PIXELS = 4_000_000  # 2000 x 2000; the course's plots have 665,000
COLOURS = 256
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PAGE_BACKGROUND = "white"


def smaller_png(data: str) -> str:
    """A base64 PNG re-encoded with at most COLOURS colours, or `data` itself when
    that is not smaller or the image is not one to decode."""
    try:
        raw = base64.b64decode(re.sub(r"\s", "", data), validate=True)
    except (binascii.Error, ValueError):
        return data
    size = png_size(raw)
    if size is None or size[0] * size[1] > MAX_PIXELS:
        return data
    try:
        with Image.open(io.BytesIO(raw), formats=["PNG"]) as image:
            image.load()
            encoded = _quantized(image)
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError, zlib.error):
        return data
    smaller = base64.b64encode(encoded).decode("ascii")
    return smaller if len(smaller) < len(data) else data


def png_size(raw: bytes) -> tuple[int, int] | None:
    """(width, height) from a PNG's header, None when it is no PNG."""
    if len(raw) < 24 or not raw.startswith(PNG_SIGNATURE) or raw[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", raw[16:24])
    return (width, height) if width and height else None


def _quantized(image: Image.Image) -> bytes:
    """The image on the page's background, with at most COLOURS colours, as PNG."""
    flat = Image.new("RGB", image.size, PAGE_BACKGROUND)
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat.paste(rgba, mask=rgba.getchannel("A"))
    else:
        flat.paste(image.convert("RGB"))
    buffer = io.BytesIO()
    flat.quantize(COLOURS, method=Image.Quantize.FASTOCTREE).save(
        buffer, "PNG", optimize=True
    )
    return buffer.getvalue()
