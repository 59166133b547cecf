"""Export a trained run to `models/<name>.onnx` and write its model card `models/<name>.json`
(or, with --remeasure, only measure a model's memory per pixel on this machine into its card).

    python -m training.export --run runs/lineart-v4 --name lineart-v4 --output-levels 0.2,0.85 pencil=0.1,0.95 --default-faint 0.45

The card records what the engine needs (brushes, thickness range, receptive field, size
multiple, measured activation memory per pixel) and how the model was made (recipe, seed,
training time). `python -m training.evaluate` adds the metrics.
"""
from __future__ import annotations

import argparse
import copy
import json
import subprocess
from pathlib import Path

import onnx
import torch

from smart_lineart import __version__
from training import probe, quantize
from training.model import Block, LineartNet, from_state, macs_per_pixel, receptive_field
from training.soup import command as soup_command
from training.synth import BRUSHES, THICKNESS_RANGE
from training.train import command as train_command
from training.train import shipped_weights

ROOT = Path(__file__).resolve().parent.parent

PROBES = 3
def export_onnx(model: LineartNet, path: Path) -> None:
    """The image's plane count is dynamic for a 2-plane model: a grey-only (1-plane) image,
    as the contract has it, still works and reads as no blue. A float model's residual
    additions are folded into its convolutions (`Block.fold_residual`); a quantised model's
    weights stay on their int8 grid."""
    k = len(BRUSHES)
    args = (torch.ones(1, model.planes, 64, 64), torch.full((1, 1), 3.0), torch.eye(k)[:1], torch.full((1, 1), 0.3))
    image_axes = {2: "height", 3: "width"} | ({1: "planes"} if model.planes == 2 else {})
    model = copy.deepcopy(model)
    quantized = bool(quantize.layers(model))
    if quantized:  # weight scales as constants, then the weights stored as int8
        quantize.freeze(model)
    else:
        for block in model.modules():
            if isinstance(block, Block):
                block.fold_residual()
    torch.onnx.export(model, args, str(path), input_names=["image", "thickness", "brush", "faint"],
                      output_names=["lineart"], dynamic_axes={"image": image_axes, "lineart": {2: "height", 3: "width"}},
                      opset_version=17, dynamo=False)
    if quantized:
        graph = onnx.load(str(path))
        quantize.int8_weights(graph)
        onnx.save(graph, str(path))


def runtimes() -> list[tuple[str, str]]:
    """(backend, precision) pairs this machine can measure: f32 everywhere, OpenVINO's bf16
    where the CPU computes it natively (elsewhere OpenVINO falls back to f32)."""
    import openvino as ov
    native = "BF16" in ov.Core().get_property("CPU", "OPTIMIZATION_CAPABILITIES")
    return [("onnxruntime", "f32"), ("openvino", "f32")] + ([("openvino", "bf16")] if native else [])


def tile_memory(path: Path, rf: int, multiple: int, planes: int) -> dict[str, tuple[float, float]]:
    """Per runtime and precision: (bytes per tile pixel, MB a run needs beyond that and the
    engine's fixed memory), measured through the engine at three tile sizes, PROBES fresh
    processes each. Runtimes' peaks vary from run to run (ONNX Runtime's by +-15%), so the
    figures are a line above every measured peak, with headroom: an underestimate would
    break the cap."""
    sizes = (512, 1024, 1536)  # the probe's page is one tile: its window is the core alone
    out: dict[str, tuple[float, float]] = {}
    for backend, precision in runtimes():
        worst: dict[int, float] = {}  # the highest peak over the engine's fixed memory, MB
        for core in sizes:
            for _ in range(PROBES):
                res = subprocess.run(probe.command("tile", str(path), backend, precision, str(core), str(rf),
                                                   str(multiple), str(len(BRUSHES)), str(planes)),
                                     capture_output=True, text=True, check=True, cwd=ROOT)
                fixed, peak = map(float, res.stdout.split()[-2:])
                worst[core] = max(worst.get(core, 0.0), peak - fixed)
        per_px = (worst[sizes[-1]] - worst[sizes[0]]) * 2**20 / (sizes[-1] ** 2 - sizes[0] ** 2) * 1.15
        overhead = max(max(worst[c] - per_px * c * c / 2**20 for c in sizes), 0.0)
        out[f"{backend}/{precision}"] = (round(per_px, 1), round(overhead * 1.1 + 4, 1))
    return out


def measure_memory(card: dict, path: Path) -> dict:
    """The card's memory figures, measured on this machine: per runtime, and the worst."""
    measured = tile_memory(path, card["receptive_field"], card["size_multiple"], card.get("image_planes", 1))
    return {"bytes_per_pixel": max(v[0] for v in measured.values()),
            "bytes_per_pixel_by_runtime": {k: v[0] for k, v in measured.items()},
            "tile_overhead_mb_by_runtime": {k: v[1] for k, v in measured.items()}}


def training_stages(run: Path) -> list[dict]:
    """The training commands that made `run`, first stage first (a run started with `--init`
    from another run's checkpoint follows that run's stages)."""
    last = torch.load(run / "last.pt", weights_only=False)
    args = last["args"]
    if "of" in args:  # an average of stages of one line (training.soup): the newest's stages, then it
        return training_stages(Path(args["of"][-1]).parent) + [{
            "command": soup_command(args), "seed": args["seed"], "steps": 0, "minutes": 0.0,
            "code": last["state"]["code"], "best_val_loss": round(last["state"]["best"], 5), "best_step": 0,
            "weights": f"mean of the moving averages of {len(args['of'])} stages"}]
    init = args.get("init")
    if init and init.endswith(".onnx"):  # continued from a shipped model: its card has the stages before
        earlier = json.loads(Path(init).with_suffix(".json").read_text())["training"]["stages"]
    else:
        earlier = training_stages(Path(init).parent) if init else []
    # stages before best_step was recorded hold a best.pt of their lowest validation loss
    best = last["state"] if "best_step" in last["state"] else torch.load(run / "best.pt", weights_only=False)["state"]
    return earlier + [{"command": train_command(args), "seed": args["seed"], "steps": last["state"]["step"],
                       "minutes": round(last["state"]["seconds"] / 60, 1), "code": last["state"].get("code", "unknown"),
                       "best_val_loss": round(best["best"], 5), "best_step": best.get("best_step", best["step"]),
                       "weights": "moving average at the last step" if "ema" in last else "best validation loss"}]


