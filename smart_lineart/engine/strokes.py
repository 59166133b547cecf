"""Lineart pixels -> strokes: centre-lines as smooth cubic Bézier paths with a width per point,
and spot blacks as filled shapes. Numpy only (it runs inside Krita's Python too).

1. Spot blacks are what survives an opening larger than the line's half-width; the rest is line.
2. The line ink is thinned to its centre-line in bands that overlap by more than the thinning
   reaches, so the page-wide centre-line is exactly what a whole-page thinning gives: no band
   cuts a stroke. Widths come from the same bands (twice the distance to paper).
3. The centre-line pixels become a graph; paths run between end points and junctions (a T or an
   X keeps its junction; strokes meet there). Spurs shorter than the line is wide and fragments
   shorter than a dot are dropped.
4. Each path is simplified (Douglas-Peucker, SIMPLIFY_PX: the pixel stair-steps go, corners
   stay) and drawn as a Catmull-Rom curve through the kept points, i.e. cubic Béziers; where it
   turns sharply the curve keeps a corner.
5. Optionally, end points that nearly meet (within `close_gaps` px, facing each other) are
   joined, so a fill tool fills each region.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .morphology import dilate, skeleton, spot_blacks
from .preprocess import band_rows

INK_LEVEL = 128  # lineart pixels darker than this are ink
STROKE_BYTES_PER_PIXEL = 20  # extraction's peak per page pixel: masks, widths and the centre-line graph
# (Python objects per centre-line pixel); measured 15.6 on a dense A4 page, with headroom
CORNER_DEG = 55.0  # a turn sharper than this between simplified segments is a corner
SIMPLIFY_PX = 0.75  # Douglas-Peucker tolerance: drops the pixel stair-steps, keeps the shape
_N8 = [(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)]


@dataclass
class Path:
    points: np.ndarray  # (N, 2) x, y of the centre-line, px (pixel centres at .5)
    widths: np.ndarray  # (N,) stroke width at each point, px
    closed: bool = False

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
    point, in any direction), in bands that overlap by more than thinning and the width window
    reach: each band's middle is exactly the whole-page result."""
    h, w = lines.shape
    sk = np.zeros((h, w), bool)
    width = np.zeros((h, w), np.float16)
    rows = band_rows(w)
    margin = 2 * reach + 2
    for y in range(0, h, rows):
        y0, y1 = max(y - margin, 0), min(y + rows + margin, h)
        keep = slice(y - y0, y - y0 + min(rows, h - y))
        band_sk = skeleton(lines[y0:y1])
        darkness = (255 - lineart[y0:y1].astype(np.float32)) / 255 * dilate(lines[y0:y1], 1)
        mass, length = _box_sum(darkness, reach), _box_sum(band_sk.astype(np.float32), reach)
        sk[y:y + rows] = band_sk[keep]
        width[y:y + rows] = (mass / np.maximum(length, 1.0))[keep]
    return sk, width


def _neighbour_codes(sk: np.ndarray) -> np.ndarray:
    """Per centre-line pixel, a bit per direction of _N8 that leads to a neighbour: 8-connected,
    but a diagonal only where no 4-connected pixel links the two already (a staircase is a
    line, every pixel with 2 neighbours, not a row of junctions)."""
    h, w = sk.shape
    p = np.pad(sk, 1)
    at = lambda dy, dx: p[1 + dy:1 + dy + h, 1 + dx:1 + dx + w]  # noqa: E731
    code = np.zeros((h, w), np.uint8)
    for bit, (dy, dx) in enumerate(_N8):
        link = at(dy, dx) if dy == 0 or dx == 0 else at(dy, dx) & ~at(dy, 0) & ~at(0, dx)
        code |= (link & sk).astype(np.uint8) << bit
    return code


_STEPS = [[_N8[b] for b in range(8) if c >> b & 1] for c in range(256)]  # neighbour code -> offsets


Pixel = tuple[int, int]


