"""Export a trained run to `models/<name>.onnx` and write its model card `models/<name>.json`.

    python -m training.export --run runs/lineart-v4 --name lineart-v4 --output-levels 0.2,0.85 pencil=0.1,0.95

The card records what the engine needs (brushes, thickness range, receptive field, size
multiple, measured activation memory per pixel) and how the model was made (recipe, seed,
training time). `python -m training.evaluate` adds the metrics.
"""
from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import torch

from smart_lineart.engine.model_card import tile_margin
from training import probe
from training.model import SIZE_MULTIPLE, LineartNet, macs_per_pixel, receptive_field
from training.synth import BRUSHES, DEFAULT_FAINT, THICKNESS_RANGE
from training.train import command as train_command

ROOT = Path(__file__).resolve().parent.parent

PROBES = 3
def export_onnx(model: LineartNet, path: Path) -> None:
    k = len(BRUSHES)
    args = (torch.ones(1, 1, 64, 64), torch.full((1, 1), 3.0), torch.eye(k)[:1], torch.full((1, 1), 0.3))
    torch.onnx.export(model, args, str(path), input_names=["image", "thickness", "brush", "faint"],
                      output_names=["lineart"], dynamic_axes={"image": {2: "height", 3: "width"},
                                                               "lineart": {2: "height", 3: "width"}},
                      opset_version=17, dynamo=False)


def activation_bytes_per_pixel(path: Path, rf: int) -> float:
    """Peak memory growth per tile pixel (margin included), measured through the engine in
    each backend; the larger is kept, with headroom for allocator variation. Peak RSS varies
    from process to process, so each size is measured PROBES times and the growth taken from
    the largest big-tile and smallest small-tile peak: an underestimate would break the cap."""
    margin = tile_margin(rf, SIZE_MULTIPLE)
    worst = 0.0
    for backend in ("onnxruntime", "openvino"):
        rss: dict[int, list[float]] = {768: [], 1536: []}  # both above the import-time peak
        for core, peaks in rss.items():
            for _ in range(PROBES):
                out = subprocess.run(probe.command("tile", str(path), backend, str(core), str(rf),
                                                   str(SIZE_MULTIPLE), str(len(BRUSHES))),
                                     capture_output=True, text=True, check=True, cwd=ROOT)
                peaks.append(float(out.stdout.split()[-1]) * 2**20)
        growth = max(rss[1536]) - min(rss[768])
        worst = max(worst, growth / ((1536 + 2 * margin) ** 2 - (768 + 2 * margin) ** 2))
    return round(worst * 1.15, 1)


def training_stages(run: Path) -> list[dict]:
    """The training commands that made `run`, first stage first (a run started with `--init`
    from another run's checkpoint follows that run's stages)."""
    last = torch.load(run / "last.pt", weights_only=False)
    args = last["args"]
    init = args.get("init")
    if init and init.endswith(".onnx"):  # continued from a shipped model: its card has the stages before
        earlier = json.loads(Path(init).with_suffix(".json").read_text())["training"]["stages"]
    else:
        earlier = training_stages(Path(init).parent) if init else []
    best = torch.load(run / "best.pt", weights_only=False)
    return earlier + [{"command": train_command(args), "seed": args["seed"], "steps": last["state"]["step"],
                       "minutes": round(last["state"]["seconds"] / 60, 1), "code": last["state"].get("code", "unknown"),
                       "best_val_loss": round(best["state"]["best"], 5), "best_step": best["state"]["step"]}]


def last_stage_hardware(run: Path) -> str:
    return torch.load(run / "last.pt", weights_only=False)["state"].get("hardware", "2-core x86-64 CPU, bf16 autocast")


def output_levels(specs: list[str]) -> dict[str, list[float]]:
    """["0.2,0.85", "pencil=0.1,0.95"] -> {brush: [black, white]} for every brush."""
    levels = {b: [0.0, 1.0] for b in BRUSHES}
    for spec in specs:
        brush, _, pair = spec.rpartition("=")
        lo, hi = (float(v) for v in pair.split(","))
        if brush and brush not in BRUSHES:
            raise SystemExit(f"--output-levels: unknown brush {brush!r}")
        for b in [brush] if brush else BRUSHES:
            levels[b] = [lo, hi]
    return levels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--run", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", default=str(ROOT / "models"))
    ap.add_argument("--output-levels", nargs="*", default=[], metavar="[BRUSH=]BLACK,WHITE",
                    help="levels applied to the network's output, chosen with `evaluate --levels`: one curve "
                         "for every brush, then per-brush exceptions (default: none)")
    a = ap.parse_args()
    run = Path(a.run)
    best = torch.load(run / "best.pt", weights_only=False)
    model = LineartNet(len(BRUSHES))
    model.load_state_dict(best["model"])
    model.eval()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{a.name}.onnx"
    export_onnx(model, onnx_path)
    card_path = onnx_path.with_suffix(".json")
    old = json.loads(card_path.read_text()) if card_path.exists() else {}
    train_args = best["args"]
    stages = training_stages(run)
    card = {
        "name": a.name,
        "description": "Rough sketch -> clean lineart. Fully convolutional conditioned U-Net (FiLM on thickness, "
                       "brush preset and faint-line threshold), no convolution at full resolution.",
        "brushes": list(BRUSHES),
        "thickness_range": [THICKNESS_RANGE[0], 12.0],  # above the network's range: drawn at half scale
        "network_thickness_range": list(THICKNESS_RANGE),
        "default_faint": DEFAULT_FAINT,
        "output_levels": output_levels(a.output_levels),
        "receptive_field": receptive_field(model),
        "size_multiple": SIZE_MULTIPLE,
        "bytes_per_pixel": activation_bytes_per_pixel(onnx_path, receptive_field(model)),
        "inputs": {"image": "float32 (1,1,H,W), white=1 ink=0, H and W multiples of size_multiple",
                   "thickness": "float32 (1,1) px", "brush": "float32 (1,K) one-hot over brushes",
                   "faint": "float32 (1,1) in [0,1]"},
        "parameters": sum(p.numel() for p in model.parameters()),
        "macs_per_pixel": macs_per_pixel(model),
        "data": "Synthetic only: random clean curves rendered as rough sketches by training/synth.py "
                "(no external images; the real sketches in shared/validation were only looked at).",
        "recipe": " && ".join([s["command"] for s in stages]
                              + [f"python -m training.export --run {run.as_posix()} --name {a.name}"
                                 + (f" --output-levels {' '.join(a.output_levels)}" if a.output_levels else "")]),
        "seed": stages[0]["seed"],
        "training": {"steps": sum(s["steps"] for s in stages), "minutes": round(sum(s["minutes"] for s in stages), 1),
                     "best_val_loss": stages[-1]["best_val_loss"], "batch": train_args["batch"],
                     "patch": train_args["size"], "hardware": last_stage_hardware(run),
                     "stages": stages},
        "metrics": old.get("metrics", {}),
    }
    card_path.write_text(json.dumps(card, indent=1) + "\n")
    print(f"wrote {onnx_path} and {card_path}")


if __name__ == "__main__":
    main()
