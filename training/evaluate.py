"""Evaluate a shipped model through the engine (exactly the CLI's path) on held-out sketches.

    python -m training.evaluate --model models/lineart-v4.onnx --card   # also writes the card

The sketches come from the synthesiser with EVAL_SEED, which neither training nor validation
uses. Reports F1 at 1/2/4 px, Chamfer distance, skeleton-length ratio, measured width
against the requested thickness and mid-grey share, per brush and per thickness, and the
same numbers for the unprocessed sketch as a baseline.
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from smart_lineart.engine.model_card import load_card
from smart_lineart.engine.preprocess import measure_levels, sketch_u8, to_uint8
from smart_lineart.engine.tiling import Engine
from smart_lineart.settings import Settings
from training import strokes_eval
from training.curves import resample
from training.figures import Details, fork, tuft, venation
from training.metrics import (
    INK,
    compare,
    darkness_on_lines,
    dilate,
    end_to_middle_mass,
    gaps_open,
    guide_removal,
    line_count,
    line_width,
    local_widths,
)
from training.synth import (
    BRUSHES,
    LINE_KINDS,
    Pair,
    Stroke,
    _draw,
    _sketch_strokes,
    make_pair,
    min_gap,
    pass_reach,
    random_drawing,
    render_sketch,
    sketch_style,
)

EVAL_SEED = 7_654_321
THICKNESSES = (1.5, 3.0, 6.0)
SCALING = (1.0, 1.5, 3.0, 6.0, 10.0, 12.0)


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}


def evaluate(engine: Engine, n: int, size: int) -> dict:
    info = engine.card
    rng = np.random.default_rng(EVAL_SEED)
    per: dict[str, list[dict[str, float]]] = {}
    baseline: list[dict[str, float]] = []
    tally: dict[str, list[int]] = {}
    for brush in info.brushes:
        for t in THICKNESSES:
            for _ in range(n):
                p = make_pair(rng, size, brush=BRUSHES.index(brush), thickness=t, faint=info.default_faint)
                out = p.ink(engine, Settings(t, brush))
                m = compare(out, p.target)
                per.setdefault(f"{brush}@{t:g}", []).append(m)
                _tally_by_kind(p, out, tally)
                if brush == info.brushes[0]:
                    baseline.append(compare(p.net_input, p.target))
    keys = ("f1@1", "f1@2", "f1@4", "precision@2", "recall@2", "chamfer", "skeleton_ratio", "width_error",
            "mid_grey", "target_mid_grey", "crispness", "haze")

    def summary(rows: list[dict[str, float]], extra: tuple[str, ...] = ()) -> dict[str, float]:
        return {k: v for k, v in _mean(rows).items() if k in keys + extra} | {"gaps_open": gaps_open(rows)}

    return {
        "set": f"{n} synthetic sketches per brush and thickness {list(THICKNESSES)}, {size}x{size}, seed {EVAL_SEED}",
        "backend": engine.backend,
        "overall": summary([m for v in per.values() for m in v]),
        "by_brush": {b: summary([m for k, v in per.items() if k.startswith(b + "@") for m in v]) for b in info.brushes},
        "by_condition": {c: summary(v, ("width", "target_width")) for c, v in per.items()},
        "sketch_as_is": {k: v for k, v in _mean(baseline).items() if k in ("f1@1", "f1@2", "f1@4", "chamfer", "skeleton_ratio")},
        "recall_by_kind": _by_kind(tally),
    }


def _tally_by_kind(p: Pair, out: np.ndarray, tally: dict[str, list[int]]) -> None:
    """Add up the target's ink pixels near each kind of line (`Pair.kind_masks`), and those of
    them the output finds within 2 px (recall@2's matching)."""
    target = p.target < INK
    found = target & dilate(out < INK, 2)
    for kind, mask in list(p.kind_masks().items()) + [("all", target)]:
        t = tally.setdefault(kind, [0, 0])
        t[0] += int((found & mask).sum())
        t[1] += int((target & mask).sum())


def _by_kind(tally: dict[str, list[int]]) -> dict[str, dict[str, float]]:
    """Per kind of line: recall@2, its share of the target's ink, and its share of the ink the
    output misses (kinds overlap where lines cross, so shares add up to a little over 1)."""
    found, total = tally["all"]
    res = {}
    for kind in (*LINE_KINDS, "ends", "spot_black"):
        f, n = tally.get(kind, (0, 0))
        if n:
            res[kind] = {"recall@2": round(f / n, 4), "share_of_target": round(n / total, 4),
                         "share_of_misses": round((n - f) / max(total - found, 1), 4)}
    return res


def _row(cells: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([np.pad(c, 3, constant_values=0.6) for c in cells], axis=1)


def sheet(engine: Engine, path: Path, n: int = 4, size: int = 320) -> None:
    """Rows of: sketch | output per brush preset | target (fineliner), held-out sketches."""
    from PIL import Image
    info = engine.card
    rng = np.random.default_rng(EVAL_SEED + 1)
    rows = []
    for _ in range(n):
        p = make_pair(rng, size, brush=0, thickness=3.0, faint=info.default_faint)
        outs = [p.ink(engine, Settings(3.0, b)) for b in info.brushes]
        rows.append(_row([p.grey.astype(np.float32) / 255] + outs + [p.target]))
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(np.concatenate(rows, axis=0))).save(path)


def real_sheet(engine: Engine, folder: Path, path: Path, thickness: float) -> None:
    """Sketch above output for every PNG in `folder` (e.g. real roughs), to look at only."""
    from PIL import Image

    from smart_lineart.engine.imageio import load_sketch
    for src in sorted(folder.glob("*.png")):
        grey, blue = load_sketch(src)
        out = engine.run(grey, Settings(thickness), blue=blue)
        Image.fromarray(np.concatenate([grey, np.full((8, grey.shape[1]), 128, np.uint8), out])).save(
            path / f"real-{src.stem}.png")


def thickness_scaling(engine: Engine, n: int, size: int) -> dict:
    """Fineliner width per request: relative error against the requested width, and px per
    requested px relative to 3 px (1.0 = perfectly linear)."""
    rng = np.random.default_rng(EVAL_SEED + 2)
    rows: dict[float, list[float]] = {t: [] for t in SCALING}
    for _ in range(n):
        p = make_pair(rng, size, brush=0, thickness=max(SCALING), faint=engine.card.default_faint)
        for t in SCALING:
            rows[t].append(line_width(p.ink(engine, Settings(t))))
    w3 = float(np.mean(rows[3.0]))
    return {f"{t:g}": {"width": round(float(np.mean(v)), 2), "width_error": round(abs(float(np.mean(v)) - t) / t, 3),
                       "linearity": round(float(np.mean(v)) / t / (w3 / 3.0), 3)} for t, v in rows.items()}


def brush_properties(engine: Engine, n: int, size: int) -> dict:
    """What makes the presets differ, measured on the same sketches at 4 px, by tidy sketchers
    (a loose rough's uneven lines would hide the presets' own width variation)."""
    rng = np.random.default_rng(EVAL_SEED + 3)
    acc: dict[str, dict[str, list[float]]] = {b: {"darkness": [], "end_to_middle": [], "width_cv": []}
                                              for b in engine.card.brushes}
    for _ in range(n):
        tidy = dict(sketch_style(rng), spread=0.3, fan=0.0, scratch=0.0)
        p = make_pair(rng, size, brush=0, thickness=4.0, faint=engine.card.default_faint, style=tidy)
        for b in engine.card.brushes:
            out = p.ink(engine, Settings(4.0, b))
            lw = local_widths(out)
            acc[b]["darkness"].append(darkness_on_lines(out))
            acc[b]["end_to_middle"].append(end_to_middle_mass(out))
            acc[b]["width_cv"].append(float(lw.std() / lw.mean()) if len(lw) else 0.0)
    return {b: {k: round(float(np.mean(v)), 3) for k, v in m.items()} for b, m in acc.items()}


def guides(engine: Engine, n: int, size: int, blue: bool, faint: float | None = None) -> dict:
    """Construction lines at the faint-line threshold (default: the card's): how many of their
    pixels are dropped, and the precision of what is drawn (light-blue guides forced on when `blue`)."""
    rng = np.random.default_rng(EVAL_SEED + (5 if blue else 4))
    removal, precision = [], []
    for _ in range(n):
        p = make_pair(rng, size, brush=0, thickness=3.0, faint=engine.card.default_faint, blue=blue)
        out = p.ink(engine, Settings(3.0, faint=faint))
        mask = _draw([Stroke(g, np.full(len(g), 1.5), np.ones(len(g))) for g in p.guides], size, ss=2) > 0.3
        removal.append(guide_removal(out, p.target, mask))
        precision.append(compare(out, p.target)["precision@2"])
    return {"removed_share": round(float(np.mean(removal)), 3), "precision@2": round(float(np.mean(precision)), 3)}


FAINT_LEVELS = (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.7)


def faint_response(engine: Engine, n: int, size: int, faint: float | None = None) -> dict:
    """Share of a sketch line's pixels that survive, by the line's darkness relative to the
    main strokes, at the faint-line threshold (default: the card's): construction lines at <= 25%
    should be gone, lighter-but-intended lines above the threshold kept. Half of each drawing
    is main strokes, the other half is drawn again and again at each test darkness."""
    rng = np.random.default_rng(EVAL_SEED + 7)
    kept: dict[float, list[float]] = {d: [] for d in FAINT_LEVELS}
    for _ in range(n):
        style = dict(sketch_style(rng), scratch=0.0)
        curves, _, _ = random_drawing(rng, size, min_gap(style, 3.0))
        half = max(len(curves) // 2, 1)
        main = [st for pts, closed in curves[:half] for st in _sketch_strokes(rng, pts, closed, style, 1.0)[0]]
        test = [st for pts, closed in curves[half:] for st in _sketch_strokes(rng, pts, closed, style, 1.0)[0]]
        for st in main + test:
            st.darkness = np.ones(len(st.pts))
        main_ink, test_ink = _draw(main, size, ss=2), _draw(test, size, ss=2) > 0.3
        where = test_ink & ~dilate(main_ink > 0.05, 4)
        # the threshold is relative to the main strokes: a drawing whose main half is mostly off
        # the page has none to be relative to (its test lines are its main strokes, and kept)
        if not where.any() or (main_ink > 0.3).sum() < 0.5 * test_ink.sum():
            continue
        for d in FAINT_LEVELS:
            light = [Stroke(st.pts, st.width, st.darkness * d) for st in test]
            grey = to_uint8(1.0 - _draw(main + light, size, ss=2))
            out = engine.run(grey, Settings(3.0, faint=faint)).astype(np.float32) / 255
            kept[d].append(float((dilate(out < INK, 2)[where]).mean()))
    return {f"{d:g}": round(float(np.mean(v)), 3) for d, v in kept.items()}


THIN_PENS = (0.5, 0.8, 1.2)  # px: a tidy digital rough's pen widths


def thin_passes(engine: Engine, n: int, size: int) -> dict:
    """Tidy digital roughs drawn with one confident pass per line and a thin pen (Bee02.png's
    wing veins), inked at 2 px: recall@2 and precision@2 per pen width. Anti-aliasing draws a
    thin pen's lines light, yet they are intended; each width gets the same drawings."""
    out: dict[str, dict[str, float]] = {}
    for pen in THIN_PENS:
        rng = np.random.default_rng(EVAL_SEED + 8)
        rows = []
        for _ in range(n):
            style = dict(sketch_style(rng), passes=np.array([1.0, 0.0, 0.0, 0.0]), spread=0.2, fan=0.0, scratch=0.0,
                         width=pen, bundle=0.0, overshoot=1.0, medium="digital")
            p = make_pair(rng, size, brush=0, thickness=2.0, faint=engine.card.default_faint, style=style)
            rows.append(compare(p.ink(engine, Settings(2.0)), p.target))
        out[f"{pen:g}"] = {k: round(float(np.mean([r[k] for r in rows])), 3) for k in ("recall@2", "precision@2")}
    return out


CLOSE_SPACINGS = (4.0, 5.0, 6.0)
CLOSE_SKETCHES = 400  # per measure of `close_lines`: at 36 its shares were off by up to 0.2
BESIDE_SPACING = 8.0  # a restroke's pass parts 3-7 px: toward the line beside, it may touch it
FORK_APART_PX = 6.0  # a fork's cross-sections counted: 1.5 px lines with 4.5 px of paper between
# the bundle measure also by how wide its passes' ink spans at each cross-section (darker than
# BUNDLE_INK on the engine's normalised input): whether a stage merges wide bundles is then seen
# apart from whether it merges close doubles. lineart-v52: 0.80 / 0.63 / 0.42 as one, over a
# quarter / a third / half of the cross-sections; lineart-v5 (merging every double) 0.88 / 0.53 / 0.40
BUNDLE_SPANS = (10, 14)
BUNDLE_INK = 0.75
SPAN_CLASSES = tuple(f"{a}-{b}" for a, b in zip((0, *BUNDLE_SPANS), BUNDLE_SPANS)) + (f"{BUNDLE_SPANS[-1]}+",)


def span_class(section: np.ndarray) -> str:
    """How wide a cross-section's ink spans (first to last pixel darker than BUNDLE_INK on the
    network's 0..1 input), as one of BUNDLE_SPANS' classes: "0-10", "10-14", "14+" px."""
    ink = np.flatnonzero(section < BUNDLE_INK)
    width = int(ink[-1] - ink[0] + 1) if ink.size else 0
    return SPAN_CLASSES[int(np.searchsorted(BUNDLE_SPANS, width, side="right"))]


def close_lines(engine: Engine, n: int, size: int = 128) -> dict:
    """One line against two, as sketchers draw them, at 1.5 px: where the sketch has an intended
    double d px apart (each line drawn once, as dark as each other), the share of cross-sections
    drawn as two solid lines; where it has one line sketched in the sketcher's passes, or gone
    over once more by a lighter pass that parts 3-7 px from it (`figures.restroke`), or drawn as
    a bundle of 3-6 long passes by a loose sketcher (spread 2.4-3.6 px; girl.png's hair), the
    share drawn as one; where a line gone over once more has a confident line BESIDE_SPACING px
    beside it (a narrow shape's two sides: a strap, a seam), and where a line sketched in the
    sketcher's passes has a line drawn once beside it, 5 px of paper beyond its passes' reach
    (`figures.beside`: girl.png's shoulder badge), the share drawn as two; where a light line
    drawn once leaves a sketched line (`figures.fork`: Pig02.png's ear), the share of
    cross-sections FORK_APART_PX or more apart drawn as two (dashes leave one). A network that
    merges everything scores 0 and 1, one that splits everything 1 and less. Bundles are also
    scored by how wide their ink spans at each cross-section (`span_class`): most are lost
    where the passes lie far apart, not where they lie as close as a double.

    n sketches per measure, each measure from its own stream (one measure's sketches do not
    shift with another's). One sketcher's cross-sections go together, so the sketches, not the
    cross-sections, set the sampling error: over 36 sketches lineart-v52's bundles scored 0.74
    and forks 0.75, over 400 0.57 and 0.54 (over another 400, 0.59 and 0.51)."""
    x = np.linspace(24.0, size - 24.0, 40)
    middle, cols = size // 2, range(size // 2 - 15, size // 2 + 16, 5)

    def line(y: float) -> np.ndarray:
        return resample(np.stack([x, np.full_like(x, y)], 1))

    def drawn(rng, extra: Details, curves: list | None = None, style: dict | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """The engine's lines at 1.5 px for a sketch of these figures (1 paper, 0 ink), and the
        sketch's grey plane."""
        sketch, *_ = render_sketch(rng, curves or [], [], size, engine.card.default_faint, style or sketch_style(rng),
                                  False, extra)
        grey, blue = sketch_u8(sketch)
        return engine.run(grey, Settings(1.5), blue=blue).astype(np.float32) / 255, grey

    def share(measure: int, count: int, sketch: Callable[[np.random.Generator], tuple],
              by_span: dict[str, list[bool]] | None = None) -> float:
        """Share of cross-sections with `count` lines over n sketches; sketch(rng) gives
        `drawn`'s arguments after rng. by_span: also each cross-section's hit, by `span_class`."""
        rng = np.random.default_rng([EVAL_SEED + 8, measure])
        hits = []
        for _ in range(n):
            out, grey = drawn(rng, *sketch(rng))
            hits += [line_count(out[middle - 12:middle + 13, c] < 0.5) == count for c in cols]
            if by_span is not None:  # on the sketch as the engine feeds it to the network
                seen = measure_levels(grey).apply(grey, 0, 0)
                for c, hit in zip(cols, hits[-len(cols):]):
                    by_span.setdefault(span_class(seen[middle - 20:middle + 21, c]), []).append(hit)
        return round(float(np.mean(hits)), 3)

    def beside_passes(rng) -> tuple:
        style = sketch_style(rng)
        gap = pass_reach(style, 1.5) + 5.0
        return Details(beside=[(line(middle + gap / 2), line(middle - gap / 2))]), None, style

    def double(d: float) -> Callable[[np.random.Generator], tuple]:
        return lambda rng: (Details(hatches=[[line(middle - d / 2), line(middle + d / 2)]]),)

    res: dict[str, float | dict] = {f"double_{d:g}px_as_two": share(i, 2, double(d)) for i, d in enumerate(CLOSE_SPACINGS)}
    res["passes_as_one"] = share(3, 1, lambda rng: (Details(), [(line(middle), False)]))
    res["restroke_as_one"] = share(4, 1, lambda rng: (Details(restrokes=[line(middle)]),))
    spans: dict[str, list[bool]] = {}
    res["bundle_as_one"] = share(5, 1, lambda rng: (Details(), [(line(middle), False)],
                                                    dict(sketch_style(rng), spread=rng.uniform(2.4, 3.6), bundle=1.0)),
                                 spans)
    res["bundle_as_one_by_span"] = {k: {"share": round(float(np.mean(spans[k])), 3), "cross_sections": len(spans[k])}
                                    for k in SPAN_CLASSES if k in spans}
    res["restroke_beside_line_as_two"] = share(6, 2, lambda rng: (Details(hatches=[[line(middle + BESIDE_SPACING / 2)]],
                                                                          restrokes=[line(middle - BESIDE_SPACING / 2)]),))
    res["line_beside_passes_as_two"] = share(7, 2, beside_passes)
    rng = np.random.default_rng([EVAL_SEED + 8, 8])
    two = []
    for _ in range(n):
        style = sketch_style(rng)
        extra = Details()
        fork(rng, line(middle), pass_reach(style, 1.5), 1.5, extra)
        out, _ = drawn(rng, extra, style=style)
        branch = extra.forks[0][1]
        order = np.argsort(branch[:, 0])
        for c in range(int(x[0]), int(x[-1]) + 1, 4):
            y = float(np.interp(c, branch[order, 0], branch[order, 1]))
            if abs(y - middle) >= FORK_APART_PX:
                top, bottom = int(min(y, middle)) - 5, int(max(y, middle)) + 6
                two.append(line_count(out[max(top, 0):bottom, c] < 0.5) == 2)
    res["fork_as_two"] = round(float(np.mean(two)), 3)
    return res


def tufts(engine: Engine, n: int, size: int = 192, thickness: float = 2.0) -> dict:
    """Lines fanning out from one root (`figures.tuft`: Bee02's wing roots), sketched by random
    sketchers and inked at 2 px (`_lines_kept`)."""
    return _lines_kept(engine, n, size, thickness, EVAL_SEED + 9,
                       lambda rng, c, extra: tuft(rng, c, size * 0.7, thickness, extra))


def veins(engine: Engine, n: int, size: int = 192, thickness: float = 2.0) -> dict:
    """A wing or leaf whose veins are drawn small and close, once each (`figures.venation`:
    Bee02's wings), sketched by random sketchers and inked at 2 px (`_lines_kept`)."""
    return _lines_kept(engine, n, size, thickness, EVAL_SEED + 10,
                       lambda rng, c, extra: venation(rng, c, thickness, extra))


def _lines_kept(engine: Engine, n: int, size: int, thickness: float, seed: int,
                draw: Callable[[np.random.Generator, np.ndarray, Details], None]) -> dict:
    """The share of the traced lines' centre-line points with solid ink within a pixel, and the
    share of lines drawn whole (no break over 3 px; their last 4 px at either end, where passes
    overshoot or stop short, left out), of drawings `draw` makes."""
    rng = np.random.default_rng(seed)
    covered, whole = [], []
    for _ in range(n):
        extra = Details()
        draw(rng, np.full(2, size / 2) + rng.normal(0, size / 20, 2), extra)
        sketch, traced, _ = render_sketch(rng, [], [], size, engine.card.default_faint, sketch_style(rng), False, extra)
        grey, blue = sketch_u8(sketch)
        inked = dilate(engine.run(grey, Settings(thickness), blue=blue).astype(np.float32) / 255 < 0.5, 1)
        for pts, _ in traced:
            ix = np.clip(np.round(pts[4:-4]).astype(int), 0, size - 1)
            on = inked[ix[:, 1], ix[:, 0]]
            if not len(on):
                continue
            covered.append(float(on.mean()))
            runs = np.diff(np.flatnonzero(np.diff(np.concatenate([[1], on.astype(np.int8), [1]]))))[::2]
            whole.append(bool(runs.max(initial=0) <= 3))
    return {"covered": round(float(np.mean(covered)), 3), "lines_whole": round(float(np.mean(whole)), 3)}


FAINT_SWEEP = (0.35, 0.4, 0.45, 0.5, 0.55)


def faint_sweep(engine: Engine, n: int, size: int) -> dict:
    """Candidates for the card's default faint-line threshold, on the same sketches: the lines
    kept by darkness and how construction lines and light-blue guides go. `make export`
    records the chosen one (recipe.json's default_faint)."""
    return {f"{f:g}": {"kept_share_by_darkness": faint_response(engine, n, size, f),
                       "construction_lines": guides(engine, n, size, blue=False, faint=f),
                       "blue_guides": guides(engine, n, size, blue=True, faint=f)} for f in FAINT_SWEEP}


LEVELS = ((0.0, 1.0), (0.1, 0.9), (0.1, 0.95), (0.15, 0.85), (0.2, 0.85), (0.25, 0.8))


def levels_sweep(model_path: str | None, n: int, size: int) -> dict:
    """Output levels candidates (black point, white point) per brush, on the same sketches
    (1.5/3/6 px): the crispness and haze gained and what it costs in F1, width and centre-line
    length. `make export` records the chosen curve per brush in the card."""
    info = load_card(model_path)
    rng = np.random.default_rng(EVAL_SEED + 6)
    pairs = [make_pair(rng, size, brush=i % len(info.brushes), thickness=THICKNESSES[i % 3], faint=info.default_faint)
             for i in range(n)]
    out: dict[str, dict] = {b: {} for b in info.brushes}
    for lv in LEVELS:
        engine = Engine(replace(info, output_levels={b: lv for b in info.brushes}))
        for b in info.brushes:
            rows = [compare(p.ink(engine, Settings(p.thickness, b)), p.target)
                    for p in pairs if info.brushes[p.brush] == b]
            out[b][f"{lv[0]:g}-{lv[1]:g}"] = {k: v for k, v in _mean(rows).items() if k in
                                              ("f1@1", "f1@2", "crispness", "haze", "width_error", "skeleton_ratio")}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model .onnx (default: the shipped default)")
    ap.add_argument("--n", type=int, default=36, help="sketches per brush and thickness (432 in all)")
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--card", action="store_true", help="write the metrics into the model card")
    ap.add_argument("--sheet", default="build/eval-sheet.png", help="comparison sheet PNG to write")
    ap.add_argument("--real", help="also ink every PNG in this folder into build/real-*.png, to look at")
    ap.add_argument("--levels", action="store_true", help="only compare output levels curves, then exit")
    ap.add_argument("--faint-sweep", action="store_true", help="only compare default faint-line thresholds, then exit")
    a = ap.parse_args()
    if a.levels:
        print(json.dumps(levels_sweep(a.model, 4 * a.n, a.size), indent=1))
        return
    engine = Engine(load_card(a.model), a.backend)
    if a.faint_sweep:
        print(json.dumps(faint_sweep(engine, a.n, a.size), indent=1))
        return
    sheet(engine, Path(a.sheet))
    print(f"comparison sheet: {a.sheet}")
    if a.real:
        real_sheet(engine, Path(a.real), Path(a.sheet).parent, 2.0)
    res = evaluate(engine, a.n, a.size)
    res["thickness"] = thickness_scaling(engine, max(a.n // 2, 2), a.size)
    res["brush_properties"] = brush_properties(engine, max(a.n // 2, 2), a.size)
    res["construction_lines"] = guides(engine, a.n, a.size, blue=False)
    res["blue_guides"] = guides(engine, a.n, a.size, blue=True)
    res["close_lines"] = close_lines(engine, CLOSE_SKETCHES)
    res["tufts"] = tufts(engine, a.n)
    res["veins"] = veins(engine, a.n)
    res["thin_passes"] = thin_passes(engine, a.n, a.size)
    res["strokes"] = strokes_eval.measure(engine)
    res["faint_response"] = {"kept_share_by_darkness": faint_response(engine, a.n, a.size),
                             "default_faint": engine.card.default_faint}
    print(json.dumps(res, indent=1))
    if a.card:
        card_path = Path(engine.card.path).with_suffix(".json")
        card = json.loads(card_path.read_text())
        card["metrics"] = res
        card_path.write_text(json.dumps(card, indent=1) + "\n")
        print(f"metrics written to {card_path}")


if __name__ == "__main__":
    main()
