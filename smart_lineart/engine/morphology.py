"""Binary morphology on numpy arrays (no scipy: it runs inside Krita's Python too)."""
from __future__ import annotations

import numpy as np

CHAMFER_CAP = 16  # px: distances are capped here


def _disk(r: int) -> list[tuple[int, int]]:
    return [(dy, dx) for dy in range(-r, r + 1) for dx in range(-r, r + 1) if dy * dy + dx * dx <= r * r + r]


def dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Binary dilation by a digital disk of radius r."""
    if r == 0:
        return mask.copy()
    h, w = mask.shape
    p = np.pad(mask, r)
    out = np.zeros_like(mask)
    for dy, dx in _disk(r):
        out |= p[r + dy:r + dy + h, r + dx:r + dx + w]
    return out


def spot_blacks(ink: np.ndarray, half_width: int) -> np.ndarray:
    """Filled areas: the ink that a disk wider than any line of that half-width fits into (an
    opening; beyond the image is paper). Only ink pixels are looked at: on a page of lines that
    is a few per cent."""
    r = half_width + 2
    h, w = ink.shape
    padded = np.pad(ink, r).ravel()
    stride = w + 2 * r
    offsets = np.array([dy * stride + dx for dy, dx in _disk(r)])
    ys, xs = np.nonzero(ink)
    core = (ys + r) * stride + xs + r
    for off in offsets:  # erosion: the candidates shrink with every offset
        core = core[padded[core + off]]
    out = np.zeros_like(padded)
    for off in offsets:  # dilation of the (few) core pixels
        out[core + off] = True
    return out.reshape(h + 2 * r, stride)[r:h + r, r:w + r] & ink


def distance_to(mask: np.ndarray, cap: int = CHAMFER_CAP) -> np.ndarray:
    """Distance (in whole px, by growing disks) from every pixel to the mask, capped."""
    dist = np.full(mask.shape, float(cap), np.float32)
    for r in range(cap - 1, -1, -1):
        dist[dilate(mask, r)] = r
    return dist


def _thinning_tables() -> tuple[np.ndarray, np.ndarray]:
    """Zhang-Suen's deletion rule for both sub-iterations, as tables over the 8-neighbour code
    (bit k set: neighbour k of N, NE, E, SE, S, SW, W, NW is ink)."""
    n = (np.arange(256)[:, None] >> np.arange(8)) & 1
    b = n.sum(1)
    a = ((n == 0) & (np.roll(n, -1, axis=1) == 1)).sum(1)  # 0 -> 1 transitions around the ring
    base = (b >= 2) & (b <= 6) & (a == 1)
    first = base & (n[:, 0] * n[:, 2] * n[:, 4] == 0) & (n[:, 2] * n[:, 4] * n[:, 6] == 0)
    second = base & (n[:, 0] * n[:, 2] * n[:, 6] == 0) & (n[:, 0] * n[:, 4] * n[:, 6] == 0)
    return first, second


_THIN = _thinning_tables()


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning to a one-pixel-wide centre line. Only the ink pixels left are
    visited; each sub-iteration looks the deletion rule up by the pixel's neighbour code."""
    h, w = mask.shape
    img = np.pad(mask, 1).astype(np.uint8).ravel()
    stride = w + 2
    offsets = np.array([-stride, -stride + 1, 1, stride + 1, stride, stride - 1, -1, -stride - 1])
    live = np.flatnonzero(img)
    while live.size:
        changed = False
        for table in _THIN:
            code = np.zeros(live.size, np.uint8)
            for bit, off in enumerate(offsets):
                code |= img[live + off] << bit
            kill = table[code]
            if kill.any():
                img[live[kill]] = 0
                changed = True
            live = live[~kill]
        if not changed:
            break
    return img.reshape(h + 2, w + 2)[1:-1, 1:-1].astype(bool)
