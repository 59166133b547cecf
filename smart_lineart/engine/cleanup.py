"""Drop the network's unsure fragments: short bits of ink that never get solid.

Where the network cannot decide (a ghost beside a re-stroked line, a smudge, a stray pass) it
draws light grey bits a few line widths long; on real roughs they are most of the specks an
artist would have to erase. A fragment (8-connected visible ink) goes when it is short - its
bounding box under FRAGMENT_WIDTHS line widths both ways - and its darkest pixel stays under
SOLID_SHARE of the page's main-stroke darkness. Everything that reaches solid somewhere stays,
however short (dots, blush marks, hatching), and so does every longer line, grey or not.

Works in row bands with FRAGMENT_WIDTHS line widths of overlap, so memory stays bounded on any
page: a fragment in a band's core that reaches the overlap's edge is longer than the limit. Plain
numpy (run-length labelling), as the rest of the engine: it runs inside Krita's Python too.
"""
from __future__ import annotations

import numpy as np

from .preprocess import BAND_PIXELS

VISIBLE = 230  # uint8: lighter than this is paper (a 10% grey is not seen as a line)
SOLID_SHARE = 0.6  # a fragment this much as dark as the page's main strokes is meant
FRAGMENT_WIDTHS = 8  # fragments shorter than this many line widths may go
MAIN_PERCENTILE = 5  # the page's main-stroke darkness: this percentile of its visible ink
BAND_BYTES_PER_PX = 64  # the most a band's labelling holds per pixel (57 measured: a checkerboard)


def limit_px(thickness: float) -> int:
    """The longest fragment that may go, in px, for lines `thickness` px wide."""
    return max(int(round(FRAGMENT_WIDTHS * thickness)), 2)


def band_px(width: int, thickness: float) -> int:
    """Pixels of one band with its overlap: what `drop_unsure` works on at a time."""
    return (_core_rows(width, thickness) + 2 * limit_px(thickness)) * width


def work_mb(width: int, thickness: float) -> float:
    """The most memory `drop_unsure` needs beyond the page itself, in MB."""
    return BAND_BYTES_PER_PX * band_px(width, thickness) / (1 << 20)


def _core_rows(width: int, thickness: float) -> int:
    return max(BAND_PIXELS // max(width, 1), 4 * limit_px(thickness))  # the overlap is at most half


def solid_level(page: np.ndarray) -> int:
    """The uint8 value a fragment's darkest pixel must reach to stay (relative to the main strokes)."""
    hist = np.zeros(VISIBLE, np.int64)
    rows = _core_rows(page.shape[1], 1.0)
    for y in range(0, page.shape[0], rows):
        band = page[y:y + rows]
        hist += np.bincount(band[band < VISIBLE], minlength=VISIBLE)
    if not hist.sum():
        return 0
    darkest = int(np.searchsorted(np.cumsum(hist), hist.sum() * MAIN_PERCENTILE / 100))
    return int(255 - SOLID_SHARE * (255 - darkest))


def drop_unsure(page: np.ndarray, thickness: float) -> int:
    """Whiten, in place, the unsure fragments of uint8 lineart `page` drawn `thickness` px wide.
    Returns how many went."""
    h, w = page.shape
    limit = limit_px(thickness)
    solid = solid_level(page)
    rows = _core_rows(w, thickness)
    dropped = 0
    for y0 in range(0, h, rows):
        top, bottom = max(y0 - limit, 0), min(y0 + rows + limit, h)
        band = page[top:bottom]
        starts, ends, comp = _label_runs(band < VISIBLE)
        if not starts.size:
            continue
        flat = np.append(band.ravel(), np.uint8(255))
        run_min = np.minimum.reduceat(flat, np.stack([starts, ends], 1).ravel())[::2]
        run_rows, first, last = starts // w, starts % w, (ends - 1) % w
        # per component, by sorting: runs stay in row order within one, so its first run is its top
        order = np.argsort(comp, kind="stable")
        group = np.flatnonzero(np.diff(comp[order], prepend=-1))
        darkest = np.minimum.reduceat(run_min[order], group)
        tall = run_rows[order][np.append(group[1:], order.size) - 1] - run_rows[order][group] + 1
        wide = np.maximum.reduceat(last[order], group) - np.minimum.reduceat(first[order], group) + 1
        # a fragment cut by the band's edge spans more than `limit` rows if it reaches the core, so
        # it stays; only the core rows are whitened (each row by the band whose core it is in)
        gone = (darkest > solid) & (tall < limit) & (wide < limit)
        core = gone[comp] & (run_rows >= y0 - top) & (run_rows < min(y0 + rows, h) - top)
        lengths = (ends - starts)[core]
        if lengths.size:
            offsets = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
            band[np.divmod(np.repeat(starts[core], lengths) + offsets, w)] = 255
            dropped += int(np.unique(comp[core]).size)
    return dropped


def _label_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8-connected components of a 2-D mask as horizontal runs: flat start, flat end (exclusive)
    and component number of every run, in row-major order."""
    h, w = mask.shape
    edges = np.diff(np.pad(mask, ((0, 0), (1, 1))).view(np.int8), axis=1).ravel()
    at = np.flatnonzero(edges).astype(np.int32)  # a band is far under 2**31 px
    up = edges[at] == 1
    ry, rx = np.divmod(at[up], np.int32(w + 1))
    ex = at[~up] % np.int32(w + 1)
    del edges, at, up
    stride = w + 1  # keys row * stride + column order the runs row by row, and rows apart
    key_start, key_end = ry * stride + rx, ry * stride + ex
    # each run's touching runs in the row above: end >= its start and start <= its end (diagonals count)
    above = (ry - 1) * stride
    lo = np.searchsorted(key_end, above + rx, "left")
    hi = np.searchsorted(key_start, above + ex, "right")
    counts = np.where(ry > 0, np.maximum(hi - lo, 0), 0).astype(np.int32)
    lo = lo.astype(np.int32)
    del hi, key_start, key_end, above
    below = np.repeat(np.arange(ry.size, dtype=np.int32), counts)
    upper = np.repeat(lo - (np.cumsum(counts, dtype=np.int32) - counts), counts) + np.arange(counts.sum(), dtype=np.int32)
    del lo, counts
    comp = _union(ry.size, below, upper)
    del below, upper
    _, comp = np.unique(comp, return_inverse=True)
    return ry * w + rx, ry * w + ex, comp


def _union(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Root (smallest member) of every node of a graph with edges a-b: hook roots, compress, repeat."""
    root = np.arange(n, dtype=np.int32)
    while True:
        ra, rb = root[a], root[b]
        differ = ra != rb
        if not differ.any():
            return root
        ra, rb = ra[differ], rb[differ]
        np.minimum.at(root, np.maximum(ra, rb), np.minimum(ra, rb))
        while True:
            deeper = root[root]
            if np.array_equal(deeper, root):
                break
            root = deeper
