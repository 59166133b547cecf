"""Peak-memory probes, each run in a fresh process (VmHWM starts afresh at exec; the peak of
a process that spawned it does not leak in, as ru_maxrss would):

    python -m training.probe cli INPUT -o OUT [flags]     # the CLI, then "peak <MB>" on stderr
    python -m training.probe tile MODEL BACKEND PRECISION CORE RF MULTIPLE BRUSHES PLANES   # engine's fixed MB, peak MB

`tile` runs the engine twice on one tile of the given core size: the model's activations
plus the engine's own per-tile buffers (export measures bytes per pixel with it).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from smart_lineart.engine.memory import peak_rss_mb


def command(kind: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "training.probe", kind, *args]


def cli(argv: list[str]) -> int:
    from smart_lineart.cli import main
    rc = main(argv)
    print("peak", peak_rss_mb(), file=sys.stderr)
    return rc


def tile(path: str, backend: str, precision: str, core: int, rf: int, multiple: int, brushes: int,
         planes: int) -> None:
    from smart_lineart.engine.model_card import ModelCard
    from smart_lineart.engine.tiling import Engine
    card = ModelCard(Path(path), "probe", tuple(map(str, range(brushes))), (1.0, 8.0), (1.0, 8.0), rf, multiple,
                     1.0, 0.3, planes, {})
    engine = Engine(card, backend, "CPU", tile=core, precision=precision)
    fixed = engine.fixed_mb  # before the tile: after it, it holds what the runtime keeps for its shape
    page = np.full((core, core), 255, np.uint8)
    for _ in range(2):
        engine.run(page, blue=np.zeros_like(page) if planes == 2 else None)
    print(fixed, peak_rss_mb())


def main() -> int:
    kind, args = sys.argv[1], sys.argv[2:]
    if kind == "cli":
        return cli(args)
    path, backend, precision, *numbers = args
    tile(path, backend, precision, *map(int, numbers))
    return 0


if __name__ == "__main__":
    sys.exit(main())
