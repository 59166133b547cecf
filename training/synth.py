"""Synthetic training pairs: clean curves -> (rough sketch, clean lineart in a brush style).

There is no dataset we may use, so every pair is generated here from a seed. A drawing is a
set of intended curves (splines, arcs, closed shapes, corners, crossings, junctions, small
marks, close parallel strands) plus construction lines. The sketch draws each intended curve
with 1-4 wobbly, bowed, overshooting or broken strokes, adds faint construction lines and
blue guides and page debris (crumbs, flicks, eraser smudges), and is put on tinted, unevenly
lit, grainy paper or on a transparent layer.
The target renders the line an inker would trace through the passes of each intended curve
(their mean course, see `_sketch_strokes`), at the requested thickness and brush.

    python -m training.synth --preview preview.png   # a grid of pairs to look at
"""
from __future__ import annotations

import argparse
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from smart_lineart.engine.morphology import dilate
from smart_lineart.engine.preprocess import grey_on_white, measure_levels, sketch_u8, to_uint8
from training.curves import arclength, corners, ellipse, normals, resample, spline
from training.figures import Details, Fill, Shares, details

BRUSHES = ("fineliner", "inking-pen", "brush-pen", "pencil")
THICKNESS_RANGE = (1.0, 8.0)
# Widths where a pass drawn as its own line falls outside F1@2's reach of the target: the
# held-out set's 1.5 px conditions score 0.95 where 3 and 6 px score 0.97-0.98.
THIN_RANGE = (1.0, 2.0)
FAINT_RANGE = (0.15, 0.55)
DEFAULT_FAINT = 0.45  # the threshold the example page's construction lines are drawn under (a card's default_faint is per model)
PENCIL_INK = 0.7  # darkness of the pencil preset's lines (lighter grey than ink)
SS = 4  # supersampling factor for anti-aliased rendering
# how a traced line was sketched (`render_sketch`): dark in 1-4 passes, light but intended, gone
# over 4-7 times, a loose hand's bundle, a hatching line drawn once, a line gone over once more by
# a parting pass, a pair of lines beside each other, a line and a light one leaving it (`figures.details`)
LINE_KINDS = ("line", "light", "gone_over", "bundle", "hatching", "restroke", "beside", "fork")
END_PX = 10.0  # a line's end, for `Pair.kind_masks`


@dataclass
class Stroke:
    pts: np.ndarray  # (N, 2) x, y in pixels, ~1 px apart
    width: np.ndarray  # (N,) pixels
    darkness: np.ndarray  # (N,) 0..1


def random_drawing(rng: np.random.Generator, size: int, min_gap: float = 8.0
                   ) -> tuple[list[tuple[np.ndarray, bool]], list[np.ndarray], float]:
    """Intended curves (points, closed), construction lines, and the typical curve scale.
    Near-parallel intended lines keep at least `min_gap` px apart: closer than the sketch's
    passes wander, one line and two lines would look the same and the target would contradict
    itself."""
    scale = size * rng.uniform(0.25, 0.9)
    curves: list[tuple[np.ndarray, bool]] = []
    for _ in range(rng.integers(4, 14)):
        c = rng.uniform(-0.1, 1.1, 2) * size
        kind = rng.random()
        if kind < 0.35:
            curves.append((spline(rng, c, scale), False))
        elif kind < 0.55:
            closed = rng.random() < 0.5
            curves.append((ellipse(rng, c, scale, closed), closed))
        elif kind < 0.7:
            curves.append(corners(rng, c, scale))
        elif kind < 0.8:  # strands: a curve with 1-3 near-parallel companions (hair, folds)
            base = spline(rng, c, scale)
            gap = min_gap + rng.exponential(5.0)  # mostly close: where one line and two lines differ
            nrm = normals(base)
            for k in range(rng.integers(2, 5)):
                bend = np.sin(np.linspace(0, np.pi, len(base)))[:, None] * rng.normal(0, min(3.0, gap / 4))
                curves.append((base + nrm * (k * gap + bend), False))
        elif kind < 0.9 and curves:  # junction: start on an existing curve
            host = curves[rng.integers(len(curves))][0]
            p = host[rng.integers(len(host))]
            tail = spline(rng, p, scale * 0.6)
            curves.append((tail - tail[0] + p, False))
        else:  # small details: eyes, ticks, dots
            for _ in range(rng.integers(1, 5)):
                q = c + rng.normal(0, scale * 0.15, 2)
                if rng.random() < 0.5:
                    curves.append((ellipse(rng, q, rng.uniform(8, 30), True), True))
                else:
                    d = rng.normal(0, 1, 2)
                    curves.append((resample(np.stack([q, q + d / np.hypot(*d) * rng.uniform(6, 14)])), False))
    guides = []
    for _ in range(rng.integers(0, 5)):
        if rng.random() < 0.6:  # long straight guide / perspective line
            p = rng.uniform(0, size, 2)
            d = rng.normal(0, 1, 2)
            d /= np.hypot(*d)
            guides.append(resample(np.stack([p - d * size, p + d * size])))
        else:
            guides.append(ellipse(rng, rng.uniform(0, size, 2), scale * 1.2, rng.random() < 0.7))
    return curves, guides, scale


