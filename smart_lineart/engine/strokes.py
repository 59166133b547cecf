"""Lineart pixels -> strokes: centre-lines as smooth cubic Bézier paths with a width per point,
and spot blacks as filled shapes. Numpy only (it runs inside Krita's Python too).

1. Spot blacks are what survives an opening larger than the line's half-width; the rest is line.
2. The line ink is thinned to its centre-line in bands that overlap by more than the thinning
   reaches, so the page-wide centre-line is exactly what a whole-page thinning gives: no band
   cuts a stroke. The width at each centre-line pixel is the ink mass over the centre-line
   length around it (again banded, again exactly the whole page's).
3. The centre-line pixels become a graph; paths run between end points and junctions (a T or an
   X keeps its junction; strokes meet there). Spurs shorter than the line is wide and fragments
   shorter than a dot are dropped.
4. Each path is smoothed over about the line's half-width (thinning zigzags), simplified
   (Douglas-Peucker on course and width: the stair-steps go, corners, tapers and swells stay)
   and drawn as a Catmull-Rom curve through the kept points, i.e. cubic Béziers; where it turns
   sharply the curve keeps a corner. Each kept point's width is the mean over the stretch it
   stands for; the path's typical width is the median along all of it.
5. Optionally, end points that nearly meet (within `close_gaps` px, facing each other) are
   joined, so a fill tool fills each region.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from .morphology import dilate, skeleton, spot_blacks
from .preprocess import band_rows

INK_LEVEL = 128  # lineart pixels darker than this are ink
STROKE_BYTES_PER_PIXEL = 20  # extraction's peak per page pixel: masks, widths and the centre-line graph
# (Python objects per centre-line pixel); measured 15.6 on a dense A4 page, with headroom
CORNER_DEG = 55.0  # a turn sharper than this between simplified segments is a corner
SIMPLIFY_PX = 0.75  # Douglas-Peucker tolerance: drops the pixel stair-steps, keeps the shape
WIDTH_TOLERANCE_PX = 0.75  # ... and the width between two kept points is linear within this
_N8 = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


@dataclass
class Path:
    points: np.ndarray  # (N, 2) x, y of the centre-line, px (pixel centres at .5)
    widths: np.ndarray  # (N,) stroke width at each point, px
    closed: bool = False
    width: float = 0.0  # the stroke's typical width (median along its whole length), px; 0: median of `widths`

    def __post_init__(self) -> None:
        if not self.width:
            self.width = float(np.median(self.widths)) if len(self.widths) else 1.0

    def beziers(self) -> np.ndarray:
        """(N-1, 4, 2) cubic Bézier segments through the points (Catmull-Rom; corners kept)."""
        p = self.points
        if len(p) < 2:
            return np.zeros((0, 4, 2))
        ext = np.concatenate([p[-2:-1], p, p[1:2]]) if self.closed and len(p) > 2 else \
            np.concatenate([p[:1], p, p[-1:]])
        tangent = (ext[2:] - ext[:-2]) / 6.0
        corner = _corners(p, self.closed)
        tangent[corner] = 0.0
        return np.stack([p[:-1], p[:-1] + tangent[:-1], p[1:] - tangent[1:], p[1:]], axis=1)

    def polyline(self, per_segment: int = 8) -> np.ndarray:
        """(M, 2) points along the curve, `per_segment` per Bézier segment, ends included."""
        b = self.beziers()
        t = np.linspace(0, 1, per_segment, endpoint=False)[None, :, None]
        pts = ((1 - t) ** 3 * b[:, None, 0] + 3 * (1 - t) ** 2 * t * b[:, None, 1]
               + 3 * (1 - t) * t ** 2 * b[:, None, 2] + t ** 3 * b[:, None, 3])
        return np.concatenate([pts.reshape(-1, 2), self.points[-1:]])


@dataclass
class Strokes:
    width: int
    height: int
    paths: list[Path] = field(default_factory=list)
    fills: list[np.ndarray] = field(default_factory=list)  # spot blacks: (K, 4) runs y, x0, x1 (exclusive), as rows of pixels


def _corners(p: np.ndarray, closed: bool) -> np.ndarray:
    """Points where the path turns by more than CORNER_DEG (ends of open paths are not corners)."""
    out = np.zeros(len(p), bool)
    if len(p) < 3:
        return out
    a, b = p[1:-1] - p[:-2], p[2:] - p[1:-1]
    cos = (a * b).sum(1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-9)
    out[1:-1] = cos < math.cos(math.radians(CORNER_DEG))
    return out


def _box_sum(a: np.ndarray, r: int) -> np.ndarray:
    """Sum over the (2r+1)^2 window around every pixel (an integral image)."""
    s = np.pad(a, ((r + 1, r), (r + 1, r))).cumsum(0).cumsum(1)
    n = 2 * r + 1
    return s[n:, n:] - s[:-n, n:] - s[n:, :-n] + s[:-n, :-n]


def _centre_lines(lines: np.ndarray, lineart: np.ndarray, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """Centre-line mask and local stroke width (ink mass over centre-line length around each
    point, in any direction), in bands: thinned with a margin wider than thinning reaches from
    a band's cut (each band's middle is exactly the whole-page centre line), then measured on
    that page-wide centre line with a margin of the window's reach (widths, too, are exactly
    the whole page's)."""
    h, w = lines.shape
    sk = np.zeros((h, w), bool)
    rows = band_rows(w)
    margin = 2 * reach + 2
    for y in range(0, h, rows):
        y0, y1 = max(y - margin, 0), min(y + rows + margin, h)
        sk[y:y + rows] = skeleton(lines[y0:y1])[y - y0:y - y0 + min(rows, h - y)]
    width = np.zeros((h, w), np.float16)
    for y in range(0, h, rows):
        y0, y1 = max(y - reach - 1, 0), min(y + rows + reach + 1, h)  # + 1: the dilation's reach
        keep = slice(y - y0, y - y0 + min(rows, h - y))
        # integer sums: exactly the same in every band whatever the band's origin
        darkness = (255 - lineart[y0:y1].astype(np.int32)) * dilate(lines[y0:y1], 1)  # sums fit: bands are small
        mass, length = _box_sum(darkness, reach), _box_sum(sk[y0:y1].astype(np.int32), reach)
        width[y:y + rows] = (mass / (255.0 * np.maximum(length, 1)))[keep]
    return sk, width


