"""The tiling inference engine: grey sketch (uint8) in, lineart (uint8) out, any size.

The result is defined as the network applied to the whole image, padded with paper to the
size multiple. Every tile carries `margin` >= half the receptive field of context on each
side (up to the image's edge) and starts on the network's downsampling grid, so its core is
exactly what the whole-image run computes there: cores are placed side by side and no seam
can appear. A page's windows all have one shape (`spans`). Imports no Krita or Qt: the CLI,
the tests and the plugin all use it.

Memory: a run is budgeted before it starts. Its peak is the engine's fixed memory (measured
once the model is loaded and has run a tile), the page-sized uint8 buffers of the stage, and
one tile's activations (the card's measured bytes per pixel) and what the runtime keeps for
good once it has run a new window shape (`backends.KEPT_MB_PER_SHAPE`: earlier pages' shapes
are in the fixed memory of later ones), or after the tiles the bounded work of dropping unsure
fragments (cleanup.py); everything else works in bands of BAND_PIXELS. The tile is as large
as the cap allows; if even the smallest does not fit, MemoryCapError says how much is needed,
before any work.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..errors import Cancelled, MemoryCapError
from ..settings import DEFAULTS, Settings
from . import backends, cleanup
from .memory import MB, rss_mb
from .model_card import ModelCard, int8_default, is_default
from .preprocess import Levels, band_rows, bilinear, chunks, measure_levels

TILE_STEP = 64  # px: tile sides are multiples of this
RESERVE_MB = 48  # band buffers, the tile's own copies beyond the measured activations, allocator slack
# per loaded runtime: the memory it took (model, compiled kernels, a first run's buffers), and the
# part of that a run's request holds again each time it runs (freed between pages), and what
# the runtime had then kept for good (`Engine.fixed_mb`)
_runner_mb: dict[int, tuple[float, float, float]] = {}


def runs_as(card: ModelCard, backend: str = DEFAULTS.backend, device: str = DEFAULTS.device,
            precision: str = "") -> ModelCard:
    """The model the engine runs for `card`: the default model's int8 version where that is
    faster (`backends.int8_is_faster`), unless a precision is asked for or the card was changed
    (measurements of this model), else `card` itself."""
    if not precision and is_default(card) and backends.int8_is_faster(backend, device):
        return int8_default() or card
    return card


class Engine:
    def __init__(self, card: ModelCard, backend: str = DEFAULTS.backend, device: str = DEFAULTS.device,
                 max_memory_mb: float = DEFAULTS.max_memory_mb, tile: int | None = None, whole_process: bool = True,
                 precision: str = "", settings: Settings = DEFAULTS):
        """whole_process: the cap is on this process's peak (the CLI); else on the engine's own
        work only (inside Krita, whose own memory is not the plugin's to budget).
        precision: force the runtime's ("f32", "bf16"; for measuring this model), else its default.
        settings: those the first pages will use, checked (SettingsError) and compiled for now.
        The default model runs as its int8 version where that is faster (`runs_as`)."""
        self.card = card = runs_as(card, backend, device, precision)
        before = rss_mb()
        side = card.size_multiple + 2 * card.margin  # the smallest real tile: lazy allocations happen now
        probe, cond = np.ones((1, card.planes, side, side), np.float32), self.conditions(settings)
        self.runner = backends.load(card.path, backend, device, precision, (cond, probe.shape))
        if id(self.runner) not in _runner_mb:
            self.runner.run(probe, cond)
            running = rss_mb()
            self.runner.release()
            _runner_mb[id(self.runner)] = (max(running - before, 0.0), max(running - rss_mb(), 0.0), self.runner.kept_mb)
        runtime_mb, request_mb, kept_mb = _runner_mb[id(self.runner)]
        # what a batch's later pages find resident beyond this: the runtime's buffers for the tile
        # shape in use, which they reuse, and what the runtime keeps for each new shape it runs
        # (`fixed_mb`); glibc's heap is kept from holding the rest (steady_heap)
        self._fixed_mb = rss_mb() + request_mb if whole_process else runtime_mb
        self._kept_before = self.runner.kept_mb if whole_process else kept_mb
        self.whole_process = whole_process
        self._kept: tuple[int, int] | None = None  # the window shape whose runtime buffers the last page kept
        self.bytes_per_pixel, self.run_mb = card.tile_memory(f"{self.runner.name}/{self.runner.precision}")
        self.max_memory_mb = max_memory_mb
        self.tile = tile  # fixed core tile size (tests, benchmarks); None: from the memory cap

    @property
    def fixed_mb(self) -> float:
        """This process (CLI) or the loaded runtime (Krita) before any page, and what the
        runtime has kept for good since (per window shape run: `backends.KEPT_MB_PER_SHAPE`)."""
        return self._fixed_mb + self.kept_mb

    @property
    def kept_mb(self) -> float:
        """What the runtime has kept for good since this engine started (`fixed_mb`)."""
        return self.runner.kept_mb - self._kept_before

    @property
    def backend(self) -> str:
        return f"{self.runner.name}/{self.runner.device}"

    def scale(self, thickness: float) -> int:
        """1, or 2 for lines thicker than the network draws: it then draws half as thick on a
        half-size image, and the result is enlarged (global resampling, so tiling is unaffected)."""
        return 1 if thickness <= self.card.network_thickness_range[1] else 2

    def conditions(self, settings: Settings) -> dict[str, np.ndarray]:
        """The network's conditioning inputs; SettingsError for settings the model cannot honour."""
        settings.check(self.card)
        brush = np.zeros((1, len(self.card.brushes)), np.float32)
        brush[0, self.card.brushes.index(settings.brush_for(self.card))] = 1.0
        t = settings.thickness
        return {"thickness": np.array([[t / self.scale(t)]], np.float32), "brush": brush,
                "faint": np.array([[settings.faint_for(self.card)]], np.float32)}

    # memory ----------------------------------------------------------------------------------
    def _tile_mb(self, wh: int, ww: int) -> float:
        """A window's activations (with the run's own overhead), and what the runtime keeps
        for good if it has not run this shape before."""
        return self.run_mb + self.bytes_per_pixel * wh * ww / MB + self._keeps_mb(wh, ww)

    def _keeps_mb(self, wh: int, ww: int) -> float:
        return self.runner.keeps_mb((1, self.card.planes, wh, ww))

    def _smallest_tile_mb(self) -> float:
        side = self.card.size_multiple + 2 * self.card.margin
        return self._tile_mb(side, side)

    def _refuse(self, h: int, w: int, need: float) -> MemoryCapError:
        return MemoryCapError(f"a {w}x{h} page needs about {need:.0f} MB, over the memory cap of "
                              f"{self.max_memory_mb:g} MB")

    def window(self, h: int, w: int, th: int, tw: int) -> tuple[int, int]:
        """The one window shape of a page's tiles of these cores (`spans`)."""
        margin, m = self.card.margin, self.card.size_multiple
        return spans(h, th, margin, m)[0], spans(w, tw, margin, m)[0]

    def page_mb(self, h: int, w: int, thickness: float) -> tuple[float, float]:
        """Page-sized buffers (MB) while tiles run, and the most in the stages after them
        (dropping unsure fragments; enlarging). A model that takes the blue plane has it
        beside the grey sketch (and its half-size copy)."""
        hw = h * w / MB
        s = self.scale(thickness)
        planes = self.card.planes
        if s == 1:
            sketch = planes * hw  # the sketch, and the result
            return sketch + hw, sketch + hw + cleanup.work_mb(w, thickness)
        small = math.ceil(h / 2) * math.ceil(w / 2) / MB
        tiles = planes * (hw + small) + small  # sketch, half-size sketch and result
        return tiles, max(tiles + cleanup.work_mb(math.ceil(w / 2), thickness / s), planes * hw + hw + small)

    def peak_mb(self, h: int, w: int, thickness: float) -> float:
        """The least peak a run of this page can have (with the smallest tile)."""
        tiles, after = self.page_mb(h, w, thickness)
        return self.fixed_mb + RESERVE_MB + max(tiles + self._smallest_tile_mb(), after)

    def check_fits(self, h: int, w: int, thickness: float, extra_mb: float = 0.0) -> None:
        need = self.peak_mb(h, w, thickness) + extra_mb
        if need > self.max_memory_mb:
            raise self._refuse(h, w, need)

    def tile_core(self, h: int, w: int, page_mb: float | None = None) -> tuple[int, int]:
        """Core tile height/width: as large as the memory cap allows, never larger than needed,
        and even across the page (`spans`). page_mb: the page-sized buffers alive while tiles
        run (default: sketch planes and result)."""
        if self.tile:
            return self._even(h, self.tile), self._even(w, self.tile)
        page = (self.card.planes + 1) * h * w / MB if page_mb is None else page_mb
        kept = 0.0
        while True:  # at most twice: a new window shape's kept memory shrinks the tile, to a shape no larger
            side = self._largest_side(h, w, page + kept)
            th, tw = self._even(h, side), self._even(w, side)
            new = self._keeps_mb(*self.window(h, w, th, tw))
            if new <= kept:
                return th, tw
            kept = new

    def _largest_side(self, h: int, w: int, page: float) -> int:
        m = self.card.size_multiple
        free = self.max_memory_mb - self.fixed_mb - RESERVE_MB - page - self.run_mb
        span = math.sqrt(max(free, 0) * MB / self.bytes_per_pixel)
        step = max(m, TILE_STEP)  # few distinct tile sizes
        fits = int(span - 2 * self.card.margin)
        side = fits // step * step or fits // m * m  # under one step: the largest multiple that fits
        if side < m:
            raise self._refuse(h, w, self.fixed_mb + RESERVE_MB + page + self._smallest_tile_mb())
        return side

    def _even(self, n: int, side: int) -> int:
        """The core size along a page side of n px for cores of at most `side`: the padded side
        itself where one window holds it, else as even as the size multiple allows."""
        m, margin = self.card.size_multiple, self.card.margin
        end = -(-n // m) * m
        if end <= side + 2 * margin:
            return end
        k = -(-(end - 2 * margin) // side)
        return -(-(end - 2 * margin) // (k * m)) * m

    # running -----------------------------------------------------------------------------------
    def run(self, grey: np.ndarray, settings: Settings = DEFAULTS,
            progress: Callable[[int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None, levels: Levels | None = None,
            blue: np.ndarray | None = None) -> np.ndarray:
        """grey: HxW uint8 sketch on white; blue: HxW uint8 light blue the drop-out removed
        (`preprocess.sketch_u8`; None: none; used by models that take it). Returns HxW uint8
        lineart (255 = white)."""
        cond = self.conditions(settings)
        finish = self.card.levels(settings.brush_for(self.card))
        h, w = grey.shape
        if not self.tile:
            self.check_fits(h, w, settings.thickness)
        page = self.page_mb(h, w, settings.thickness)
        if self.card.planes == 1:
            blue = None
        if self.scale(settings.thickness) == 1:
            return self._draw(grey, blue, cond, finish, progress, cancelled, levels, page)
        small_blue = None if blue is None else _shrink(blue, 2, paper=0)
        small = self._draw(_shrink(grey, 2), small_blue, cond, finish, progress, cancelled, None, page)
        return _enlarge(small, 2, grey.shape)

    def _draw(self, grey: np.ndarray, blue: np.ndarray | None, cond: dict[str, np.ndarray],
              finish: tuple[float, float], progress, cancelled, levels: Levels | None,
              page_mb: tuple[float, float]) -> np.ndarray:
        """page_mb: this page's buffers while tiles run and after them (`page_mb`)."""
        h, w = grey.shape
        if levels is None:
            levels = measure_levels(grey)
        th, tw = self.tile_core(h, w, page_mb[0])
        shape = self.window(h, w, th, tw)
        if self._kept not in (None, shape):  # buffers for other tiles: not in this page's budget
            self.runner.release()
        self._kept = None
        out = np.empty((h, w), np.uint8)
        try:
            self._tiles(grey, blue, out, levels, cond, finish, th, tw, progress, cancelled)
        finally:
            # the CLI's next page of this window shape reuses the runtime's buffers (no fresh
            # pages to map) where the stages after the tiles have room for them; else they go now
            if self.whole_process and (self.fixed_mb + RESERVE_MB + page_mb[1] + self._tile_mb(*shape)
                                       <= self.max_memory_mb):
                self._kept = shape
            else:
                self.runner.release()
        cleanup.drop_unsure(out, float(cond["thickness"][0, 0]))
        return out

    def _tiles(self, grey: np.ndarray, blue: np.ndarray | None, out: np.ndarray, levels: Levels,
               cond: dict[str, np.ndarray], finish: tuple[float, float], th: int, tw: int, progress, cancelled) -> None:
        h, w = grey.shape
        margin, m = self.card.margin, self.card.size_multiple
        (wh, rows), (ww, cols) = spans(h, th, margin, m), spans(w, tw, margin, m)
        window = np.empty((wh, ww), np.uint8)
        image = np.empty((1, self.card.planes, wh, ww), np.float32)
        for i, ((wy, y0, y1), (wx, x0, x1)) in enumerate((r, c) for r in rows for c in cols):
            if cancelled is not None and cancelled():
                raise Cancelled("cancelled")
            _read_window(grey, wy, wx, window)
            levels.apply(window, wy, wx, out=image[0, 0])
            if self.card.planes == 2:
                if blue is None:
                    image[0, 1] = 0.0
                else:
                    _read_window(blue, wy, wx, window, paper=0)
                    np.multiply(window, np.float32(1 / 255), out=image[0, 1])
            pred = self.runner.run(image, cond)
            if pred.shape != (1, 1, wh, ww):
                raise backends.BackendError(f"model {self.card.path.name} returned {pred.shape[-2:]} pixels for "
                                            f"{(wh, ww)}: it is not a lineart model of this engine")
            _to_lineart(pred[0, 0, y0 - wy:y1 - wy, x0 - wx:x1 - wx], *finish, out[y0:y1, x0:x1])
            if progress is not None:
                progress(i + 1, len(rows) * len(cols))


def spans(n: int, core: int, margin: int, m: int) -> tuple[int, list[tuple[int, int, int]]]:
    """One side of a page's tiles: the window size, and each window's start and its core's
    start and end. Every window has that one size (a runtime keeps memory for each image shape
    it runs): the first and last windows' outer margins are core too (beyond them is the padded
    image's edge, as in a whole-image run), and the last window ends at that edge, overlapping
    the one before by what `Engine._even` could not even out. Window starts stay on the
    network's downsampling grid (multiples of m), so every core is exact."""
    end = -(-n // m) * m  # the image padded to the size multiple
    if end <= core + 2 * margin:
        return end, [(0, 0, n)]
    size = core + 2 * margin
    k = -(-(end - 2 * margin) // core)
    out, lo = [], 0
    for i in range(k - 1):
        out.append((i * core, lo, (i + 1) * core + margin))
        lo = out[-1][2]
    out.append((end - size, lo, n))
    return size, out


def _to_lineart(pred: np.ndarray, black: float, white: float, dst: np.ndarray) -> None:
    """The network's output through the model's output levels (black..white stretched to
    0..1), as uint8 into `dst`; in chunks that stay in the CPU's cache."""
    scale = np.float32(255.0 / (white - black))
    offset = np.float32(0.5 - black * scale)  # + 0.5: rounds as to_uint8 does
    parts = list(chunks(*pred.shape))
    buffer = np.empty((parts[0].stop if parts else 0, pred.shape[1]), np.float32)  # reused: no fresh pages per chunk
    for rows in parts:
        v = np.multiply(pred[rows], scale, out=buffer[:rows.stop - rows.start])
        v += offset
        dst[rows] = np.clip(v, 0.0, 255.0, out=v)


def _shrink(grey: np.ndarray, s: int, paper: int = 255) -> np.ndarray:
    """Box-filter downscale by s (edges padded with `paper`), in bands: no page-sized copy."""
    h, w = grey.shape
    oh, ow = -(-h // s), -(-w // s)
    out = np.empty((oh, ow), np.uint8)
    rows = band_rows(w * s)
    for y in range(0, oh, rows):
        src = grey[y * s:(y + rows) * s]
        n = -(-src.shape[0] // s)
        band = np.full((n * s, ow * s), paper, np.float32)
        band[:src.shape[0], :w] = src
        out[y:y + n] = np.round(band.reshape(n, s, ow, s).mean(axis=(1, 3)))
    return out


def _enlarge(small: np.ndarray, s: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear upscale by s to `shape`, in bands."""
    h, w = shape
    out = np.empty(shape, np.uint8)
    rows = band_rows(w)
    for y in range(0, h, rows):
        n = min(rows, h - y)
        out[y:y + n] = np.clip(bilinear(small, y, 0, n, w, cell=s) + 0.5, 0, 255)
    return out


def _read_window(grey: np.ndarray, y0: int, x0: int, window: np.ndarray, paper: int = 255) -> None:
    """Copy grey[y0:, x0:] into `window`, `paper` wherever the window leaves the image."""
    h, w = grey.shape
    wh, ww = window.shape
    window.fill(paper)
    sy, sx = max(y0, 0), max(x0, 0)
    ey, ex = min(y0 + wh, h), min(x0 + ww, w)
    if sy < ey and sx < ex:
        window[sy - y0:ey - y0, sx - x0:ex - x0] = grey[sy:ey, sx:ex]
