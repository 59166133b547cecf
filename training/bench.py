"""`make bench`: our engine against the 2016 network, on this machine, in one run.

- per-image time once loaded at 1 MP: our engine per backend (auto included) vs the 2016
  architecture (random weights) in its best runtime here;
- end-to-end CLI time (start-up included) and peak RSS from 0.25 MP to 64 MP (A4 at 300 dpi
  is 8.7 MP), and A4 under --max-memory 400;
- multiply-adds per second achieved vs this CPU's measured peak (a large matrix product in
  the same runtime), and where an A4 page's time goes.
Prints a Markdown table and writes bench/results.json.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np
from PIL import Image

from smart_lineart.engine import backends
from smart_lineart.engine.imageio import load_grey, save_lineart
from smart_lineart.engine.model_card import load_card
from smart_lineart.engine.preprocess import measure_levels
from smart_lineart.engine.strokes import extract
from smart_lineart.engine.tiling import Engine, spans
from smart_lineart.settings import DEFAULTS, Settings
from training import probe
from training.strokes_eval import loose_fragments

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "build" / "bench"
SIZES = {"0.25 MP": (512, 512), "1 MP": (1024, 1024), "4 MP": (2048, 2048), "A4 300 dpi": (3508, 2480),
         "64 MP": (8000, 8000)}
def page(name: str, h: int, w: int) -> Path:
    """The bundled example sketch tiled to h x w, as an RGB JPEG (a typical scan)."""
    path = WORK / f"page-{w}x{h}.jpg"
    if not path.exists():
        tile = np.asarray(Image.open(ROOT / "examples" / "sketch.jpg").convert("RGB"))
        reps = (-(-h // tile.shape[0]), -(-w // tile.shape[1]), 1)
        Image.fromarray(np.tile(tile, reps)[:h, :w]).save(path, quality=90)
    return path


def timed(fn, repeat: int = 3) -> float:
    fn()  # warm-up: first-run allocations and kernel selection
    return statistics.median(_once(fn) for _ in range(repeat))


def _once(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def cli(src: Path, *args: str) -> dict:
    t = time.perf_counter()
    r = subprocess.run(probe.command("cli", str(src), "-o", str(WORK / "out.png"), "--quiet", *args),
                       capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t
    if r.returncode != 0:  # e.g. refused: the image cannot be decoded under the cap
        # the message names the input by its path: this machine's, so the table names the file
        return {"refused": r.stderr.strip().splitlines()[0].replace(str(src), src.name)}
    return {"seconds": round(seconds, 2), "peak_rss_mb": round(float(r.stderr.split("peak")[-1]))}


def raw_runner(path: Path, backend: str):
    """A plain single-input session (the 2016 net and the matmul probe), all cores."""
    if backend == "openvino":
        import openvino as ov
        compiled = ov.Core().compile_model(str(path), "CPU", {"PERFORMANCE_HINT": "LATENCY"})
        req = compiled.create_infer_request()
        return lambda feeds: req.infer(feeds)
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = os.cpu_count() or 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    return lambda feeds: sess.run(None, feeds)


def peak_macs_per_second(backend: str, n: int = 2048) -> float:
    """A large float32 matrix product in the runtime: the CPU's practical peak."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    path = WORK / "matmul.onnx"
    if not path.exists():
        b = numpy_helper.from_array(np.random.default_rng(0).random((n, n), dtype=np.float32), "b")
        graph = helper.make_graph([helper.make_node("MatMul", ["a", "b"], ["c"])], "mm",
                                  [helper.make_tensor_value_info("a", TensorProto.FLOAT, [n, n])],
                                  [helper.make_tensor_value_info("c", TensorProto.FLOAT, [n, n])], [b])
        onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=9), path)
    run = raw_runner(path, backend)
    a = np.random.default_rng(1).random((n, n), dtype=np.float32)
    return n ** 3 / timed(lambda: run({"a": a}), repeat=5)


