"""Strokes as SVG: each centre-line a cubic Bézier path stroked at its median width (round
caps and joins), or (outlines) a filled shape whose width follows the stroke's width along
the line, tapers included; the spot blacks one filled path. Units are the image's pixels, which is also
what Krita's `VectorLayer.addShapesFromSvg` reads (it parses at the image's resolution; measured
in Krita 5.2.9 and 5.3.4). Every path stands alone, no groups: in Krita each is one shape the
artist can select and restyle."""
from __future__ import annotations

import numpy as np

from .strokes import Path, Strokes


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def path_data(p: Path, offset: tuple[float, float] = (0.0, 0.0)) -> str:
    b = p.beziers() + np.asarray(offset, np.float64)
    if not len(b):
        return ""
    parts = [f"M{_num(b[0, 0, 0])} {_num(b[0, 0, 1])}"]
    parts += [" C" + " ".join(f"{_num(x)} {_num(y)}" for x, y in seg[1:]) for seg in b]
    return "".join(parts) + ("Z" if p.closed else "")


def outline_data(p: Path, offset: tuple[float, float] = (0.0, 0.0)) -> str:
    """The stroke as a closed outline: both sides at half the local width from the curve, round
    ends. A closed stroke is a ring (outer and inner side wind opposite ways)."""
    per = 8
    pts = p.polyline(per) + np.asarray(offset, np.float64)
    if len(pts) < 2:
        return ""
    half = np.interp(np.arange(len(pts)) / per, np.arange(len(p.widths)), p.widths) / 2
    k = 2 * per + 1  # measured widths jitter: averaged over about two points either side
    half = np.convolve(np.pad(half, k // 2, mode="wrap" if p.closed else "edge"), np.ones(k) / k, mode="valid")
    tangent = np.gradient(pts, axis=0)
    tangent /= np.maximum(np.hypot(tangent[:, 0], tangent[:, 1]), 1e-9)[:, None]
    normal = np.stack([-tangent[:, 1], tangent[:, 0]], axis=1)
    left, right = pts + normal * half[:, None], pts - normal * half[:, None]
    if p.closed:
        return _polygon(left) + _polygon(right[::-1])
    ang = np.linspace(0, np.pi, 9)[1:-1, None]
    end = pts[-1] + half[-1] * (np.cos(ang) * normal[-1] + np.sin(ang) * tangent[-1])
    start = pts[0] + half[0] * (-np.cos(ang) * normal[0] - np.sin(ang) * tangent[0])
    return _polygon(np.concatenate([left, end, right[::-1], start]))


def _polygon(q: np.ndarray) -> str:
    return "M" + " L".join(f"{_num(x)} {_num(y)}" for x, y in q) + "Z"


def fill_data(runs: np.ndarray, offset: tuple[int, int] = (0, 0)) -> str:
    dx, dy = offset
    return "".join(f"M{x0 + dx} {y + dy}h{x1 - x0}v1h{x0 - x1}z" for y, x0, x1 in runs.tolist())


def to_svg(strokes: Strokes, offset: tuple[int, int] = (0, 0), canvas: tuple[int, int] | None = None,
           outlines: bool = False) -> str:
    """The SVG document: the strokes drawn `offset` px into a canvas of `canvas` px (default:
    their own size), as lines of one width each or (outlines) as filled shapes."""
    cw, ch = canvas or (strokes.width, strokes.height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{cw}" height="{ch}" viewBox="0 0 {cw} {ch}">']
    for p in strokes.paths:
        if outlines:
            d = outline_data(p, offset)
            if d:
                out.append(f'<path fill="#000" d="{d}"/>')
            continue
        d = path_data(p, offset)
        if d:
            out.append(f'<path fill="none" stroke="#000" stroke-linecap="round" stroke-linejoin="round" '
                       f'stroke-width="{_num(p.width)}" d="{d}"/>')
    for runs in strokes.fills:
        out.append(f'<path fill="#000" d="{fill_data(runs, offset)}"/>')
    out.append("</svg>\n")
    return "\n".join(out)