# ---------------------------------------------------------------- rendering

def _draw(strokes: list[Stroke], size: int, ss: int = SS) -> np.ndarray:
    """Anti-aliased darkness (0 paper .. 1 ink) of variable-width strokes; overlaps take the max."""
    img = Image.new("L", (size * ss, size * ss), 0)
    draw = ImageDraw.Draw(img)
    chunk = 6
    for st in sorted(strokes, key=lambda s: float(s.darkness.mean())):
        p = (st.pts + 0.5) * ss - 0.5
        starts = np.arange(0, max(len(p) - 1, 1), chunk)
        widths = np.add.reduceat(st.width, starts) / np.diff(np.append(starts, len(p))) * ss
        values = (255 * np.add.reduceat(st.darkness, starts) / np.diff(np.append(starts, len(p))) + 0.5).astype(int)
        for i, w, v in zip(starts.tolist(), widths.tolist(), values.tolist()):
            seg = p[i:i + chunk + 1]
            if len(seg) > 1:
                draw.line(seg.ravel().tolist(), fill=v, width=max(int(round(w)), 1))
            r = w / 2
            if r >= 1:  # round joins and caps
                x, y = seg[0]
                draw.ellipse((x - r, y - r, x + r, y + r), fill=v)
                if i + chunk + 1 >= len(p):
                    x, y = seg[-1]
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=v)
    if ss > 1:
        img = img.resize((size, size), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32) / 255.0


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0, 1)
    return x * x * (3 - 2 * x)


def target_strokes(curves, thickness: float, brush: str) -> list[Stroke]:
    """The intended curves as clean strokes of the brush preset."""
    out = []
    for pts, closed in curves:
        s = arclength(pts)
        length = s[-1]
        w = np.full(len(pts), thickness)
        if brush in ("inking-pen", "brush-pen") and not closed:
            ramp = min(length / 2.5, 5 * thickness + 6)
            w = w * (0.2 + 0.8 * _smoothstep(np.minimum(s, length - s) / max(ramp, 1e-3)))
        if brush == "brush-pen":  # an angled nib: wide on one diagonal, thin on the other
            d = np.gradient(pts, axis=0)
            ang = np.arctan2(d[:, 1], d[:, 0])
            w = w * (0.5 + 0.8 * np.abs(np.sin(ang - np.pi / 4)))
        dark = np.full(len(pts), PENCIL_INK if brush == "pencil" else 1.0)
        out.append(Stroke(pts, w, dark))
    return out


def _fill_mask(fills: Sequence[Fill], size: int, ss: int = SS) -> np.ndarray:
    """Anti-aliased coverage (0..1) of filled shapes, their holes left out."""
    img = Image.new("L", (size * ss, size * ss), 0)
    draw = ImageDraw.Draw(img)
    for f in fills:
        draw.polygon(((f.outline + 0.5) * ss - 0.5).ravel().tolist(), fill=255)
        for hole in f.holes:
            draw.polygon(((hole + 0.5) * ss - 0.5).ravel().tolist(), fill=0)
    if ss > 1:
        img = img.resize((size, size), Image.Resampling.BOX)
    return np.asarray(img, dtype=np.float32) / 255.0


def render_target(curves, size: int, thickness: float, brush: str, fills: Sequence[Fill] = ()) -> np.ndarray:
    """Clean lineart: 1 = white, 0 = ink, anti-aliased. Spot blacks are solid, outlined at
    the line thickness (an inker fills the shape and draws its edge)."""
    outlines = [(f.outline, True) for f in fills]
    dark = _draw(target_strokes(list(curves) + outlines, thickness, brush), size)
    if fills:
        ink = PENCIL_INK if brush == "pencil" else 1.0
        dark = np.maximum(dark, _fill_mask(fills, size) * ink)
    if brush == "pencil":  # graphite has a soft edge
        img = Image.fromarray(to_uint8(dark)).filter(ImageFilter.GaussianBlur(0.6))
        dark = np.asarray(img, dtype=np.float32) / 255.0
    return 1.0 - dark


def _extend(p: np.ndarray, end: int, k: int) -> np.ndarray:
    """Lengthen an open curve by k px along its tangent at one end (0 start, 1 end)."""
    a, b = (p[0], p[min(3, len(p) - 1)]) if end == 0 else (p[-1], p[max(-4, -len(p))])
    d = (a - b) / max(np.hypot(*(a - b)), 1e-6)
    ext = a + d * np.arange(1, k + 1)[:, None]
    return np.concatenate([ext[::-1], p]) if end == 0 else np.concatenate([p, ext])


