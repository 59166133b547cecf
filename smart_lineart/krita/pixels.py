"""Krita pixel bytes <-> numpy, for the colour models the plugin reads and writes directly.

Krita's `Node.pixelData()` returns the layer's native bytes: integer RGBA is stored in BGRA
order, grey as (grey, alpha). Everything else (float RGBA with its usually linear profile,
CMYK, Lab, ...) is converted by Krita itself through a temporary document (see
krita.document), so colour management stays Krita's job. Numpy only: testable without Krita.
"""
from __future__ import annotations

import numpy as np

from ..engine.preprocess import sketch_u8

# (colour model, depth) -> (numpy dtype, channel count, order of the channels in memory)
DIRECT = {
    ("RGBA", "U8"): (np.uint8, 4, "BGRA"),
    ("RGBA", "U16"): (np.uint16, 4, "BGRA"),
    ("GRAYA", "U8"): (np.uint8, 2, "GA"),
    ("GRAYA", "U16"): (np.uint16, 2, "GA"),
}


def is_direct(model: str, depth: str) -> bool:
    return (model, depth) in DIRECT


def _layout(model: str, depth: str):
    try:
        return DIRECT[(model, depth)]
    except KeyError:
        raise ValueError(f"{model}/{depth} pixels need conversion by Krita first") from None


def bytes_to_sketch(data: bytes, width: int, height: int, model: str, depth: str
                    ) -> tuple[np.ndarray, np.ndarray | None]:
    """Layer bytes -> HxW uint8 grey (luma; transparency composited onto white) and, for
    colour layers, the HxW uint8 blue plane (`preprocess.sketch_planes`); None for grey ones."""
    dtype, channels, order = _layout(model, depth)
    a = np.frombuffer(data, dtype=dtype, count=width * height * channels).reshape(height, width, channels)
    scale = np.float32(1.0 / np.iinfo(dtype).max)
    grey = np.empty((height, width), np.uint8)
    blue = np.empty((height, width), np.uint8) if order == "BGRA" else None
    for y in range(0, height, 256):  # bands: a big page is never all float32 at once
        band = a[y:y + 256].astype(np.float32) * scale
        if order == "BGRA":
            band = band[..., [2, 1, 0, 3]]
        g, b = sketch_u8(band)
        grey[y:y + 256] = g
        if blue is not None and b is not None:
            blue[y:y + 256] = b
    return grey, blue


def lineart_to_bytes(lineart: np.ndarray, model: str, depth: str) -> bytes:
    """HxW uint8 lineart (255 white) -> layer bytes: black ink whose coverage is the alpha,
    so colour can be painted on layers underneath."""
    dtype, channels, _ = _layout(model, depth)
    h, w = lineart.shape
    out = np.zeros((h, w, channels), dtype)
    alpha = 255 - lineart
    out[..., -1] = alpha if dtype == np.uint8 else alpha.astype(np.uint32) * 257
    return out.tobytes()
