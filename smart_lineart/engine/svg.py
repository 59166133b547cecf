"""Strokes as SVG: each centre-line a cubic Bézier path stroked at its median width (round
caps and joins), the spot blacks one filled path. Units are the image's pixels, which is also
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


def fill_data(runs: np.ndarray, offset: tuple[int, int] = (0, 0)) -> str:
    dx, dy = offset
    return "".join(f"M{x0 + dx} {y + dy}h{x1 - x0}v1h{x0 - x1}z" for y, x0, x1 in runs.tolist())


def to_svg(strokes: Strokes, offset: tuple[int, int] = (0, 0), canvas: tuple[int, int] | None = None) -> str:
    """The SVG document: the strokes drawn `offset` px into a canvas of `canvas` px (default:
    their own size)."""
    cw, ch = canvas or (strokes.width, strokes.height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{cw}" height="{ch}" viewBox="0 0 {cw} {ch}">']
    for p in strokes.paths:
        d = path_data(p, offset)
        if d:
            out.append(f'<path fill="none" stroke="#000" stroke-linecap="round" stroke-linejoin="round" '
                       f'stroke-width="{_num(float(np.median(p.widths)))}" d="{d}"/>')
    for runs in strokes.fills:
        out.append(f'<path fill="#000" d="{fill_data(runs, offset)}"/>')
    out.append("</svg>\n")
    return "\n".join(out)
