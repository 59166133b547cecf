"""Command line: the same engine as the Krita plugin, for batches, demos and benchmarks.

    python -m smart_lineart sketch.png -o lineart.png --thickness 3 --brush fineliner
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from . import backends
from .engine import MB, Cancelled, Engine, MemoryCapError, Settings, SettingsError, rss_mb
from .imageio import ImageReadError, decode_cost, load_grey, save_lineart
from .models import ModelError, available_models, load_model_info, models_dir


class UserError(Exception):
    """Bad input: reported as one line on stderr with exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, no usage dump
        raise UserError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="smart_lineart", description="Turn rough sketches into clean lineart.")
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="sketch images (PNG/JPEG/TIFF/WebP, any mode)")
    p.add_argument("-o", "--output", help="output PNG (one input) or folder (several inputs)")
    p.add_argument("--thickness", type=float, default=3.0, metavar="PX", help="line width in output pixels (default 3)")
    p.add_argument("--brush", help="brush preset (default: the model's first; see --list)")
    p.add_argument("--faint", type=float, metavar="LEVEL",
                   help="faint-line threshold 0-1: higher drops more light lines as construction "
                        "(default: the model's, see --list)")
    p.add_argument("--backend", default="auto", choices=("auto",) + backends.BACKENDS)
    p.add_argument("--device", default="auto", choices=("auto",) + backends.DEVICES)
    p.add_argument("--max-memory", type=float, default=768, metavar="MB", help="working memory cap (default 768)")
    p.add_argument("--model", help="another .onnx model (its .json card beside it)")
    p.add_argument("--transparent", action="store_true", help="black lines on transparency instead of white")
    p.add_argument("--list", action="store_true", help="list backends, devices, models and presets, then exit")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    return p


def _list(model_path: str | None) -> None:
    for b in backends.installed_backends():
        print(f"backend {b}: devices {', '.join(backends.devices(b))}")
    b, d = backends.choose()
    print(f"auto: {b} on {d}")
    print(f"models in {models_dir()}: {', '.join(p.stem for p in available_models()) or '(none)'}")
    info = load_model_info(model_path)
    print(f"model {info.name}: brushes {', '.join(info.brushes)}; thickness {info.thickness_range[0]:g}-"
          f"{info.thickness_range[1]:g} px; default faint {info.default_faint:g}")


class _Progress:
    """A one-line progress bar on stderr, shown once a run has taken more than a second."""

    def __init__(self, label: str, quiet: bool):
        self.label, self.quiet, self.start, self.shown = label, quiet, time.monotonic(), False

    def __call__(self, done: int, total: int) -> None:
        if self.quiet or (not self.shown and time.monotonic() - self.start < 1.0 and done < total):
            return
        self.shown = True
        bar = "#" * (24 * done // total)
        sys.stderr.write(f"\r{self.label} [{bar:<24}] {done}/{total} tiles")
        if done == total:
            sys.stderr.write(f" {time.monotonic() - self.start:.1f}s\n")
        sys.stderr.flush()


def _outputs(inputs: list[str], output: str) -> list[Path]:
    if len(inputs) == 1 and not Path(output).is_dir():
        return [Path(output)]
    folder = Path(output)
    folder.mkdir(parents=True, exist_ok=True)
    names = [Path(i).stem + ".png" for i in inputs]
    if len(set(names)) < len(names):
        raise UserError("several inputs share a file name; their outputs would overwrite each other")
    return [folder / n for n in names]


def run(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    if a.list:
        _list(a.model)
        return 0
    if not a.inputs:
        raise UserError("no input images given (see --help)")
    if not a.output:
        raise UserError("no output given: use -o OUTPUT")
    if a.max_memory <= 0:
        raise UserError("--max-memory must be positive")
    info = load_model_info(a.model)
    engine = Engine(info, a.backend, a.device, a.max_memory)
    settings = Settings(a.thickness, a.brush, a.faint)
    engine.conditions(settings)  # validate the settings before reading any image
    for src, dst in zip(a.inputs, _outputs(a.inputs, a.output)):
        h, w, decoded = decode_cost(src)
        # while decoding, the decoded file and its grey copy coexist; the result comes after the
        # decoded file is freed, and the engine fits its tiles around it
        need = rss_mb() + (decoded + h * w) / MB
        if need > a.max_memory:
            raise UserError(f"{src} is {w}x{h}: decoding it needs about {need:.0f} MB, over --max-memory "
                            f"{a.max_memory:g}")
        grey = load_grey(src)
        lineart = engine.run(grey, settings, progress=_Progress(Path(src).name, a.quiet))
        del grey
        dst.parent.mkdir(parents=True, exist_ok=True)
        save_lineart(dst, lineart, a.transparent)
        if not a.quiet:
            print(f"wrote {dst}", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except (UserError, ImageReadError, ModelError, backends.BackendError, MemoryCapError,
            SettingsError) as e:
        print(f"smart_lineart: error: {e}", file=sys.stderr)
        return 2
    except Cancelled:
        print("smart_lineart: cancelled", file=sys.stderr)
        return 130
    except KeyboardInterrupt:
        print("\nsmart_lineart: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # e.g. the output folder is not writable
        print(f"smart_lineart: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