class _Graph:
    """The centre-line pixels, each with its neighbours (see _neighbour_codes)."""

    def __init__(self, sk: np.ndarray):
        code = _neighbour_codes(sk)
        ys, xs = np.nonzero(sk)
        self.steps = {p: _STEPS[c] for p, c in zip(zip(ys.tolist(), xs.tolist()), code[ys, xs].tolist())}
        self.degree = {p: len(steps) for p, steps in self.steps.items()}

    def neighbours(self, p: Pixel) -> list[Pixel]:
        return [(p[0] + dy, p[1] + dx) for dy, dx in self.steps[p]]

    def paths(self) -> list[tuple[list[Pixel], bool]]:
        """Pixel paths between end points and junctions, then the closed loops left over."""
        nodes = {p for p, d in self.degree.items() if d != 2}
        walked: set[tuple[Pixel, Pixel]] = set()  # steps taken, both ways
        visited: set[Pixel] = set(nodes)
        out: list[tuple[list[Pixel], bool]] = []
        for start in nodes:
            for nxt in self.neighbours(start):
                if (start, nxt) not in walked:
                    out.append((self._walk(start, nxt, nodes, walked, visited), False))
        for start in self.steps.keys() - visited:  # loops without an end or a junction
            if start not in visited:
                visited.add(start)
                out.append((self._walk(start, start, set(), walked, visited, loop=True), True))
        return out

    def _walk(self, start: Pixel, nxt: Pixel, nodes: set[Pixel], walked: set, visited: set[Pixel],
              loop: bool = False) -> list[Pixel]:
        """Follow the line from `start` through `nxt` until a node, a dead end, or (loop) back."""
        path, prev, cur = [start], start, nxt
        if not loop:
            walked |= {(start, nxt), (nxt, start)}
            path.append(cur)
            visited.add(cur)
        while cur not in nodes:
            step = [q for q in self.neighbours(cur) if q != prev and (q not in visited if loop else (cur, q) not in walked)]
            if not step:
                break
            walked |= {(cur, step[0]), (step[0], cur)}
            prev, cur = cur, step[0]
            path.append(cur)
            visited.add(cur)
        return path


def _simplify(p: np.ndarray, tol: float) -> np.ndarray:
    """Douglas-Peucker: indices of the points kept."""
    keep = np.zeros(len(p), bool)
    keep[[0, -1]] = True
    stack = [(0, len(p) - 1)]
    while stack:
        a, b = stack.pop()
        if b - a < 2:
            continue
        seg = p[b] - p[a]
        n = np.hypot(*seg)
        rel = p[a + 1:b] - p[a]
        d = np.abs(rel[:, 0] * seg[1] - rel[:, 1] * seg[0]) / n if n > 1e-9 else np.hypot(rel[:, 0], rel[:, 1])
        i = int(np.argmax(d))
        if d[i] > tol:
            keep[a + 1 + i] = True
            stack += [(a, a + 1 + i), (a + 1 + i, b)]
    return np.flatnonzero(keep)


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
    graph = _Graph(sk)
    del sk
    degree = graph.degree
    for pixels, closed in graph.paths():
        arr = np.array(pixels)
        length = len(arr)
        ends_free = 0 if closed else int(degree[pixels[0]] == 1) + int(degree[pixels[-1]] == 1)
        if length < spur and (ends_free >= 1 or closed):  # a spur off a junction, or a fragment
            continue
        if length <= 3 and not ends_free and not closed:  # a step inside a junction's pixel cluster
            continue
        pts = arr[:, ::-1] + 0.5
        keep = _simplify(pts, SIMPLIFY_PX)
        widths = width[arr[keep, 0], arr[keep, 1]].astype(np.float32).clip(1.0, 4 * thickness + 2)
        if closed and len(keep) > 2:
            keep = np.append(keep, keep[0])
            widths = np.append(widths, widths[0])
        out.paths.append(Path(pts[keep], widths, closed))
    if close_gaps > 0:
        _close_gaps(out, close_gaps)
    out.fills = _runs(blobs)
    return out


def _close_gaps(strokes: Strokes, reach: float) -> None:
    """Join end points of open paths that lie within `reach` px of another end facing them."""
    ends = []
    for i, p in enumerate(strokes.paths):
        if p.closed or len(p.points) < 2:
            continue
        for j, (tip, before) in enumerate(((p.points[0], p.points[1]), (p.points[-1], p.points[-2]))):
            d = tip - before
            ends.append((i, j, tip, d / max(np.hypot(*d), 1e-9), float(p.widths[0 if j == 0 else -1])))
    used: set[tuple[int, int]] = set()
    for a in range(len(ends)):
        i, j, tip, out_dir, wa = ends[a]
        if (i, j) in used:
            continue
        best, best_d = None, reach
        for b in range(len(ends)):
            k, m, other, other_dir, _ = ends[b]
            if b == a or (k, m) in used or (k == i and len(strokes.paths[i].points) < 4):
                continue
            gap = other - tip
            d = float(np.hypot(*gap))
            if 0 < d <= best_d and (gap @ out_dir) / d > 0.3 and (-gap @ other_dir) / d > 0.3:
                best, best_d = b, d
        if best is not None:
            k, m, other, _, wb = ends[best]
            used |= {(i, j), (k, m)}
            strokes.paths.append(Path(np.stack([tip, other]), np.array([wa, wb], np.float32)))


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
    samples = [_sample(p) for p in strokes.paths if len(p.points) > 1]
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


def _sample(p: Path, per_segment: int = 8) -> np.ndarray:
    b = p.beziers()
    t = np.linspace(0, 1, per_segment, endpoint=False)[None, :, None]
    pts = ((1 - t) ** 3 * b[:, None, 0] + 3 * (1 - t) ** 2 * t * b[:, None, 1] + 3 * (1 - t) * t ** 2 * b[:, None, 2]
           + t ** 3 * b[:, None, 3])
    return np.concatenate([pts.reshape(-1, 2), p.points[-1:]])