def _neighbour_codes(sk: np.ndarray, flat: np.ndarray) -> np.ndarray:
    """For the centre-line pixels at `flat` (indices into sk.ravel()), a bit per direction of
    _N8 that leads to a neighbour: 8-connected, but a diagonal only where no 4-connected pixel
    links the two already (a staircase is a line, every pixel with 2 neighbours, not a row of
    junctions)."""
    h, w = sk.shape
    p = np.pad(sk, 1).ravel()
    y, x = np.divmod(flat, w)
    at_ = (y + 1) * (w + 2) + x + 1
    at = lambda dy, dx: p[at_ + dy * (w + 2) + dx]  # noqa: E731
    code = np.zeros(len(flat), np.uint8)
    for bit, (dy, dx) in enumerate(_N8):
        link = at(dy, dx) if dy == 0 or dx == 0 else at(dy, dx) & ~at(dy, 0) & ~at(0, dx)
        code |= link.astype(np.uint8) << bit
    return code


def _pixel_paths(sk: np.ndarray) -> tuple[list[np.ndarray], list[bool], np.ndarray]:
    """The centre-line pixels as paths (arrays of (y, x)) between end points and junctions,
    then the closed loops left over; with each path whether it is closed and, per path end,
    whether it is a free end (a pixel with one neighbour). Neighbours as in _neighbour_codes.
    The walk visits every pixel once, in plain Python over flat lists."""
    h, w = sk.shape
    flat = np.flatnonzero(sk)
    code = _neighbour_codes(sk, flat)
    del sk
    n = len(flat)
    degree = ((code[:, None] >> np.arange(8, dtype=np.uint8)) & 1).sum(1)
    first, second = np.full(n, -1), np.full(n, -1)
    node_links: dict[int, list[int]] = {}
    is_node = degree != 2
    for bit, (dy, dx) in enumerate(_N8):
        has = np.flatnonzero(code >> bit & 1)
        to = np.searchsorted(flat, flat[has] + dy * w + dx)
        free = first[has] < 0
        first[has[free]], second[has[~free]] = to[free], to[~free]
        for i, j in zip(has[is_node[has]].tolist(), to[is_node[has]].tolist()):
            node_links.setdefault(i, []).append(j)
    n1, n2, node = first.tolist(), second.tolist(), is_node.tolist()
    visited = bytearray(is_node.astype(np.uint8).tobytes())
    walks: list[list[int]] = []
    closed: list[bool] = []

    def follow(prev: int, cur: int, until: Callable[[int], bool]) -> tuple[list[int], int]:
        """The pixels with two neighbours from `cur` on (come to from `prev`), marked visited,
        up to the first where until(pixel) holds; and that pixel."""
        run = []
        while not until(cur):
            visited[cur] = 1
            run.append(cur)
            nxt = n1[cur]
            prev, cur = cur, (nxt if nxt != prev else n2[cur])
        return run, cur

    for start, links in node_links.items():
        for cur in links:
            if node[cur] or visited[cur]:  # two nodes side by side: a step inside a junction
                continue
            run, end = follow(start, cur, node.__getitem__)
            walks.append([start, *run, end])
            closed.append(False)
    for start in np.flatnonzero(np.frombuffer(bytes(visited), np.uint8) == 0).tolist():
        if not visited[start]:  # a loop without an end or a junction
            visited[start] = 1
            walks.append([start, *follow(start, n1[start], start.__eq__)[0]])
            closed.append(True)
    ends = np.array([(degree[wk[0]] == 1, degree[wk[-1]] == 1) for wk in walks], bool).reshape(-1, 2)
    paths = [np.stack(np.divmod(flat[wk], w), axis=1) for wk in walks]
    return paths, closed, ends


