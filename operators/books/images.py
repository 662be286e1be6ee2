"""Page images of books scanned to multi-page TIFFs or folders of page images (JPEG, PNG,
TIFF, JPEG 2000, ...).

Pillow's `Image.open` reads only the header, so the claimed size is checked before
any pixel is decoded: a 50 000 × 50 000 PNG of a few hundred bytes would otherwise
ask for 2.5 GB. Every failure is a `ValueError` saying what is wrong with the file.
"""
from __future__ import annotations

import io
import re

import numpy as np
from PIL import Image, ImageOps

# Page images Pillow reads: scanners' and digital libraries' formats (JPEG 2000 is the
# archives' master format), and the plain ones a scan folder may hold.
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".jp2", ".j2k", ".jpf", ".jpx", ".bmp", ".gif", ".webp",
                  ".pbm", ".pgm", ".ppm", ".pnm")
DEFAULT_MAX_PIXELS = 80_000_000  # a 600-dpi A3 scan is 70 Mpx; Pillow warns above 89 Mpx
_DIGITS = re.compile(r"(\d+)")


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data))
    except Image.DecompressionBombError as exc:  # Pillow's own limit (179 Mpx) caps max_pixels
        raise ValueError(f"image refused before decoding: {exc}") from exc
    except Exception as exc:
        raise ValueError(f"not a readable image: {exc}") from exc


def _frame_count(image: Image.Image) -> int:
    try:
        return getattr(image, "n_frames", 1)
    except Exception as exc:  # Pillow walks the TIFF's frame directory to count
        raise ValueError(f"corrupt frame directory: {exc}") from exc


def image_pages(data: bytes) -> int:
    """How many page frames the file holds (a multi-page TIFF has several; JPEG and PNG one)."""
    return _frame_count(_open(data))


def _to_grayscale(image: Image.Image) -> Image.Image:
    # Pillow clips 16-bit samples to 0..255 instead of scaling them, which would turn
    # an archival 16-bit scan into a white page.
    if image.mode.startswith("I;16"):
        gray = Image.fromarray((np.asarray(image) >> 8).astype(np.uint8))
        gray.info.update(image.info)  # keeps the scan's dpi, as convert() does
        return gray
    return image.convert("L")


def load_image_page(data: bytes, frame_index: int = 0, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Frame `frame_index` (0-based) as an 8-bit grayscale image, upright per its EXIF orientation."""
    image = _open(data)
    frames = _frame_count(image)
    if not 0 <= frame_index < frames:
        raise ValueError(f"frame {frame_index} outside 0..{frames - 1}")
    try:
        image.seek(frame_index)  # reads that frame's header only
    except Exception as exc:
        raise ValueError(f"cannot read the header of frame {frame_index}: {exc}") from exc
    width, height = image.size
    if width * height > max_pixels:
        raise ValueError(f"frame {frame_index} is {width}×{height} = {width * height:,} pixels "
                         f"> max_pixels={max_pixels:,}")
    try:
        image.load()
    except Exception as exc:  # truncated or corrupt pixel data: OSError, SyntaxError, zlib errors
        raise ValueError(f"corrupt or truncated image data in frame {frame_index}: {exc}") from exc
    return _to_grayscale(ImageOps.exif_transpose(image))


def natural_page_order(names: list[str]) -> list[str]:
    """Sorts file names as a person numbers pages: page2 before page10, case ignored."""
    def key(name: str) -> tuple:
        # re.split alternates text and digit runs, so every key compares str with str and int with int
        parts = _DIGITS.split(name.casefold())
        return [int(part) if i % 2 else part for i, part in enumerate(parts)], name

    return sorted(names, key=key)
