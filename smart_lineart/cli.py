"""Command line: the same engine as the Krita plugin, for batches, demos and benchmarks.

    python -m smart_lineart sketch.png -o lineart.png --thickness 3 --brush fineliner
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import NoReturn

from . import __version__, log
from .engine import backends
from .engine.imageio import atomic_write, inspect, load_sketch, save_lineart
from .engine.memory import MB, steady_heap
from .engine.model_card import available_models, load_card, models_dir
from .engine.strokes import STROKE_BYTES_PER_PIXEL, extract
from .engine.svg import to_svg
from .engine.tiling import RESERVE_MB, Engine, runs_as
from .errors import Cancelled, MemoryCapError, OutputError, SettingsError, SmartLineartError, UsageError, by_ctrl_c
from .settings import DEFAULTS, Settings

FLAGS = {"thickness": "--thickness", "brush": "--brush", "faint": "--faint", "backend": "--backend",
         "device": "--device", "max_memory_mb": "--max-memory", "output": "--svg",
         "close_gaps": "--close-gaps"}  # Settings field -> flag


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, no usage dump
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="smart_lineart", description="Turn rough sketches into clean lineart.")
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="sketch images (PNG/JPEG/TIFF/WebP, any mode)")
    p.add_argument("-o", "--output", help="output PNG (one input) or folder (several inputs)")
    p.add_argument("--thickness", type=float, default=DEFAULTS.thickness, metavar="PX",
                   help=f"line width in output pixels (default {DEFAULTS.thickness:g})")
    p.add_argument("--brush", help="brush preset (default: the model's first; see --list)")
    p.add_argument("--faint", type=float, metavar="LEVEL",
                   help="faint-line threshold 0-1: higher drops more light lines as construction "
                        "(default: the model's, see --list)")
    p.add_argument("--backend", default=DEFAULTS.backend, choices=("auto",) + backends.BACKENDS)
    p.add_argument("--device", default=DEFAULTS.device, choices=("auto",) + backends.DEVICES)
    p.add_argument("--max-memory", type=float, default=DEFAULTS.max_memory_mb, metavar="MB",
                   help=f"cap on the tool's peak memory (default {DEFAULTS.max_memory_mb:g})")
    p.add_argument("--model", help="another .onnx model (its .json card beside it)")
    p.add_argument("--transparent", action="store_true", help="black lines on transparency instead of white")
    p.add_argument("--svg", action="store_true", help="also write the lineart as vector strokes: OUTPUT with .svg")
    p.add_argument("--svg-outlines", action="store_true",
                   help="with --svg: each stroke a filled outline whose width follows the line (tapers), "
                        "instead of a line of one width")
    p.add_argument("--close-gaps", type=float, default=DEFAULTS.close_gaps, metavar="PX",
                   help=f"with --svg: join stroke ends that nearly meet, up to PX apart (default {DEFAULTS.close_gaps:g}: off)")
    p.add_argument("--list", action="store_true", help="list backends, devices, models and presets, then exit")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--verbose", action="store_true", help="log details, and tracebacks of internal errors, on stderr")
    p.add_argument("--version", action="version", version=f"smart_lineart {__version__}")
    return p


def _list(model_path: str | None) -> None:
    for b in backends.installed_backends():
        print(f"backend {b}: devices {', '.join(backends.devices(b))}")
    b, d = backends.choose()
    print(f"auto: {b} on {d}")
    print(f"models in {models_dir()}: {', '.join(p.stem for p in available_models()) or '(none)'}")
    info = load_card(model_path)
    runs = runs_as(info)
    print(f"model {info.name}: brushes {', '.join(info.brushes)}; thickness {info.thickness_range[0]:g}-"
          f"{info.thickness_range[1]:g} px; default faint {info.default_faint:g}"
          + (f"; runs as its int8 version {runs.name} here (faster on this CPU)" if runs is not info else ""))


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
    """One output per input: the file itself (one input), else INPUT's name with .png in the
    folder. Checked before any work: never an input, never two inputs onto one output."""
    out = Path(output)
    if len(inputs) == 1 and not out.is_dir() and not output.endswith(("/", os.sep)):
        if out.suffix.lower() != ".png":
            raise UsageError(f"{output}: the output is a PNG image, so its name must end in .png")
        outs = [out]
    else:
        if out.exists() and not out.is_dir():
            raise UsageError(f"{output} is a file; with several inputs the output is a folder")
        names = [Path(i).stem + ".png" for i in inputs]
        if len(set(names)) < len(names):
            raise UsageError("several inputs share a file name; their outputs would overwrite each other")
        outs = [out / n for n in names]
    sources = {_identity(Path(i)) for i in inputs}
    for o in outs:
        if _identity(o) in sources:
            raise UsageError(f"{o} is one of the inputs; choose another output (a sketch is never overwritten)")
    return outs


def _identity(p: Path) -> tuple:
    """The same file under any name (links, relative paths)."""
    try:
        st = p.stat()
        return (st.st_dev, st.st_ino)
    except OSError:
        return (str(p.resolve()),)


def _page(src: str, dst: Path, engine: Engine, settings: Settings, a: argparse.Namespace) -> None:
    info = inspect(src)
    if info.frames > 1:
        print(f"smart_lineart: warning: {src} has {info.frames} pages or frames; only the first is inked",
              file=sys.stderr)
    h, w = info.height, info.width
    # decoding holds the decoded file and its grey copy (and blue plane); the engine's stages
    # are its own to budget; writing holds the result (the PNG streams in bands)
    planes = engine.card.planes
    need = max(engine.fixed_mb + RESERVE_MB + (info.decoded_bytes + planes * h * w) / MB,
               engine.peak_mb(h, w, settings.thickness),
               engine.fixed_mb + RESERVE_MB + (1 + STROKE_BYTES_PER_PIXEL * a.svg) * h * w / MB)
    if need > settings.max_memory_mb:
        kept = engine.kept_mb  # the runtime's, for earlier pages' window shapes
        why = f" ({kept:.0f} MB of it the runtime keeps from earlier pages of other sizes: ink it on its own)" \
            if need - kept <= settings.max_memory_mb else ""
        raise MemoryCapError(f"{src} is {w}x{h}: it needs about {need:.0f} MB, over the memory cap of "
                             f"{settings.max_memory_mb:g} MB{why}")
    grey, blue = load_sketch(src, blue=planes == 2)
    lineart = engine.run(grey, settings, progress=_Progress(Path(src).name, a.quiet), blue=blue)
    del grey, blue
    try:
        dst.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot write {dst}: {e.strerror or e}") from None
    save_lineart(dst, lineart, a.transparent)
    if not a.quiet:
        print(f"wrote {dst}", file=sys.stderr)
    if a.svg:
        vector = dst.with_suffix(".svg")
        text = to_svg(extract(lineart, settings.thickness, settings.close_gaps), outlines=a.svg_outlines).encode()
        atomic_write(vector, lambda f: f.write(text))
        if not a.quiet:
            print(f"wrote {vector}", file=sys.stderr)


def run(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    if a.verbose:
        log.to_stderr()
    if a.list:
        _list(a.model)
        return 0
    if not a.inputs:
        raise UsageError("no input images given (see --help)")
    if not a.output:
        raise UsageError("no output given: use -o OUTPUT")
    settings = Settings(a.thickness, a.brush, a.faint, a.backend, a.device, a.max_memory, close_gaps=a.close_gaps)
    settings.check_runtime()
    outputs = _outputs(a.inputs, a.output)
    steady_heap()
    engine = Engine(load_card(a.model), a.backend, a.device, a.max_memory, settings=settings)  # checks them too
    failed = 0
    for src, dst in zip(a.inputs, outputs):
        try:
            _page(src, dst, engine, settings, a)
        except SmartLineartError as e:  # this page only: the others are still inked
            print(f"smart_lineart: error: {_message(e)}", file=sys.stderr)
            failed += 1
    if failed and len(outputs) > 1:
        print(f"smart_lineart: {failed} of {len(outputs)} inputs failed", file=sys.stderr)
    return 2 if failed else 0


def _message(e: SmartLineartError) -> str:
    return f"{FLAGS[e.setting]}: {e}" if isinstance(e, SettingsError) else str(e)


def main(argv: list[str] | None = None) -> int:
    try:
        return run(argv)
    except SmartLineartError as e:
        print(f"smart_lineart: error: {_message(e)}", file=sys.stderr)
        return 2
    except Cancelled:
        print("smart_lineart: cancelled", file=sys.stderr)
        return 130
    except OSError as e:  # e.g. the output folder is not writable
        print(f"smart_lineart: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except (KeyboardInterrupt, Exception) as e:  # not SystemExit: argparse's own exits
        if by_ctrl_c(e):
            print("\nsmart_lineart: interrupted", file=sys.stderr)
            return 130
        # a bug: one line, the traceback with --verbose
        print(f"smart_lineart: {log.internal_error(e)} (run with --verbose for the traceback)", file=sys.stderr)
        return 1
