"""Image files for the command line: any mode in, grey uint8 on white; lineart PNG out.

Only the CLI uses this (Krita hands the plugin its pixels directly), so Pillow is needed
for the command line but not inside Krita. Reading applies the EXIF orientation (what every
viewer shows) and scales float and 32-bit samples by their real range. Writing streams the
PNG in bands into a temporary file beside the output and renames it when complete: an output
appears whole or not at all, and a failed write leaves the previous file as it was.
"""
from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from ..errors import ImageReadError, OutputError
from .preprocess import band_rows, sketch_u8

# Pillow keeps 8-bit images with 2-4 channels at 4 bytes per pixel (RGB too); palette and
# other colour modes are converted to RGB(A) after loading, which holds both copies
_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I": 4, "F": 4}
_CONVERTED = ("P", "PA", "1", "CMYK", "YCbCr", "LAB", "HSV", "La", "I;16B", "RGBX")
_ORIENT = {  # EXIF orientation -> the view of the stored pixels that viewers show
    2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
    5: lambda a: a.T, 6: lambda a: np.rot90(a, -1), 7: lambda a: a[::-1, ::-1].T, 8: lambda a: np.rot90(a, 1)}


@dataclass(frozen=True)
class ImageInfo:
    height: int  # as shown (orientation applied)
    width: int
    decoded_bytes: int  # memory the decoded file takes (both copies where Pillow converts)
    frames: int  # pages or animation frames; only the first is inked


def _open(path: str | Path):
    from PIL import Image, UnidentifiedImageError

    Image.MAX_IMAGE_PIXELS = None  # big scans are the point; memory is checked by the caller
    if Path(path).is_dir():
        raise ImageReadError(f"{path} is a folder, not an image")
    try:
        return Image.open(path)
    except FileNotFoundError:
        raise ImageReadError(f"no such file: {path}") from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as e:
        raise ImageReadError(f"cannot read {path} as an image ({e.__class__.__name__})") from None


def _orientation(im: Any) -> int:
    try:
        value = int(im.getexif().get(0x0112, 1))
    except (ValueError, TypeError, OSError, SyntaxError):
        return 1
    return value if value in _ORIENT else 1


def inspect(path: str | Path) -> ImageInfo:
    """Size, decoding cost and frame count, from the header only."""
    with _open(path) as im:
        w, h = im.size
        per_pixel = _BYTES.get(im.mode, 4) + (4 if im.mode in _CONVERTED else 0)
        if _orientation(im) in (5, 6, 7, 8):
            w, h = h, w
        return ImageInfo(h, w, w * h * per_pixel, int(getattr(im, "n_frames", 1)))


def _value_scale(im: Any) -> float:
    """Factor that maps the image's samples to 0..1: 8 bit, 16 bit, 32-bit integers, or
    floats stored as 0..1 or 0..255."""
    if im.mode.startswith("I;16"):
        return 1 / 65535
    if im.mode == "I":  # 16-bit grey as Pillow holds it, or a 32-bit integer TIFF
        hi = im.getextrema()[1]
        return 1 / 65535 if hi <= 65535 else 1 / (2**31 - 1)
    if im.mode == "F":
        hi = im.getextrema()[1]
        return 1.0 if hi <= 1.0 else 1 / 255 if hi <= 255 else 1 / 65535 if hi <= 65535 else 1 / hi
    return 1 / 255


def load_grey(path: str | Path) -> np.ndarray:
    """Read an image file as HxW uint8 grey (as shown: EXIF orientation applied): luma of the
    colours, transparency on white."""
    return load_sketch(path, blue=False)[0]


def load_sketch(path: str | Path, blue: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """`load_grey`, and (blue=True, a colour image) the HxW uint8 blue plane of
    `preprocess.sketch_planes` (for models that take it); None for a grey image."""
    with _open(path) as im:
        try:
            im.load()
        except (OSError, ValueError, SyntaxError) as e:
            raise ImageReadError(f"cannot read {path} as an image ({e.__class__.__name__})") from None
        orientation = _orientation(im)
        if im.mode in ("P", "PA"):
            im = im.convert("RGBA" if "transparency" in im.info or im.mode == "PA" else "RGB")
        elif im.mode in ("1", "CMYK", "YCbCr", "LAB", "HSV", "RGBX", "La"):
            im = im.convert("RGBA" if im.mode == "La" else "RGB")
        elif im.mode == "I;16B":
            im = im.convert("I")
        scale = np.float32(_value_scale(im))
        w, h = im.size
        grey = np.empty((h, w), np.uint8)
        plane = np.zeros((h, w), np.uint8) if blue and im.mode in ("RGB", "RGBA") else None
        rows = band_rows(w)
        for y in range(0, h, rows):
            band = np.asarray(im.crop((0, y, w, min(y + rows, h)))).astype(np.float32) * scale
            g, b = sketch_u8(np.clip(band, 0, 1, out=band))
            grey[y:y + band.shape[0]] = g
            if plane is not None and b is not None:
                plane[y:y + band.shape[0]] = b
    if orientation == 1:
        return grey, plane
    turn = _ORIENT[orientation]
    return np.ascontiguousarray(turn(grey)), None if plane is None else np.ascontiguousarray(turn(plane))


# ---------------------------------------------------------------- writing

def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _scanlines(lineart: np.ndarray, y: int, n: int, transparent: bool) -> bytes:
    """PNG rows y..y+n with the Sub filter (each byte minus the one a pixel before)."""
    band = lineart[y:y + n]
    if transparent:  # black ink whose coverage is the alpha
        px = np.zeros((band.shape[0], band.shape[1], 4), np.uint8)
        px[..., 3] = 255 - band
        rows, step = px.reshape(band.shape[0], -1), 4
    else:
        rows, step = band, 1
    out = np.empty((rows.shape[0], rows.shape[1] + 1), np.uint8)
    out[:, 0] = 1  # filter type Sub
    out[:, 1:step + 1] = rows[:, :step]
    np.subtract(rows[:, step:], rows[:, :-step], out=out[:, step + 1:])  # wraps modulo 256, as PNG wants
    return out.tobytes()


def atomic_write(path: str | Path, write: Callable[[BinaryIO], object]) -> None:
    """Write a file through a temporary file in the same folder, renamed over `path` once
    complete. On any failure (full disk, Ctrl-C) the temporary file is removed and `path` keeps
    what it had."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        tmp.unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise OutputError(f"cannot write {path}: {e.strerror or e}") from None
        raise


def save_lineart(path: str | Path, lineart: np.ndarray, transparent: bool = False) -> None:
    """8-bit PNG (grey, or RGBA black on transparency), streamed in bands, written atomically."""
    h, w = lineart.shape

    def write(f: BinaryIO) -> None:
        f.write(b"\x89PNG\r\n\x1a\n")
        f.write(_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6 if transparent else 0, 0, 0, 0)))
        z = zlib.compressobj(6)
        rows = band_rows(w * (4 if transparent else 1))
        for y in range(0, h, rows):
            data = z.compress(_scanlines(lineart, y, rows, transparent))
            if data:
                f.write(_chunk(b"IDAT", data))
        f.write(_chunk(b"IDAT", z.flush()))
        f.write(_chunk(b"IEND", b""))

    atomic_write(path, write)
