"""Evaluate a shipped model through the engine (exactly the CLI's path) on held-out sketches.

    python -m training.evaluate --model models/lineart-v1.onnx --card   # also writes the card

The sketches come from the synthesiser with EVAL_SEED, which neither training nor validation
uses. Reports F1 at 1/2/4 px, Chamfer distance, skeleton-length ratio, measured width
against the requested thickness and mid-grey share, per brush and per thickness, and the
same numbers for the unprocessed sketch as a baseline.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from smart_lineart.engine import Engine, Settings
from smart_lineart.models import load_model_info
from smart_lineart.preprocess import grey_on_white, to_uint8
from training.metrics import compare
from training.synth import BRUSHES, make_pair

EVAL_SEED = 7_654_321
THICKNESSES = (1.5, 3.0, 6.0)


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]}


def evaluate(model_path: str | None, n: int, size: int, backend: str) -> dict:
    info = load_model_info(model_path)
    engine = Engine(info, backend)
    rng = np.random.default_rng(EVAL_SEED)
    per: dict[str, list[dict[str, float]]] = {}
    baseline: list[dict[str, float]] = []
    for brush in info.brushes:
        for t in THICKNESSES:
            for _ in range(n):
                p = make_pair(rng, size, brush=BRUSHES.index(brush), thickness=t, faint=info.default_faint)
                grey = to_uint8(grey_on_white(p.sketch))
                out = engine.run(grey, Settings(t, brush)).astype(np.float32) / 255.0
                m = compare(out, p.target)
                m["width_error"] = abs(m["width"] - m["target_width"]) / m["target_width"] if m["target_width"] else 0.0
                per.setdefault(f"{brush}@{t:g}", []).append(m)
                if brush == info.brushes[0]:
                    baseline.append(compare(p.net_input, p.target))
    by_cond = {k: _mean(v) for k, v in per.items()}
    by_brush = {b: _mean([m for k, v in per.items() if k.startswith(b + "@") for m in v]) for b in info.brushes}
    keys = ("f1@1", "f1@2", "f1@4", "precision@2", "recall@2", "chamfer", "skeleton_ratio", "width_error",
            "mid_grey", "target_mid_grey")
    return {
        "set": f"{n} synthetic sketches per brush and thickness {list(THICKNESSES)}, {size}x{size}, seed {EVAL_SEED}",
        "backend": engine.backend,
        "overall": {k: v for k, v in _mean([m for v in per.values() for m in v]).items() if k in keys},
        "by_brush": {b: {k: v for k, v in m.items() if k in keys} for b, m in by_brush.items()},
        "by_condition": {c: {k: v for k, v in m.items() if k in keys + ("width", "target_width")} for c, m in by_cond.items()},
        "sketch_as_is": {k: v for k, v in _mean(baseline).items() if k in ("f1@1", "f1@2", "f1@4", "chamfer", "skeleton_ratio")},
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", help="model .onnx (default: the shipped default)")
    ap.add_argument("--n", type=int, default=12, help="sketches per brush and thickness")
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--backend", default="auto")
    ap.add_argument("--card", action="store_true", help="write the metrics into the model card")
    a = ap.parse_args()
    res = evaluate(a.model, a.n, a.size, a.backend)
    print(json.dumps(res, indent=1))
    if a.card:
        info = load_model_info(a.model)
        card_path = Path(info.path).with_suffix(".json")
        card = json.loads(card_path.read_text())
        card["metrics"] = res
        card_path.write_text(json.dumps(card, indent=1) + "\n")
        print(f"metrics written to {card_path}")


if __name__ == "__main__":
    main()