def processed_pixels(engine: Engine, h: int, w: int) -> int:
    """Pixels the network really sees: every tile's window (`tiling.spans`)."""
    th, tw = engine.tile_core(h, w)
    m, k = engine.card.margin, engine.card.size_multiple
    (wh, rows), (ww, cols) = spans(h, th, m, k), spans(w, tw, m, k)
    return wh * len(rows) * ww * len(cols)


def main() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    info = load_card()
    res: dict = {"machine": {"cpus": os.cpu_count(), "cpu": _cpu_name()}, "model": info.name,
                 "macs_per_pixel": info.raw["macs_per_pixel"]}

    # per image, once loaded, 1 MP
    src = page("1 MP", *SIZES["1 MP"])
    grey = load_grey(src)
    per_image = {}
    for backend in ["auto"] + backends.installed_backends():
        engine = Engine(info, backend, "CPU" if backend != "auto" else "auto")
        s = timed(lambda e=engine: e.run(grey), repeat=9)  # tenths of a second each: the median of many
        per_image[backend] = {"seconds": round(s, 3), "backend": engine.backend, "model": engine.card.name,
                              "gmacs_per_s": round(processed_pixels(engine, *grey.shape) * engine.card.raw["macs_per_pixel"] / s / 1e9, 1)}
    # what OpenVINO's default path (bf16, or the int8 twin) buys over the float model in fp32, and what it costs
    import openvino as ov
    f32 = ov.Core().compile_model(str(info.path), "CPU", {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"})
    req = f32.create_infer_request()
    engine = Engine(info, "openvino", "CPU")
    feeds = engine.conditions(Settings())
    levels = measure_levels(grey)
    window = levels.apply(grey, 0, 0)[None, None]
    bf16_out = engine.runner.run(window, feeds).copy()
    s32 = timed(lambda: req.infer({"image": window, **feeds}))
    s16 = timed(lambda: engine.runner.run(window, feeds))
    diff = np.abs(req.infer({"image": window, **feeds})[0] - bf16_out).max() * 255
    res["openvino_precision_1mp"] = {"default": f"{engine.card.name} {engine.runner.precision}",
                                     "f32": f"{info.name} f32", "default_seconds": round(s16, 3),
                                     "f32_seconds": round(s32, 3),
                                     "max_abs_diff_of_255": round(float(diff), 2)}
    from training.simo2016 import export
    simo_path = WORK / "simo2016.onnx"
    simo = export(simo_path)
    x = 1.0 - grey[None, None].astype(np.float32) / 255
    simo_times = {b: timed(lambda run=raw_runner(simo_path, b): run({"image": x}), repeat=1)
                  for b in backends.installed_backends()}
    best = min(simo_times, key=lambda b: simo_times[b])
    simo.update({"seconds_1mp": {b: round(s, 2) for b, s in simo_times.items()}, "best_runtime": best,
                 "gmacs_per_s": round(simo["macs_per_pixel"] * grey.size / simo_times[best] / 1e9, 1)})
    res["per_image_1mp"] = per_image
    res["simo2016"] = simo
    res["speedup_vs_2016"] = round(simo_times[best] / per_image["auto"]["seconds"], 1)
    res["peak_gmacs_per_s"] = {b: round(peak_macs_per_second(b) / 1e9, 1) for b in backends.installed_backends()}

    # end to end, scaling
    res["cli"] = {name: dict(cli(page(name, h, w)), megapixels=round(h * w / 1e6, 2)) for name, (h, w) in SIZES.items()}
    a4 = page("A4 300 dpi", *SIZES["A4 300 dpi"])
    res["cli_a4_max_memory_400"] = cli(a4, "--max-memory", "400")
    res["cli_64mp_max_memory_400"] = cli(page("64 MP", *SIZES["64 MP"]), "--max-memory", "400")
    res["cli_a4_onnxruntime"] = cli(a4, "--backend", "onnxruntime")
    res["cli_a4_svg"] = cli(a4, "--svg")

    # where an A4 page's time goes (in process, auto backend; this process holds torch and the
    # 2016 net, so the cap is lifted: only time is measured here)
    engine = Engine(info, max_memory_mb=8192)
    stages = {}
    t = time.perf_counter()
    g = load_grey(a4)
    stages["decode + grey"] = time.perf_counter() - t
    t = time.perf_counter()
    levels = measure_levels(g)
    stages["levels"] = time.perf_counter() - t
    t = time.perf_counter()
    out = engine.run(g, levels=levels)
    stages["network (tiles)"] = time.perf_counter() - t
    t = time.perf_counter()
    save_lineart(WORK / "a4.png", out)
    stages["encode PNG"] = time.perf_counter() - t
    t = time.perf_counter()
    strokes = extract(out, DEFAULTS.thickness)
    stages["strokes (for --svg)"] = time.perf_counter() - t
    res["a4_strokes"] = {"paths": len(strokes.paths),
                         "loose_fragments": loose_fragments(strokes, 5 * DEFAULTS.thickness)}
    res["a4_stages_seconds"] = {k: round(v, 2) for k, v in stages.items()}

    (ROOT / "bench").mkdir(exist_ok=True)
    (ROOT / "bench" / "results.json").write_text(json.dumps(res, indent=1) + "\n")
    print(table(res))


def table(r: dict) -> str:
    p, s = r["per_image_1mp"], r["simo2016"]
    lines = [f"Machine: {r['machine']['cpus']} cores, {r['machine']['cpu']}", "",
             "| 1 MP, model loaded | seconds | GMAC/s | vs 2016 net |", "|---|---|---|---|"]
    for b, v in p.items():
        lines.append(f"| {v['model']}, {b} ({v['backend']}) | {v['seconds']} | {v['gmacs_per_s']} | "
                     f"{s['seconds_1mp'][s['best_runtime']] / v['seconds']:.0f}x faster |")
    lines.append(f"| 2016 net ({s['conv_layers']} conv layers, {s['parameters'] / 1e6:.0f} M params), best runtime "
                 f"{s['best_runtime']} | {s['seconds_1mp'][s['best_runtime']]} | {s['gmacs_per_s']} | 1x |")
    lines.append(f"| CPU peak (float32 matmul) | | {', '.join(f'{b} {v}' for b, v in r['peak_gmacs_per_s'].items())} | |")
    o = r["openvino_precision_1mp"]
    lines.append(f"| OpenVINO {o['default']} (default here) vs {o['f32']}, one 1 MP window | {o['default_seconds']} vs "
                 f"{o['f32_seconds']} | "
                 f"max diff {o['max_abs_diff_of_255']}/255 | |")
    lines += ["", "| CLI end to end (start-up included) | MP | seconds | peak RSS MB |", "|---|---|---|---|"]
    for name, v in r["cli"].items():
        lines.append(f"| {name} | {v['megapixels']} | {v['seconds']} | {v['peak_rss_mb']} |")
    v = r["cli_a4_max_memory_400"]
    lines.append(f"| A4, --max-memory 400 | 8.7 | {v['seconds']} | {v['peak_rss_mb']} |")
    v = r["cli_64mp_max_memory_400"]
    lines.append(f"| 64 MP, --max-memory 400 | 64 | {v.get('seconds', v.get('refused'))} | {v.get('peak_rss_mb', '-')} |")
    v = r["cli_a4_onnxruntime"]
    lines.append(f"| A4, --backend onnxruntime | 8.7 | {v['seconds']} | {v['peak_rss_mb']} |")
    v = r["cli_a4_svg"]
    lines.append(f"| A4, --svg (PNG and SVG) | 8.7 | {v['seconds']} | {v['peak_rss_mb']} |")
    lines += ["", "A4 in process: " + ", ".join(f"{k} {v} s" for k, v in r["a4_stages_seconds"].items())
              + f"; {r['a4_strokes']['paths']} strokes, {r['a4_strokes']['loose_fragments']} loose fragments"]
    return "\n".join(lines)


def _cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


if __name__ == "__main__":
    main()