def _sketch_strokes(rng, pts: np.ndarray, closed: bool, style: dict, darkness: float, n_passes: int | None = None
                    ) -> tuple[list[Stroke], np.ndarray]:
    """How people sketch one intended line: several offset, bowed passes, overshoot, gaps.

    Also returns the line an inker traces through those passes: the intended curve moved to
    the passes' mean offset (its slow part; short wobble is smoothed away) and ending where
    the passes end on average. That, not the hidden intended curve, is the target: a line
    drawn 2 px off in every pass is 2 px off on the page, and a target the sketch cannot
    predict only teaches the network to blur."""
    n = n_passes or rng.choice([1, 2, 3, 4], p=style["passes"])
    m = len(pts)
    shift, count, ends, drawn = np.zeros(m), np.zeros(m), np.zeros(2), 0
    out = []
    spread = style["spread"]
    for _ in range(n):
        if closed:
            start = rng.integers(m)
            extra = int(rng.uniform(-0.05, 0.12) * m)
            src = (start + np.arange(m + extra)) % m
            p = pts[src]
        else:
            p, src = pts, np.arange(m)
            for end in (0, 1):  # overshoot (extend along the tangent) or gap (stop short)
                e = rng.normal(1.5, style["overshoot"])
                k = int(e) if e > 0 else -min(int(-e), len(p) // 3)
                if k > 0:
                    p = _extend(p, end, k)
                    src = np.concatenate([np.full(k, -1), src] if end == 0 else [src, np.full(k, -1)])
                elif k < 0:
                    p, src = (p[-k:], src[-k:]) if end == 0 else (p[:len(p) + k], src[:len(src) + k])
                ends[end] += k
        if len(p) < 2:
            continue
        drawn += 1
        s = arclength(p)
        u = s / max(s[-1], 1e-6)
        # offset and bow: passes of one line meet near their ends and part in between. Shifting
        # a whole pass by the full spread made 2.3% of pass pairs parallel 3-5 px apart end to
        # end: several times as many as the intended double lines that close, so the network
        # merged every such pair. A third of it: 0.1% (measured on the offsets alone); bundles,
        # drawn only by loose sketchers, shift whole passes by the full spread (`render_sketch`)
        slow = rng.normal(0, style.get("shift", 0.3) * spread) + rng.normal(0, spread) * np.sin(np.pi * u)
        if style.get("fan", 0.0) > 0:  # passes started and aimed a little differently: they fan out
            slow = slow + rng.normal(0, spread * style["fan"]) * (2 * u - 1)
        fast = np.zeros(len(p))
        for _ in range(2):  # wobble: long waves are where the line goes, short ones are jitter
            wavelength = rng.uniform(30, 200)
            wave = rng.normal(0, spread * 0.5) * np.sin(2 * np.pi * s / wavelength + rng.uniform(0, 6.3))
            if wavelength >= 80:
                slow = slow + wave
            else:
                fast += wave
        on = src >= 0
        np.add.at(shift, src[on], slow[on])
        np.add.at(count, src[on], 1)
        q = p + normals(p) * (slow + fast)[:, None]
        pieces = _dashes(rng, q, spread) if rng.random() < style["scratch"] else [q]
        # one pass is the committed line, the others as dark as the sketcher's tool makes them
        # (`sketch_style`): in pencil lighter, in a digital rough about as dark
        weight = rng.uniform(0.92, 1.0) if drawn == 1 else rng.uniform(*style["pass_darkness"])
        for piece in pieces:
            k = len(piece)
            t = np.linspace(0, 1, k)
            pressure = np.clip(0.55 + 0.45 * np.sin(np.pi * t) ** 0.5 + rng.normal(0, 0.08), 0.3, 1.0)
            w = style["width"] * (0.6 + 0.4 * pressure)
            dk = np.clip(darkness * weight * (0.7 + 0.3 * pressure), 0, 1)
            out.append(Stroke(piece, w, dk))
    centre = pts + normals(pts) * (shift / np.maximum(count, 1))[:, None]
    if not closed and drawn:
        for end in (0, 1):
            k = int(round(ends[end] / drawn))
            if k > 0:
                centre = _extend(centre, end, k)
            elif k < 0:
                k = min(-k, (len(centre) - 2) // 2)
                centre = centre[k:] if end == 0 else centre[:len(centre) - k]
    return out, centre


def _dashes(rng, q: np.ndarray, spread: float) -> list[np.ndarray]:
    """Chicken scratch: the pass broken into short, slightly bowed and skewed dashes that
    mostly overlap the previous one side by side (shingled), each a little off the pass."""
    out, i = [], 0
    nrm = normals(q)
    while i < len(q) - 2:
        n = int(rng.uniform(10, 60))
        piece = q[i:i + n]
        t = np.arange(len(piece))
        shape = rng.normal(0, 0.06) * (t - len(piece) / 2) + rng.normal(0, 0.6) * np.sin(np.pi * t / max(len(piece) - 1, 1))
        out.append(piece + nrm[i:i + len(piece)] * (shape + rng.normal(0, 0.4 + 0.4 * spread))[:, None])
        i += max(n + int(rng.integers(-12, 4)), n // 2)
    return out


def _scribble(rng, fill: Fill, size: int, style: dict, darkness: float) -> list[Stroke]:
    """How a spot black is sketched: back-and-forth hatching across the shape, dense or
    loose, sometimes a second layer at another angle; a little over and under the edge."""
    inside = _fill_mask([fill], size, ss=1) > 0.5
    if not inside.any():
        return []
    ys, xs = np.nonzero(inside)
    c = np.array([xs.mean(), ys.mean()])
    r = 0.5 * np.hypot(np.ptp(xs), np.ptp(ys)) + 2
    out = []
    for _layer in range(1 if rng.random() < 0.6 else 2):
        ang = rng.uniform(0, np.pi)
        d, n = np.array([np.cos(ang), np.sin(ang)]), np.array([-np.sin(ang), np.cos(ang)])
        spacing = style["width"] * rng.uniform(0.5, 1.5)
        for off in np.arange(-r, r, spacing):
            line = c + n * (off + rng.normal(0, 0.3)) + d * np.arange(-r, r + 1)[:, None]
            ix = np.clip(np.round(line).astype(int), 0, size - 1)
            on = inside[ix[:, 1], ix[:, 0]] & (line >= 0).all(1) & (line < size).all(1)
            edges = np.flatnonzero(np.diff(np.concatenate([[0], on.astype(np.int8), [0]])))
            for a, b in zip(edges[::2], edges[1::2]):
                a, b = max(a - int(rng.integers(0, 3)), 0), min(b + int(rng.integers(0, 3)), len(line))
                if b - a >= 2:
                    seg = line[a:b]
                    out.append(Stroke(seg, np.full(len(seg), style["width"] * rng.uniform(0.9, 1.4)),
                                      np.full(len(seg), darkness * rng.uniform(0.85, 1.0))))
    return out


def _debris(rng, size: int) -> list[Stroke]:
    """What lands on a page besides the drawing: graphite crumbs and dust (dots under 2 px,
    often dark), tiny flicks where the pencil touched down, and eraser smudges (short wide
    light streaks). None of it is in the target: the specks lineart-v4 left on real roughs."""
    out = []
    area = (size / 256) ** 2
    for _ in range(rng.poisson(rng.uniform(2, 25) * area)):
        p = rng.uniform(0, size, 2)
        kind = rng.random()
        if kind < 0.6:  # a crumb: a dot
            pts, w = np.stack([p, p + rng.normal(0, 0.3, 2)]), rng.uniform(0.6, 2.0)
            dark = rng.uniform(0.3, 1.0)
        elif kind < 0.85:  # a flick
            d = rng.normal(0, 1, 2)
            pts = resample(np.stack([p, p + d / np.hypot(*d) * rng.uniform(2, 5)]))
            w, dark = rng.uniform(0.5, 1.2), rng.uniform(0.3, 0.9)
        else:  # an eraser smudge
            d = rng.normal(0, 1, 2)
            pts = resample(np.stack([p, p + d / np.hypot(*d) * rng.uniform(8, 30)]))
            w, dark = rng.uniform(3, 9), rng.uniform(0.05, 0.2)
        out.append(Stroke(pts, np.full(len(pts), w), np.full(len(pts), dark)))
    return out


def _noise(rng, size: int, sigma: float) -> np.ndarray:
    img = Image.fromarray(to_uint8(rng.random((size, size), dtype=np.float32)))
    n = np.asarray(img.filter(ImageFilter.GaussianBlur(sigma)), dtype=np.float32) / 255.0
    return (n - n.mean()) / max(n.std(), 1e-3)


def sketch_style(rng) -> dict:
    """How messy one sketcher is: passes per line, how far passes wander and fan out (share of
    the spread, end to end; optional), dashes, pencil width, later passes' darkness, bundles."""
    style = {
        "passes": rng.dirichlet([2, 3, 3, 1.5]),
        # a quarter are loose: passes several px apart, fanning (chicken-scratch digital roughs)
        "spread": rng.uniform(0.15, 2.4) if rng.random() < 0.75 else rng.uniform(2.4, 3.6),
        "fan": rng.uniform(0.0, 1.0),
        "overshoot": rng.uniform(1, 6),
        "scratch": rng.choice([0.0, 0.3, 0.9], p=[0.5, 0.3, 0.2]),
        "width": rng.uniform(0.6, 2.4),
        # a line's later passes against its committed one: in pencil 0.73-0.88 as dark where they
        # part 5-6 px (rough_house.png's walls); with a digital brush of fixed opacity as dark
        # (girl.png's hair), where only their course (parting, meeting, crossing) tells them
        # from intended close lines (hatching in `render_sketch`: one darkness, evenly spaced)
        "pass_darkness": (0.65, 0.88) if rng.random() < 0.6 else (0.88, 1.0),
    }
    # share of a loose sketcher's lines drawn as a bundle of passes (`render_sketch`)
    style["bundle"] = rng.uniform(0.0, 0.7) if style["spread"] >= 1.2 else 0.0
    return style


# A bundle whose passes fan and cross: whole passes shifted by 0.4 of the spread (not all of it),
# fanning by at least 0.8 of it. Of a side-by-side bundle's pass pairs 31% never come within 1.5 px
# of each other over the line's middle: parallel like an intended double, the cue for one line only
# the drawing's looseness; of these 10% (straight 208 px lines, spread 2.4-3.6 px: the test)
CROSSING = {"shift": 0.4, "fan": 0.8}


def min_gap(style: dict, thickness: float) -> float:
    """Spacing that keeps parallel intended lines apart in both the sketch and the target."""
    return max(thickness + 2.5, 4.0 * style["spread"] + 2.5)  # a tidy sketcher's lines 4 px apart stay two


def pass_reach(style: dict, thickness: float) -> float:
    """How far from a line's course its ink reaches, passes included (`_sketch_strokes`' wobble
    is about the spread either side)."""
    return thickness / 2 + 1.5 * style["spread"]


def render_sketch(rng, curves, guides, size: int, faint: float, style: dict, blue: bool | None = None,
                  extra: Details | None = None, crossing: float = 0.0
                  ) -> tuple[np.ndarray, list[tuple[np.ndarray, bool]], list[str]]:
    """A rough sketch of the drawing: HxWx3 (paper) or HxWx4 (transparent layer), 0..1, the
    lines an inker traces through it (see `_sketch_strokes`), to render the target from, and
    how each of them was sketched (one of LINE_KINDS, for measuring what a model misses).
    blue: force a non-photo-blue underdrawing on (True) or off (False); None: 40% of sketches.
    extra: structured parts; their hatching is drawn once per line, their spot blacks
    scribbled in and outlined (the fills themselves go to the target unchanged).
    crossing: the share of bundles drawn with `CROSSING` passes (`figures.Shares.crossing`)."""
    extra = extra or Details()
    strokes, traced, kinds = [], [], []
    for pts, closed in list(curves) + extra.curves:
        # 20% are light but intended lines: kept because they are above `faint`
        light = rng.random() < 0.2
        darkness = rng.uniform(faint + 0.05, 0.8) if light else rng.uniform(0.75, 1.0)
        # 12% are gone over again and again (dark hair, emphasis): still one line in the target
        gone_over = rng.random() < 0.12
        n = int(rng.integers(4, 8)) if gone_over else None
        how, kind = style, "gone_over" if gone_over else "light" if light else "line"
        if rng.random() < style.get("bundle", 0.0):  # a bundle: 3-6 long, nearly parallel passes
            # whole passes apart, ends staggered (girl.png's hair); only for loose sketchers, whose
            # intended lines keep `min_gap` apart, so the drawing's looseness tells them from a double
            n, how = int(rng.integers(3, 7)), dict(style, shift=1.0, overshoot=rng.uniform(6, 6 + 4 * style["spread"]))
            kind = "bundle"
            if crossing and rng.random() < crossing:
                how.update(CROSSING, fan=max(style["fan"], CROSSING["fan"]))
        passes, centre = _sketch_strokes(rng, pts, closed, how, darkness, n)
        strokes += passes
        traced.append((centre, closed))
        kinds.append(kind)
    confident = dict(style, spread=min(style["spread"], 0.3), overshoot=0.6, scratch=0.0)
    for patch in extra.hatches:  # as dark as each other: each line's passes brought to one darkness (+-3%)
        dark = rng.uniform(0.7, 1.0)
        for pts in patch:
            passes, centre = _sketch_strokes(rng, pts, False, confident, dark, 1)
            scale = dark * rng.uniform(0.97, 1.03) / np.mean(np.concatenate([st.darkness for st in passes]))
            strokes += [Stroke(st.pts, st.width, np.clip(st.darkness * scale, 0, 1)) for st in passes]
            traced.append((centre, False))
            kinds.append("hatching")
    for pts in extra.restrokes:  # the committed pass, and the same pass again, parting from it in the middle
        passes, centre = _sketch_strokes(rng, pts, False, confident, rng.uniform(0.7, 1.0), 1)
        ramp, part = rng.uniform(0.15, 0.35), rng.choice([-1, 1]) * rng.uniform(3.0, 7.0)
        lighter = rng.uniform(*style["pass_darkness"])
        for st in passes:
            u = arclength(st.pts) / max(arclength(st.pts)[-1], 1e-6)
            shift = part * np.clip(np.minimum(u, 1 - u) / ramp, 0, 1)
            strokes += [st, Stroke(st.pts + normals(st.pts) * shift[:, None], st.width, st.darkness * lighter)]
        traced.append((centre, False))
        kinds.append("restroke")
    for pts, other in extra.beside:  # a line in the sketcher's passes; the other once, confidently
        for course, how, n in ((pts, style, None), (other, confident, 1)):
            passes, centre = _sketch_strokes(rng, course, False, how, rng.uniform(0.7, 1.0), n)
            strokes += passes
            traced.append((centre, False))
            kinds.append("beside")
    for pts, branch in extra.forks:  # a line in the sketcher's passes; the light one once, confidently
        for course, how, n, dark in ((pts, style, None, rng.uniform(0.75, 1.0)),
                                     (branch, confident, 1, rng.uniform(faint + 0.1, 0.7))):
            passes, centre = _sketch_strokes(rng, course, False, how, dark, n)
            strokes += passes
            traced.append((centre, False))
            kinds.append("fork")
    for f in extra.fills:
        dark = rng.uniform(0.8, 1.0)
        strokes += _scribble(rng, f, size, style, dark)
        strokes += _sketch_strokes(rng, f.outline, True, style, dark)[0]
    for g in guides:  # construction lines below the faint threshold: not in the target
        r = rng.uniform(0.04, faint - 0.03)
        # half in one stroke, half gone over like the intended lines (passes darken where they
        # cross, as for the light intended lines above: the threshold is on the line, not the pass)
        n_passes = [1, 0, 0, 0] if rng.random() < 0.5 else style["passes"]
        strokes += _sketch_strokes(rng, g, False, dict(style, passes=n_passes, scratch=0.0), r)[0]
    if rng.random() < 0.6:
        strokes += _debris(rng, size)
    ink = _draw(strokes, size, ss=3)
    # a style may fix the medium (`evaluate.thin_passes`: a tidy digital rough); the draw is made anyway
    medium = style.get("medium", rng.choice(["pencil", "digital", "transparent"], p=[0.5, 0.3, 0.2]))
    strength = rng.uniform(0.25, 0.85) if medium == "pencil" else rng.uniform(0.5, 1.0)
    if medium == "pencil":
        grain = np.clip(1 + 0.25 * _noise(rng, size, 0.6), 0.3, 1.3)
        ink = np.clip(ink * grain, 0, 1)
    colour = {"pencil": [0.1, 0.1, 0.12], "digital": [0.0, 0.0, 0.0], "transparent": [0.0, 0.0, 0.0]}[medium]
    if rng.random() < 0.2:  # a coloured sketch pencil or brush (red, brown, green, violet); not
        colour = rng.uniform(0, 0.5, 3)  # bluish: light blue is the non-photo underdrawing colour
        colour[2] = min(colour[2], colour[0])
    a = (ink * strength)[..., None]
    blue_rng = np.random.default_rng(rng.integers(2 ** 63))  # own stream: forcing `blue` on or
    with_blue = rng.random() < 0.4 if blue is None else blue  # off leaves the rest the same
    if medium == "transparent":
        rgba = np.concatenate([np.broadcast_to(np.array(colour, np.float32), (size, size, 3)), a], axis=2)
        return _blur(rgba, rng.uniform(0, 0.8)).astype(np.float32), traced, kinds
    paper = _paper(rng)
    light_field = 1 - rng.uniform(0, 0.5) * _gradient(rng, size)
    rgb = paper * light_field[..., None]
    if medium == "pencil":
        rgb = rgb * (1 + 0.012 * _noise(rng, size, 1.0))[..., None]  # paper tooth
    if with_blue:
        rgb = rgb * (1 - _blue_underdrawing(blue_rng, curves, guides, size, style))
    rgb = rgb * (1 - a * (1 - np.asarray(colour)))
    rgb = _blur(rgb, rng.uniform(0, 1.2) if medium == "pencil" else rng.uniform(0, 0.5))
    return _capture(rng, rgb), traced, kinds


def _paper(rng) -> np.ndarray:
    """White, slightly tinted, or grey / cream toned paper."""
    kind = rng.random()
    if kind < 0.4:
        return np.ones(3)
    if kind < 0.75:
        return 1.0 - rng.uniform(0, 0.12, 3)
    tone = rng.uniform(0.68, 0.9)  # toned sketch paper: grey, cream, tan
    return np.clip(tone * (1 + rng.normal(0, 0.04, 3)), 0, 1)


def _capture(rng, rgb: np.ndarray) -> np.ndarray:
    """Scanner or phone: exposure (a dim photo), vignetting, sensor noise, JPEG."""
    size = rgb.shape[0]
    if rng.random() < 0.35:  # a phone photo: dim, darker corners
        y, x = (np.mgrid[0:size, 0:size] / size - 0.5) * 2 + rng.normal(0, 0.3, (2, 1, 1))
        rgb = rgb * rng.uniform(0.5, 0.95) * (1 - rng.uniform(0, 0.4) * np.clip((x * x + y * y) / 2, 0, 1))[..., None]
        noise = rng.uniform(0.005, 0.025)
    else:
        noise = rng.uniform(0, 0.012)
    rgb = np.clip(rgb + rng.normal(0, noise, rgb.shape), 0, 1)
    if rng.random() < 0.35:
        buf = io.BytesIO()
        Image.fromarray(to_uint8(rgb)).save(buf, "JPEG", quality=int(rng.integers(70, 93)))
        rgb = np.asarray(Image.open(buf), np.float32) / 255.0
    return rgb.astype(np.float32)


# Light blues of non-photo pencils and digital guide layers, as RGB.
NON_PHOTO_BLUES = np.array([[0.64, 0.87, 0.93], [0.55, 0.8, 1.0], [0.6, 0.9, 0.97], [0.68, 0.78, 1.0],
                            [0.45, 0.75, 0.95]])


def _blue_underdrawing(rng, curves, guides, size: int, style: dict) -> np.ndarray:
    """Absorbance (HxWx3) of a light-blue underdrawing: guides, a big circle and a loose
    rough of about half the intended curves, each a few px off the final lines."""
    loose = dict(style, spread=style["spread"] + rng.uniform(0.5, 2.5))
    strokes = []
    for g in guides[:3]:
        strokes += _sketch_strokes(rng, g, False, dict(loose, passes=[1, 0, 0, 0], scratch=0.0), 1.0)[0]
    circle = ellipse(rng, rng.uniform(0, size, 2), size * 0.6, True)
    strokes += _sketch_strokes(rng, circle, True, dict(loose, passes=[1, 0, 0, 0], scratch=0.0), 1.0)[0]
    for pts, closed in curves:
        if rng.random() < 0.5:
            strokes += _sketch_strokes(rng, pts + rng.normal(0, 2.0, 2), closed, loose, 1.0)[0]
    for st in strokes:
        st.width = st.width + 0.5
    ink = _draw(strokes, size, ss=2)
    nb = NON_PHOTO_BLUES[rng.integers(len(NON_PHOTO_BLUES))] + rng.uniform(-0.04, 0.04, 3)
    return ink[..., None] * rng.uniform(0.5, 1.0) * (1 - np.clip(nb, 0, 1))


def _gradient(rng, size: int) -> np.ndarray:
    """Uneven lighting: a smooth 0..1 field (a shadow across a photographed page)."""
    y, x = np.mgrid[0:size, 0:size] / size
    ang = rng.uniform(0, 2 * np.pi)
    g = np.cos(ang) * x + np.sin(ang) * y + rng.normal(0, 0.3) * (x - 0.5) * (y - 0.5)
    return ((g - g.min()) / max(np.ptp(g), 1e-6)).astype(np.float32)


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    if sigma < 0.2:
        return img
    chans = [np.asarray(Image.fromarray(to_uint8(img[..., c])).filter(ImageFilter.GaussianBlur(sigma)), np.float32) / 255.0
             for c in range(img.shape[2])]
    return np.stack(chans, axis=2)


# ---------------------------------------------------------------- pairs

@dataclass
class Pair:
    sketch: np.ndarray  # HxWx3 or HxWx4 float32, what the user has
    grey: np.ndarray  # HxW uint8: the engine's grey plane of the sketch
    net_input: np.ndarray  # HxW float32, what the engine feeds the network
    blue: np.ndarray | None  # HxW uint8: the engine's blue plane (None: no colour)
    target: np.ndarray  # HxW float32, 1 white .. 0 ink
    thickness: float
    brush: int
    faint: float
    guides: list  # construction lines (not in the target), for measuring their removal
    lines: list[tuple[np.ndarray, bool]]  # the traced lines the target is drawn from,
    kinds: list[str]  # how each was sketched (LINE_KINDS), and
    fills: list[Fill]  # the spot blacks: for measuring what a model misses (`kind_masks`)

    def ink(self, engine, settings) -> np.ndarray:
        """The engine's lineart of this sketch, float 0..1."""
        return engine.run(self.grey, settings, blue=self.blue).astype(np.float32) / 255

    def kind_masks(self, reach: float = 2.0) -> dict[str, np.ndarray]:
        """Pixels within `reach` px of the target's lines of each kind (LINE_KINDS), of every
        open line's last END_PX px ("ends": where passes overshoot or stop short), and of the
        spot blacks ("spot_black"). A pixel near lines of two kinds is in both masks."""
        size, width = self.target.shape[0], self.thickness + 2 * reach
        masks = {}
        for kind in LINE_KINDS:
            lines = [ln for ln, k in zip(self.lines, self.kinds) if k == kind]
            if lines:
                masks[kind] = _draw(target_strokes(lines, width, "fineliner"), size) > 0.1
        ends = []
        for pts, closed in self.lines:
            s = arclength(pts)
            if not closed and len(pts) > 1:
                ends += [(e, False) for e in (pts[s <= END_PX], pts[s >= s[-1] - END_PX]) if len(e) > 1]
        if ends:
            masks["ends"] = _draw(target_strokes(ends, width, "fineliner"), size) > 0.1
        if self.fills:
            masks["spot_black"] = dilate(_fill_mask(self.fills, size, ss=1) > 0.5, int(np.ceil(self.thickness / 2 + reach)))
        return masks


def make_pair(rng: np.random.Generator, size: int = 256, brush: int | None = None,
              thickness: float | None = None, faint: float | None = None, blue: bool | None = None,
              style: dict | None = None, shares: Shares = Shares()) -> Pair:
    """A random rough sketch and its target; style: the sketcher's (default: a random one);
    shares: the training options (`figures.Shares`)."""
    if thickness is None:
        widths = THIN_RANGE if shares.thin and rng.random() < shares.thin else THICKNESS_RANGE
        thickness = float(np.exp(rng.uniform(*np.log(widths))))
    if brush is None:
        brush = int(rng.integers(len(BRUSHES)))
    if faint is None:
        faint = float(rng.uniform(*FAINT_RANGE))
    style = style or sketch_style(rng)
    curves, guides, scale = random_drawing(rng, size, min_gap(style, thickness))
    extra = details(rng, size, scale, thickness, shares, pass_reach(style, thickness))
    sketch, traced, kinds = render_sketch(rng, curves, guides, size, faint, style, blue, extra, shares.crossing)
    grey, blue_u8 = sketch_u8(sketch)
    net_input = measure_levels(grey).apply(grey, 0, 0)
    target = render_target(traced, size, thickness, BRUSHES[brush], extra.fills)
    return Pair(sketch, grey, net_input, blue_u8, target, thickness, brush, faint, guides, traced, kinds, extra.fills)


def preview(path: str, n: int, seed: int, size: int) -> None:
    """Rows of (sketch as the user sees it | network input | target)."""
    rng = np.random.default_rng(seed)
    rows = []
    for _ in range(n):
        p = make_pair(rng, size)
        shown = grey_on_white(p.sketch) if p.sketch.shape[2] == 4 else p.sketch @ np.eye(3, dtype=np.float32)
        shown = np.repeat(shown[..., None], 3, 2) if shown.ndim == 2 else shown
        cells = [shown, np.repeat(p.net_input[..., None], 3, 2), np.repeat(p.target[..., None], 3, 2)]
        rows.append(np.concatenate([np.pad(c, ((2, 2), (2, 2), (0, 0)), constant_values=0.5) for c in cells], 1))
    Image.fromarray(to_uint8(np.concatenate(rows, 0))).save(path)


def random_page(rng: np.random.Generator, size: int, gap: float, cell: int = 320):
    """A page-sized drawing: drawings of training density composed on a grid of cells."""
    curves, guides = [], []
    for y in range(0, size, cell):
        for x in range(0, size, cell):
            c, g, _ = random_drawing(rng, cell, gap)
            curves += [(pts + (x, y), closed) for pts, closed in c]
            guides += [line + (x, y) for line in g[:1]]  # one construction line per cell
    return curves, guides


def write_sketch(path: str, seed: int, size: int) -> None:
    """One page-sized sketch on pencil paper, e.g. the bundled example for `make demo`."""
    rng = np.random.default_rng(seed)
    style = sketch_style(rng)
    curves, guides = random_page(rng, size, min_gap(style, 3.0))
    sketch, *_ = render_sketch(rng, curves, guides, size, DEFAULT_FAINT, style)
    if sketch.shape[2] == 4:  # a transparent layer: show it on white
        sketch = sketch[..., :3] * sketch[..., 3:] + (1.0 - sketch[..., 3:])
    Image.fromarray(to_uint8(sketch)).save(path, quality=92)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    out = ap.add_mutually_exclusive_group(required=True)
    out.add_argument("--preview", help="PNG grid of (sketch | network input | target) rows")
    out.add_argument("--sketch", help="PNG of one sketch")
    ap.add_argument("--n", type=int, default=6, help="rows in the preview")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", type=int, default=256)
    a = ap.parse_args()
    Path(a.preview or a.sketch).parent.mkdir(parents=True, exist_ok=True)
    if a.preview:
        preview(a.preview, a.n, a.seed, a.size)
    else:
        write_sketch(a.sketch, a.seed, a.size)
    print(f"wrote {a.preview or a.sketch}")


if __name__ == "__main__":
    main()