def _smooth(pixels: np.ndarray, closed: bool, reach: int) -> np.ndarray:
    """A pixel path (y, x) as x, y pixel centres averaged over `reach` px either side: thinning
    leaves a centre line that zigzags by a pixel along wide strokes, and every zig became a
    wiggle in the curve. Open paths keep their ends where they were (odd reflection)."""
    q = pixels[:, ::-1] + 0.5
    r = min(reach, (len(q) - 1) // 2)
    if r < 1:
        return q
    if closed:
        ext = np.concatenate([q[-r:], q, q[:r]])
    else:
        ext = np.concatenate([2 * q[0] - q[r:0:-1], q, 2 * q[-1] - q[-2:-r - 2:-1]])
    c = np.concatenate([np.zeros((1, 2)), ext]).cumsum(axis=0)
    return (c[2 * r + 1:] - c[:-2 * r - 1]) / (2 * r + 1)


def _medians(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """The median of each run of `values` that begins at `starts` (all runs at once)."""
    run = np.repeat(np.arange(len(starts)), np.diff(starts, append=len(values)))
    ordered = values[np.lexsort((values, run))]
    ends = np.append(starts[1:], len(values))
    return (ordered[(starts + ends - 1) // 2] + ordered[(starts + ends) // 2]) / 2


def _simplify(p: np.ndarray, starts: np.ndarray, tol: float) -> np.ndarray:
    """Douglas-Peucker on many paths at once (p: their points end to end, in any number of
    dimensions; starts: where each begins): a mask of the points kept. Every round splits each
    segment at its farthest point beyond `tol`; a segment with none is final and its points
    leave the round."""
    m = len(p)
    keep = np.zeros(m, bool)
    keep[starts] = True
    keep[np.append(starts[1:], m) - 1] = True
    done = keep.copy()
    while True:
        idx = np.flatnonzero(~done)
        if not len(idx):
            return keep
        kept = np.flatnonzero(keep)
        seg = np.searchsorted(kept, idx) - 1
        a, b = p[kept[seg]], p[kept[seg + 1]]
        chord, rel = b - a, p[idx] - a
        unit = chord / np.maximum(np.linalg.norm(chord, axis=1), 1e-9)[:, None]  # 0 where a == b
        dist = np.linalg.norm(rel - (rel * unit).sum(1)[:, None] * unit, axis=1)
        first = np.flatnonzero(np.r_[True, seg[1:] != seg[:-1]])
        count = np.diff(np.append(first, len(seg)))
        far = np.maximum.reduceat(dist, first)
        split = far > tol
        done[idx[~np.repeat(split, count)]] = True
        best = np.flatnonzero((dist == np.repeat(far, count)) & np.repeat(split, count))
        _, one = np.unique(seg[best], return_index=True)  # the first farthest point, as recursion picks
        keep[idx[best[one]]] = True
        done[idx[best[one]]] = True


def extract(lineart: np.ndarray, thickness: float, close_gaps: float = 0.0) -> Strokes:
    """lineart: HxW uint8 (255 white). thickness: the line width it was drawn at (px)."""
    h, w = lineart.shape
    ink = lineart < INK_LEVEL
    half = max(int(math.ceil(thickness / 2)), 1)
    blobs = spot_blacks(ink, half)
    lines = ink & ~blobs
    del ink
    sk, width = _centre_lines(lines, lineart, half + 3)
    del lines
    out = Strokes(w, h)
    spur = max(2.0 * thickness, 4.0)
    paths, closed, free_ends = _pixel_paths(sk)
    del sk
    lengths = np.array([len(p) for p in paths], int)
    free = free_ends.sum(1)
    # drop spurs off a junction and fragments (short, with a free end, or small loops), and
    # steps inside a junction's pixel cluster
    kept = [i for i in range(len(paths)) if not (lengths[i] < spur and (free[i] or closed[i]))
            and not (lengths[i] <= 3 and not free[i] and not closed[i])]
    if not kept:
        out.fills = _runs(blobs)
        return out
    pix = np.concatenate([paths[i] for i in kept])
    reach = int(np.clip(half, 1, 4))
    centre = np.concatenate([_smooth(paths[i], closed[i], reach) for i in kept])
    along_all = width[pix[:, 0], pix[:, 1]].astype(np.float32).clip(1.0, 4 * thickness + 2)
    starts = np.cumsum(np.r_[0, lengths[kept][:-1]])
    # a point is kept where the course or the width (a taper, a swell) turns
    keep = _simplify(np.concatenate([centre, along_all[:, None] * (SIMPLIFY_PX / WIDTH_TOLERANCE_PX)], axis=1),
                     starts, SIMPLIFY_PX)
    typical = _medians(along_all, starts)
    for k, (i, a, b) in enumerate(zip(kept, starts.tolist(), (starts + lengths[kept]).tolist())):
        along = along_all[a:b]
        kept_at = np.flatnonzero(keep[a:b])
        pts = centre[a:b][kept_at]
        # each point's width: the mean over the stretch it stands for (a single pixel's
        # measure jitters); the ends keep their own (tapers)
        cut = np.concatenate([[0], (kept_at[:-1] + kept_at[1:] + 1) // 2])
        widths = np.add.reduceat(along, cut) / np.diff(cut, append=len(along))
        widths[[0, -1]] = along[[kept_at[0], kept_at[-1]]]
        if closed[i] and len(pts) > 2:
            pts, widths = np.concatenate([pts, pts[:1]]), np.append(widths, widths[0])
        out.paths.append(Path(pts, widths, closed[i], float(typical[k])))
    if close_gaps > 0:
        _close_gaps(out, close_gaps)
    out.fills = _runs(blobs)
    return out


def _close_gaps(strokes: Strokes, reach: float) -> None:
    """Join end points of open paths that lie within `reach` px of another end facing them
    (each end once, nearest first from each end in path order)."""
    ends = [(i, j) for i, p in enumerate(strokes.paths) if not p.closed and len(p.points) >= 2 for j in (0, -1)]
    if not ends:
        return
    tips = np.array([strokes.paths[i].points[j] for i, j in ends])
    before = np.array([strokes.paths[i].points[1 if j == 0 else -2] for i, j in ends])
    out_dir = tips - before
    out_dir /= np.maximum(np.hypot(out_dir[:, 0], out_dir[:, 1]), 1e-9)[:, None]
    path_of = np.array([i for i, _ in ends])
    short = np.array([len(strokes.paths[i].points) < 4 for i, _ in ends])
    # candidate pairs: within reach, facing each other (a symmetric test), found by sweeping
    # the ends sorted by x
    order = np.argsort(tips[:, 0], kind="stable")
    xs = tips[order, 0]
    pairs = []
    for k in range(1, len(ends)):
        near = np.flatnonzero(xs[k:] - xs[:-k] <= reach)
        if not len(near):
            break
        pairs.append(np.stack([order[near], order[near + k]], axis=1))
    if not pairs:
        return
    a, b = np.concatenate(pairs).T
    gap = tips[b] - tips[a]
    d = np.hypot(gap[:, 0], gap[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        ok = (d > 0) & (d <= reach) & ((gap * out_dir[a]).sum(1) / d > 0.3) & ((-gap * out_dir[b]).sum(1) / d > 0.3)
    ok &= ~((path_of[a] == path_of[b]) & short[a])
    a, b, d = np.concatenate([a[ok], b[ok]]), np.concatenate([b[ok], a[ok]]), np.concatenate([d[ok], d[ok]])
    used = np.zeros(len(ends), bool)
    by = np.lexsort((d, a))  # each end in turn takes the nearest end still free
    for x, y in zip(a[by].tolist(), b[by].tolist()):
        if used[x] or used[y]:
            continue
        used[[x, y]] = True
        (i, j), (k, m) = ends[x], ends[y]
        strokes.paths.append(Path(np.stack([tips[x], tips[y]]),
                                  np.array([strokes.paths[i].widths[j], strokes.paths[k].widths[m]], np.float32)))


def _runs(mask: np.ndarray) -> list[np.ndarray]:
    """Rows of filled pixels as (y, x0, x1) runs: the spot blacks exactly, one array in all."""
    if not mask.any():
        return []
    rows = []
    for y in np.flatnonzero(mask.any(axis=1)):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mask[y].astype(np.int8), [0]])))
        rows.append(np.stack([np.full(len(edges) // 2, y), edges[::2], edges[1::2]], axis=1))
    return [np.concatenate(rows)]


def fit_error(strokes: Strokes, sk: np.ndarray) -> float:
    """Mean distance (px) from the fitted curves (sampled) to the raster's centre-line pixels:
    how closely the strokes follow the lineart."""
    samples = [p.polyline() for p in strokes.paths if len(p.points) > 1]
    if not samples or not sk.any():
        return 0.0
    curve = np.concatenate(samples)
    ys, xs = np.nonzero(sk)
    centre = np.stack([xs + 0.5, ys + 0.5], 1)
    best = np.full(len(curve), np.inf)
    for chunk in range(0, len(centre), 2048):
        c = centre[chunk:chunk + 2048]
        best = np.minimum(best, np.hypot(curve[:, None, 0] - c[None, :, 0], curve[:, None, 1] - c[None, :, 1]).min(axis=1))
    return float(best.mean())
