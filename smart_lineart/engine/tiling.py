"""The tiling inference engine: grey sketch (uint8) in, lineart (uint8) out, any size.

The result is defined as the network applied to the whole image, padded with paper to the
size multiple. Every tile carries `margin` >= half the receptive field of context on each
side (up to the image's edge) and starts on the network's downsampling grid, so its core is
exactly what the whole-image run computes there: cores are placed side by side and no seam
can appear. Only one tile at a time exists
as float32; the tile size follows from the memory cap and the model's measured activation
memory per pixel. Imports no Krita or Qt: the CLI, the tests and the plugin all use it.
"""
from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from ..errors import Cancelled, MemoryCapError
from ..settings import DEFAULTS, Settings
from . import backends
from .memory import MB, rss_mb
from .model_card import ModelCard
from .preprocess import Levels, bilinear, measure_levels, to_uint8

RESERVE_MB = 48  # headroom for the tile's input/output copies and allocator slack


class Engine:
    def __init__(self, card: ModelCard, backend: str = DEFAULTS.backend, device: str = DEFAULTS.device,
                 max_memory_mb: float = DEFAULTS.max_memory_mb, tile: int | None = None):
        self.card = card
        self.runner = backends.load(card.path, backend, device)
        self.max_memory_mb = max_memory_mb
        self.tile = tile  # fixed core tile size (tests, benchmarks); None: from the memory cap

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

    def tile_core(self, h: int, w: int) -> tuple[int, int]:
        """Core tile height/width: as large as the memory cap allows, never larger than needed."""
        m, margin = self.card.size_multiple, self.card.margin
        if self.tile:
            side = self.tile
        else:
            # the uint8 result is not resident yet when measured, so it is budgeted here
            free = self.max_memory_mb - rss_mb() - RESERVE_MB - h * w / MB
            span = math.sqrt(max(free, 0) * MB / self.card.bytes_per_pixel)
            side = int(span - 2 * margin) // m * m
            if side < m:
                need = rss_mb() + RESERVE_MB + self.card.bytes_per_pixel * (m + 2 * margin) ** 2 / MB
                raise MemoryCapError(f"the memory cap of {self.max_memory_mb:g} MB is too small for this model "
                                     f"(needs about {need:.0f} MB)")
        up = lambda n: -(-n // m) * m  # noqa: E731
        return min(side, up(h)), min(side, up(w))

    def run(self, grey: np.ndarray, settings: Settings = DEFAULTS,
            progress: Callable[[int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None, levels: Levels | None = None) -> np.ndarray:
        """grey: HxW uint8 sketch on white. Returns HxW uint8 lineart (255 = white)."""
        cond = self.conditions(settings)
        finish = _levels_curve(*self.card.levels(settings.brush_for(self.card)))
        scale = self.scale(settings.thickness)
        if scale > 1:
            small = self._draw(_shrink(grey, scale), cond, finish, progress, cancelled, None)
            return _enlarge(small, scale, grey.shape)
        return self._draw(grey, cond, finish, progress, cancelled, levels)

    def _draw(self, grey: np.ndarray, cond: dict[str, np.ndarray], finish: Callable[[np.ndarray], np.ndarray],
              progress, cancelled, levels: Levels | None) -> np.ndarray:
        h, w = grey.shape
        if levels is None:
            levels = measure_levels(grey)
        th, tw = self.tile_core(h, w)
        margin, m = self.card.margin, self.card.size_multiple
        bottom, right = -(-h // m) * m, -(-w // m) * m  # the image padded to the size multiple
        out = np.empty((h, w), np.uint8)
        origins = [(y, x) for y in range(0, h, th) for x in range(0, w, tw)]
        for i, (y, x) in enumerate(origins):
            if cancelled is not None and cancelled():
                raise Cancelled("cancelled")
            # context on every side, but not past the (padded) image: there the network's own
            # zero padding is the paper, exactly as in a whole-image run
            wy, wx = max(y - margin, 0), max(x - margin, 0)
            window = np.empty((min(y + th + margin, bottom) - wy, min(x + tw + margin, right) - wx), np.uint8)
            _read_window(grey, wy, wx, window)
            pred = self.runner.run(levels.apply(window, wy, wx)[None, None], cond)[0, 0]
            core = pred[y - wy:y - wy + min(th, h - y), x - wx:x - wx + min(tw, w - x)]
            out[y:y + core.shape[0], x:x + core.shape[1]] = to_uint8(finish(core))
            if progress is not None:
                progress(i + 1, len(origins))
        return out


def _levels_curve(lo: float, hi: float):
    if (lo, hi) == (0.0, 1.0):
        return lambda v: v
    return lambda v: (v - lo) * (1.0 / (hi - lo))  # to_uint8 clips


def _shrink(grey: np.ndarray, s: int) -> np.ndarray:
    """Box-filter downscale by s (edges padded with paper)."""
    h, w = grey.shape
    p = np.pad(grey, ((0, -h % s), (0, -w % s)), constant_values=255)
    out = np.empty((p.shape[0] // s, p.shape[1] // s), np.uint8)
    for y in range(0, out.shape[0], 512):  # bands: no whole-image float copy
        band = p[y * s:(y + 512) * s].reshape(-1, s, out.shape[1], s).mean(axis=(1, 3))
        out[y:y + band.shape[0]] = np.round(band)
    return out


def _enlarge(small: np.ndarray, s: int, shape: tuple[int, int]) -> np.ndarray:
    """Bilinear upscale by s to `shape`, in bands."""
    h, w = shape
    out = np.empty(shape, np.uint8)
    for y in range(0, h, 512):
        n = min(512, h - y)
        out[y:y + n] = np.clip(bilinear(small, y, 0, n, w, cell=s) + 0.5, 0, 255)
    return out


def _read_window(grey: np.ndarray, y0: int, x0: int, window: np.ndarray) -> None:
    """Copy grey[y0:, x0:] into `window`, white wherever the window leaves the image."""
    h, w = grey.shape
    wh, ww = window.shape
    window.fill(255)
    sy, sx = max(y0, 0), max(x0, 0)
    ey, ex = min(y0 + wh, h), min(x0 + ww, w)
    if sy < ey and sx < ex:
        window[sy - y0:ey - y0, sx - x0:ex - x0] = grey[sy:ey, sx:ex]
