"""Real roughs, for looking and scoring only (never for training, never copied into the project):

- a sheet of every rough in the given folders: rough | lineart at 2 px | at 3 px | the other
  presets at 3 px (build/real-roughs.png), how much of each rough's 3 px lines its 2 px
  lineart draws solid (`metrics.thin_coverage`: thin lines must be as solid as thick ones), and
  its specks at 1.5, 2 and 3 px;
- scores of the pencil roughs that come with a clean drawing of the same subject (drawn
  separately: resized to the rough and then registered to it, a shift and a scale found on the
  rough's own thresholded lines, so the model under test has no say in it; the drawings still
  differ in places, so the scores are rough too), at the clean drawing's own line width,
  against a plain threshold of the flattened scan.

    python -m training.real --model models/lineart-v5.onnx ../shared/real-pencil ../shared/validation
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from smart_lineart.engine.imageio import load_grey, load_sketch
from smart_lineart.engine.model_card import load_card
from smart_lineart.engine.preprocess import measure_levels, to_uint8
from smart_lineart.engine.tiling import Engine
from smart_lineart.settings import Settings
from training.metrics import INK, compare, line_width, thin_coverage

CELL = 300  # sheet cell height, px
SPECK_PX = 20  # ink blobs smaller than this are specks
SHIFT_PX = 16  # registration: the most a clean drawing is moved to meet its rough, each way
SCALES = np.linspace(0.94, 1.06, 13)  # ... and the scales it is tried at (about the centre)


def specks(img: np.ndarray) -> int:
    """Ink blobs (8-connected) of fewer than SPECK_PX pixels."""
    labels, n = ndimage.label(img < INK, structure=np.ones((3, 3)))
    if n == 0:
        return 0
    sizes = np.bincount(labels.ravel())[1:]
    return int((sizes < SPECK_PX).sum())


def threshold_baseline(grey: np.ndarray) -> np.ndarray:
    """What a plain threshold does: the scan flattened (paper to white, strokes to black) and
    cut at half the main strokes' darkness."""
    flat = measure_levels(grey).apply(grey, 0, 0)
    return np.where(flat < 0.5, 0.0, 1.0).astype(np.float32)


