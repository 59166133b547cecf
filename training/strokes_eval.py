"""How good the strokes are (--svg, the Vector layer, Paint with my brush), on held-out sketches
through the engine: fit error to the lineart's centre line, loose fragments per sketch, and how
many intended closed shapes come out closed (so a fill tool fills them), without and with gap
closing. `training.evaluate` puts these numbers in the model card.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

from smart_lineart.engine.morphology import dilate, skeleton
from smart_lineart.engine.preprocess import grey_on_white, to_uint8
from smart_lineart.engine.strokes import INK_LEVEL, Strokes, extract, fit_error
from smart_lineart.engine.tiling import Engine
from smart_lineart.settings import Settings
from training.curves import ellipse_points, resample
from training.figures import Fill
from training.synth import _fill_mask, render_sketch, sketch_style

SEED = 7_654_400
THICKNESS = 3.0
REACHES = (0.0, 8.0, 16.0)  # gap closing off, and up to 8 and 16 px


def rasterise(strokes: Strokes) -> np.ndarray:
    """The strokes as ink (True), each at its median width, spot blacks filled."""
    img = Image.new("1", (strokes.width, strokes.height), 0)
    draw = ImageDraw.Draw(img)
    for p in strokes.paths:
        if len(p.points) > 1:
            draw.line(p.polyline().ravel().tolist(), fill=1, width=max(int(round(p.width)), 1),
                      joint="curve")
    for runs in strokes.fills:
        for y, x0, x1 in runs.tolist():
            draw.line((x0, y, x1 - 1, y), fill=1)
    return np.asarray(img, bool)


def encloses(ink: np.ndarray, seed: tuple[int, int]) -> bool:
    """Whether paper flooded from `seed` (x, y) stays off the image border."""
    img = Image.fromarray(np.where(ink, 0, 255).astype(np.uint8)).copy()  # its own pixels: floodfill edits in place
    ImageDraw.floodfill(img, seed, 128, thresh=0)
    a = np.asarray(img)
    return not (a[0] == 128).any() and not (a[-1] == 128).any() and not (a[:, 0] == 128).any() \
        and not (a[:, -1] == 128).any()


def loose_fragments(strokes: Strokes, max_length: float) -> int:
    """Open paths shorter than `max_length` px whose ends both touch no other path: specks."""
    paths = [p for p in strokes.paths if len(p.points) > 1]
    if not paths:
        return 0
    samples = [p.polyline(2) for p in paths]
    every = np.concatenate(samples)
    owner = np.repeat(np.arange(len(paths)), [len(s) for s in samples])
    order = np.argsort(every[:, 0])
    every, owner = every[order], owner[order]

    def touches(i: int, end: np.ndarray) -> bool:
        lo, hi = np.searchsorted(every[:, 0], [end[0] - 2.0, end[0] + 2.0])
        near = np.hypot(*(every[lo:hi] - end).T) <= 2.0
        return bool((near & (owner[lo:hi] != i)).any())

    count = 0
    for i, p in enumerate(paths):
        seg = np.diff(p.points, axis=0)
        if not p.closed and np.hypot(seg[:, 0], seg[:, 1]).sum() < max_length:
            count += not (touches(i, p.points[0]) or touches(i, p.points[-1]))
    return count


def _closed_shape(rng: np.random.Generator, size: int) -> np.ndarray:
    """An ellipse or a polygon (3-6 corners) around the middle, about half the sketch wide."""
    c = np.full(2, size / 2) + rng.normal(0, size * 0.04, 2)
    if rng.random() < 0.5:
        rx, ry = size * rng.uniform(0.15, 0.38, 2)
        return ellipse_points(c, rx, ry, rng.uniform(0, np.pi), rng.uniform(0, 2 * np.pi), 2 * np.pi)
    ang = np.sort(rng.uniform(0, 2 * np.pi, rng.integers(3, 7)))
    v = c + np.stack([np.cos(ang), np.sin(ang)], 1) * (size * rng.uniform(0.2, 0.4, len(ang)))[:, None]
    return resample(np.concatenate([v, v[:1]]))


def _pieces(rng: np.random.Generator, pts: np.ndarray) -> list[tuple[np.ndarray, bool]]:
    """The outline as 2-4 open strokes that stop 2-12 px short of each other (the pencil
    lifted), from a random start."""
    pts = np.roll(pts[:-1], -int(rng.integers(len(pts) - 1)), axis=0)
    cuts = np.sort(rng.choice(np.arange(20, len(pts) - 20), int(rng.integers(1, 4)), replace=False))
    out = []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(pts)]):
        gap = int(rng.uniform(2, 12) / 2)
        if b - a > 2 * gap + 4:
            out.append((pts[a + gap:b - gap], False))
    return out


def measure(engine: Engine, n: int = 24, size: int = 192) -> dict:
    """One closed shape per sketch, drawn as a few strokes that do not quite meet, each as
    roughly as in training (passes, dashes, paper and capture), inked at 3 px."""
    rng = np.random.default_rng(SEED)
    closed = {r: 0 for r in REACHES}
    png_closed, shapes, fragments, fit = 0, 0, [], []
    for _ in range(n):
        pts = _closed_shape(rng, size)
        sketch, *_ = render_sketch(rng, _pieces(rng, pts), [], size, engine.card.default_faint, sketch_style(rng),
                                  blue=False)
        lineart = engine.run(to_uint8(grey_on_white(sketch)), Settings(THICKNESS))
        inside = (_fill_mask([Fill(pts)], size, ss=1) > 0.5) & ~dilate(lineart < INK_LEVEL, 4)
        ys, xs = np.nonzero(inside)
        if len(ys) < 0.02 * size * size:  # a sliver, not a region to fill
            continue
        seed = (int(xs[len(xs) // 2]), int(ys[len(ys) // 2]))
        shapes += 1
        png_closed += encloses(lineart < INK_LEVEL, seed)
        for r in REACHES:
            strokes = extract(lineart, THICKNESS, r)
            closed[r] += encloses(rasterise(strokes), seed)
            if r == 0:
                fragments.append(loose_fragments(strokes, 5 * THICKNESS))
                fit.append(fit_error(strokes, skeleton(lineart < INK_LEVEL)))
    return {"set": f"{shapes} roughly sketched closed shapes, {size}x{size}, seed {SEED}, inked at {THICKNESS:g} px",
            "closed_share_lineart": round(png_closed / max(shapes, 1), 3),
            "closed_share_strokes": {f"close_gaps {r:g}": round(v / max(shapes, 1), 3) for r, v in closed.items()},
            "loose_fragments_per_sketch": round(float(np.mean(fragments)), 2),
            "fit_error_px": round(float(np.mean(fit)), 3)}