def run_weights(run: Path) -> dict[str, torch.Tensor]:
    """The weights a run ships: the moving average at its end where it kept one (an
    adversarial stage: see training/train.py), else those of its best validation loss."""
    last = torch.load(run / "last.pt", weights_only=False)
    return shipped_weights(last) if "ema" in last else torch.load(run / "best.pt", weights_only=False)["model"]


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
    ap.add_argument("--run")
    ap.add_argument("--name")
    ap.add_argument("--out", default=str(ROOT / "models"))
    ap.add_argument("--output-levels", nargs="*", default=[], metavar="[BRUSH=]BLACK,WHITE",
                    help="levels applied to the network's output, chosen with `evaluate --levels`: one curve "
                         "for every brush, then per-brush exceptions (default: none)")
    ap.add_argument("--default-faint", type=float,
                    help="the faint-line threshold the plugin starts with, chosen with `evaluate --faint-sweep`")
    ap.add_argument("--remeasure", metavar="MODEL.onnx",
                    help="only measure an exported model's memory per pixel on this machine into its card "
                         "(a machine whose CPU computes in another precision needs its own figure)")
    a = ap.parse_args()
    if a.remeasure:
        path = Path(a.remeasure)
        card = json.loads(path.with_suffix(".json").read_text())
        card |= measure_memory(card, path)
        path.with_suffix(".json").write_text(json.dumps(card, indent=1) + "\n")
        print(f"{path.with_suffix('.json')}: bytes per pixel {card['bytes_per_pixel_by_runtime']}, "
              f"MB per run {card['tile_overhead_mb_by_runtime']}")
        return
    if not (a.run and a.name and a.default_faint is not None):
        ap.error("--run, --name and --default-faint are required")
    run = Path(a.run)
    model = from_state(run_weights(run), len(BRUSHES)).eval()
    quantized = quantize.layers(model)
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    onnx_path = out / f"{a.name}.onnx"
    export_onnx(model, onnx_path)
    card_path = onnx_path.with_suffix(".json")
    old = json.loads(card_path.read_text()) if card_path.exists() else {}
    train_args = torch.load(run / "last.pt", weights_only=False)["args"]
    stages = training_stages(run)
    card = {
        "name": a.name,
        "release": __version__,  # the plugin release the model first shipped in
        "description": "Rough sketch -> clean lineart. Fully convolutional conditioned U-Net (FiLM on thickness, "
                       "brush preset and faint-line threshold), no convolution at full resolution.",
        "brushes": list(BRUSHES),
        "thickness_range": [THICKNESS_RANGE[0], 12.0],  # above the network's range: drawn at half scale
        "network_thickness_range": list(THICKNESS_RANGE),
        "default_faint": a.default_faint,
        "output_levels": output_levels(a.output_levels),
        "receptive_field": receptive_field(model),
        "size_multiple": model.size_multiple,
        "image_planes": model.planes,
        "inputs": {"image": "float32 (1,1,H,W), white=1 ink=0, H and W multiples of size_multiple"
                            + ("; or (1,2,H,W) with a second plane: light blue the drop-out removed, 0..1 "
                               "(preprocess.sketch_planes)" if model.planes == 2 else ""),
                   "thickness": "float32 (1,1) px", "brush": "float32 (1,K) one-hot over brushes",
                   "faint": "float32 (1,1) in [0,1]"},
        "parameters": sum(p.numel() for p in model.parameters()),
        **({"quantized": f"int8: {len(quantized)} inner (transposed) convolutions on uint8 inputs "
                         f"and per-channel int8 weights, trained so (training/quantize.py); "
                         f"{', '.join(quantize.FLOAT_LAYERS)} in float"} if quantized else {}),
        "macs_per_pixel": macs_per_pixel(model),
        "data": "Synthetic only: random clean curves and structured parts (eyes with solid irises, hair locks, "
                "hatching, spot blacks) rendered as rough sketches on varied paper and capture conditions by "
                "training/synth.py and training/figures.py (no external images; the real roughs in shared/ were only "
                "looked at and scored).",
        "recipe": " && ".join([s["command"] for s in stages]
                              + [f"python -m training.export --run {run.as_posix()} --name {a.name}"
                                 + (f" --output-levels {' '.join(a.output_levels)}" if a.output_levels else "")
                                 + f" --default-faint {a.default_faint:g}"]),
        "seed": stages[0]["seed"],
        "training": {"steps": sum(s["steps"] for s in stages), "minutes": round(sum(s["minutes"] for s in stages), 1),
                     "best_val_loss": stages[-1]["best_val_loss"], "batch": train_args["batch"],
                     "patch": train_args["size"], "hardware": last_stage_hardware(run),
                     "stages": stages},
        "metrics": old.get("metrics", {}),
    }
    card |= measure_memory(card, onnx_path)
    card_path.write_text(json.dumps(card, indent=1) + "\n")
    print(f"wrote {onnx_path} and {card_path}")


if __name__ == "__main__":
    main()
