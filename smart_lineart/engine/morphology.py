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
    """Filled areas: the ink that a disk wider than any line of that half-width fits into."""
    r = half_width + 2
    core = ~dilate(~ink, r)
    return dilate(core, r) & ink if core.any() else np.zeros_like(ink)


def distance_to(mask: np.ndarray, cap: int = CHAMFER_CAP) -> np.ndarray:
    """Distance (in whole px, by growing disks) from every pixel to the mask, capped."""
    dist = np.full(mask.shape, float(cap), np.float32)
    for r in range(cap - 1, -1, -1):
        dist[dilate(mask, r)] = r
    return dist


def skeleton(mask: np.ndarray) -> np.ndarray:
    """Zhang-Suen thinning to a one-pixel-wide centre line."""
    img = np.pad(mask.astype(np.uint8), 1)
    while True:
        changed = False
        for step in (0, 1):
            p = img
            n = [p[:-2, 1:-1], p[:-2, 2:], p[1:-1, 2:], p[2:, 2:], p[2:, 1:-1], p[2:, :-2], p[1:-1, :-2], p[:-2, :-2]]
            b = sum(x.astype(np.int32) for x in n)
            seq = n + [n[0]]
            a = sum(((seq[i] == 0) & (seq[i + 1] == 1)).astype(np.int32) for i in range(8))
            if step == 0:
                c = (n[0] * n[2] * n[4] == 0) & (n[2] * n[4] * n[6] == 0)
            else:
                c = (n[0] * n[2] * n[6] == 0) & (n[0] * n[4] * n[6] == 0)
            kill = (p[1:-1, 1:-1] == 1) & (b >= 2) & (b <= 6) & (a == 1) & c
            if kill.any():
                img[1:-1, 1:-1][kill] = 0
                changed = True
        if not changed:
            return img[1:-1, 1:-1].astype(bool)
