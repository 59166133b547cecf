"""Strokes as SVG: each centre-line a cubic Bézier path stroked at its median width (round
caps and joins), the spot blacks one filled path. Units are the image's pixels unless scaled
(Krita's `VectorLayer.addShapesFromSvg` reads points)."""
from __future__ import annotations

import numpy as np

from .strokes import Path, Strokes


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def path_data(p: Path) -> str:
    b = p.beziers()
    if not len(b):
        return ""
    parts = [f"M{_num(b[0, 0, 0])} {_num(b[0, 0, 1])}"]
    parts += [" C" + " ".join(f"{_num(x)} {_num(y)}" for x, y in seg[1:]) for seg in b]
    return "".join(parts) + ("Z" if p.closed else "")


def fill_data(runs: np.ndarray) -> str:
    return "".join(f"M{x0} {y}h{x1 - x0}v1h{x0 - x1}z" for y, x0, x1 in runs.tolist())


def to_svg(strokes: Strokes, scale: float = 1.0, offset: tuple[int, int] = (0, 0),
           canvas: tuple[int, int] | None = None) -> str:
    """The SVG document. The strokes are drawn `offset` px into a canvas of `canvas` px (default:
    their own size), every length times `scale` (e.g. 72 / dpi: Krita's vector layers read
    points)."""
    cw, ch = canvas or (strokes.width, strokes.height)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{_num(cw * scale)}" height="{_num(ch * scale)}" '
           f'viewBox="0 0 {_num(cw * scale)} {_num(ch * scale)}">',
           f'<g transform="scale({_num(scale)}) translate({offset[0]} {offset[1]})">',
           '<g fill="none" stroke="#000" stroke-linecap="round" stroke-linejoin="round">']
    for p in strokes.paths:
        d = path_data(p)
        if d:
            out.append(f'<path stroke-width="{_num(float(np.median(p.widths)))}" d="{d}"/>')
    out.append("</g>")
    for runs in strokes.fills:
        out.append(f'<path fill="#000" d="{fill_data(runs)}"/>')
    out.append("</g>\n</svg>\n")
    return "\n".join(out)
