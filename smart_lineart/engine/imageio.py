"""Image files for the command line: any mode in, grey uint8 on white; lineart PNG out.

Only the CLI uses this (Krita hands the plugin its pixels directly), so Pillow is needed
for the command line but not inside Krita.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ImageReadError
from .preprocess import grey_on_white, to_uint8

BAND_ROWS = 256  # rows converted to float at a time


def _band_to_unit(band: Any) -> np.ndarray:
    """A band of a Pillow image as float32 in [0, 1] with 1..4 channels."""
    a = np.asarray(band)
    if a.dtype == np.uint8:
        return a.astype(np.float32) * (1 / 255)
    if band.mode.startswith("I;16") or band.mode == "I":  # 16-bit grey (I holds it as int32)
        return a.astype(np.float32) * (1 / 65535)
    return a.astype(np.float32)  # F: already 0..1


def _open(path: str | Path):
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # big scans are the point; memory is checked by the caller
    try:
        return Image.open(path)
    except FileNotFoundError:
        raise ImageReadError(f"no such file: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise ImageReadError(f"cannot read {path} as an image ({e.__class__.__name__})") from None


def decode_cost(path: str | Path) -> tuple[int, int, int]:
    """(height, width, bytes the decoded image takes), from the header only."""
    im = _open(path)
    w, h = im.size
    # Pillow keeps 8-bit images with 2-4 channels at 4 bytes per pixel (RGB too); palette and
    # other colour modes are converted to RGB(A) after loading, which holds both copies
    per_pixel = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4, "F": 4}.get(im.mode, 4)
    if im.mode in ("P", "PA", "1", "CMYK", "YCbCr", "LAB", "HSV", "La", "I;16B"):
        per_pixel += 4
    return h, w, w * h * per_pixel


def load_grey(path: str | Path) -> np.ndarray:
    """Read an image file as HxW uint8 grey: luma of the colours, transparency on white."""
    im = _open(path)
    try:
        im.load()
    except (OSError, ValueError, SyntaxError) as e:
        raise ImageReadError(f"cannot read {path} as an image ({e.__class__.__name__})") from None
    if im.mode in ("P", "PA"):
        im = im.convert("RGBA" if "transparency" in im.info or im.mode == "PA" else "RGB")
    elif im.mode in ("1", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "La"):
        im = im.convert("RGBA" if im.mode == "La" else "RGB")
    elif im.mode == "I;16B":
        im = im.convert("I")
    w, h = im.size
    grey = np.empty((h, w), np.uint8)
    for y in range(0, h, BAND_ROWS):
        band = im.crop((0, y, w, min(y + BAND_ROWS, h)))
        grey[y:y + band.size[1]] = to_uint8(grey_on_white(_band_to_unit(band)))
    return grey


def save_lineart(path: str | Path, lineart: np.ndarray, transparent: bool = False) -> None:
    """8-bit PNG: black lines on white, or black lines with alpha on transparency."""
    from PIL import Image

    if transparent:
        h, w = lineart.shape
        rgba = np.zeros((h, w, 4), np.uint8)
        rgba[..., 3] = 255 - lineart
        Image.fromarray(rgba, "RGBA").save(path, format="PNG")
    else:
        Image.fromarray(lineart, "L").save(path, format="PNG")