def register(clean: np.ndarray, grey: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """`clean` (float, white = 1, the rough's size) moved and scaled onto the lines of the rough
    `grey` (uint8): the shift (up to SHIFT_PX) and scale (SCALES) that bring the clean lines
    nearest the rough's thresholded ones (mean distance, capped). Returns it and the transform."""
    h, w = clean.shape
    near = np.minimum(ndimage.distance_transform_edt(threshold_baseline(grey) >= 0.5), 10.0)
    ys, xs = np.nonzero(clean < 0.5)
    if not ys.size:
        return clean, {"scale": 1.0, "dy": 0, "dx": 0}
    cy, cx = (h - 1) / 2, (w - 1) / 2
    best = (float(near[ys, xs].mean()), 1.0, 0, 0)
    for s in SCALES:
        ry, rx = cy + (ys - cy) * s, cx + (xs - cx) * s
        for dy in range(-SHIFT_PX, SHIFT_PX + 1):
            y = np.rint(ry + dy).astype(int)
            for dx in range(-SHIFT_PX, SHIFT_PX + 1):
                x = np.rint(rx + dx).astype(int)
                inside = (y >= 0) & (y < h) & (x >= 0) & (x < w)
                cost = float(near[y[inside], x[inside]].sum() + 10.0 * (~inside).sum()) / ys.size
                if cost < best[0] - 1e-9:
                    best = (cost, float(s), dy, dx)
    _, s, dy, dx = best
    # output pixel q shows the clean pixel p with q = centre + s (p - centre) + shift
    moved = ndimage.affine_transform(clean, np.eye(2) / s, offset=np.array([cy, cx]) - (np.array([cy, cx]) + [dy, dx]) / s,
                                     order=1, cval=1.0)
    return moved.astype(np.float32), {"scale": round(s, 3), "dy": dy, "dx": dx}


def score_pairs(engine: Engine, folder: Path) -> dict:
    """Every rough_X.png with a clean_X.png: the metrics at the clean drawing's line width."""
    rows: dict[str, dict] = {}
    for clean_path in sorted(folder.glob("clean_*.png")):
        roughs = sorted(folder.glob(clean_path.stem.replace("clean_", "rough_") + "*.png"))  # rough_penguin1.png
        if not roughs:
            continue
        rough_path = roughs[0]
        grey, blue = load_sketch(rough_path)
        h, w = grey.shape
        clean = np.asarray(Image.fromarray(load_grey(clean_path)).resize((w, h), Image.Resampling.LANCZOS),
                           np.float32) / 255
        width = float(np.clip(line_width(clean), *engine.card.thickness_range))  # before resampling blurs it
        # flattened as the rough is (paper white, its main strokes black): resized down, a clean
        # drawing's thin lines turn light grey, and its centre-line (the darker-than-half) breaks
        clean, moved = register(measure_levels(to_uint8(clean)).apply(to_uint8(clean), 0, 0), grey)
        out = engine.run(grey, Settings(width), blue=blue).astype(np.float32) / 255
        base = threshold_baseline(grey)
        pick = ("f1@2", "precision@2", "recall@2", "chamfer", "skeleton_ratio")
        rows[rough_path.stem] = {"width": round(width, 2), "registered": moved} | \
            {k: round(v, 3) for k, v in compare(out, clean).items() if k in pick} | {"specks": specks(out)} | \
            {f"threshold_{k}": round(v, 3) for k, v in compare(base, clean).items() if k in ("f1@2", "chamfer")}
    if rows:
        rows["mean"] = {k: round(float(np.mean([r[k] for r in rows.values()])), 3) for k, v in next(iter(rows.values())).items()
                        if not isinstance(v, dict)}
    return rows


def _cell(img: np.ndarray) -> np.ndarray:
    h, w = img.shape
    small = Image.fromarray(img).resize((max(int(w * CELL / h), 1), CELL), Image.Resampling.LANCZOS)
    return np.pad(np.asarray(small), 3, constant_values=150)


SPECK_WIDTHS = (1.5, 2.0, 3.0)  # px: thin lines are where specks show most


def sheet(engine: Engine, folders: list[Path], path: Path) -> dict[str, dict]:
    """One row per rough: rough | first preset at 2 px and 3 px | the other presets at 3 px.
    Returns each rough's thin-line coverage (2 px against 3 px) and their mean, and its specks
    with the first preset at each of SPECK_WIDTHS, their totals and medians."""
    brushes = engine.card.brushes
    rows, thin, speck_counts = [], {}, {}
    for folder in folders:
        for src in sorted(folder.glob("*.png")):
            if src.name.startswith("clean_"):
                continue
            grey, blue = load_sketch(src)
            settings = [Settings(2.0, brushes[0]), Settings(3.0, brushes[0])] + [Settings(3.0, b) for b in brushes[1:]]
            outs = [engine.run(grey, s, blue=blue) for s in settings]
            thin[src.stem] = round(thin_coverage(outs[0] / 255.0, outs[1] / 255.0), 3)
            by_width = {w: outs[0] if w == 2.0 else outs[1] if w == 3.0 else engine.run(grey, Settings(w, brushes[0]), blue=blue)
                        for w in SPECK_WIDTHS}
            speck_counts[src.stem] = [specks(by_width[w] / 255.0) for w in SPECK_WIDTHS]
            rows.append(np.concatenate([_cell(a) for a in [grey, *outs]], axis=1))
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1])), constant_values=255) for r in rows]
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(path)
    counts = np.array(list(speck_counts.values()))
    return {"thin_coverage": thin | {"mean": round(float(np.mean(list(thin.values()))), 3)},
            "specks_at_px": {"widths": list(SPECK_WIDTHS)} | speck_counts
            | {"total": counts.sum(0).tolist(), "median": np.median(counts, 0).tolist()}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folders", nargs="+", type=Path)
    ap.add_argument("--model", help="model .onnx (default: the shipped default)")
    ap.add_argument("--sheet", type=Path, default=Path("build/real-roughs.png"))
    ap.add_argument("--card", action="store_true", help="also write the numbers into the model card's metrics")
    a = ap.parse_args()
    engine = Engine(load_card(a.model))
    looks = sheet(engine, a.folders, a.sheet)
    print(f"real-roughs sheet: {a.sheet}")
    res = looks | {f.name: score_pairs(engine, f) for f in a.folders if any(f.glob("clean_*.png"))}
    print(json.dumps(res, indent=1))
    if a.card:
        card_path = engine.card.path.with_suffix(".json")
        card = json.loads(card_path.read_text())
        card.setdefault("metrics", {})["real_roughs"] = res
        card_path.write_text(json.dumps(card, indent=1) + "\n")
        print(f"real-rough numbers written to {card_path}")


if __name__ == "__main__":
    main()
