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
import os
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import backends
from .models import ModelInfo
from .preprocess import Levels, bilinear, measure_levels, to_uint8

MB = 1 << 20
RESERVE_MB = 48  # headroom for the tile's input/output copies and allocator slack


class Cancelled(Exception):
    """The run was cancelled between tiles; nothing was written."""


class SettingsError(ValueError):
    """A slider value the model cannot honour (thickness out of range, unknown brush, ...)."""


class MemoryCapError(Exception):
    """Even the smallest tile does not fit under the memory cap."""


@dataclass(frozen=True)
class Settings:
    thickness: float = 3.0
    brush: str | None = None  # None: the model's first preset
    faint: float | None = None  # None: the model's default


def rss_mb() -> float:
    """Current resident memory of this process (Linux: exact; elsewhere an upper guess)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / MB
    except (OSError, ValueError, AttributeError):
        import resource  # peak, not current: errs on the safe (smaller tile) side
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (MB if os.uname().sysname == "Darwin" else 1024)


def peak_rss_mb() -> float:
    """Peak resident memory of this process image. Linux: VmHWM, which starts afresh at exec;
    getrusage's ru_maxrss does not, and reports a big parent's peak in a small child."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (MB if os.uname().sysname == "Darwin" else 1024)


class Engine:
    def __init__(self, model: ModelInfo, backend: str = "auto", device: str = "auto",
                 max_memory_mb: float = 768, tile: int | None = None):
        self.model = model
        self.runner = backends.load(model.path, backend, device)
        self.max_memory_mb = max_memory_mb
        self.tile = tile  # fixed core tile size (tests, benchmarks); None: from the memory cap

    @property
    def backend(self) -> str:
        return f"{self.runner.name}/{self.runner.device}"

    def scale(self, thickness: float) -> int:
        """1, or 2 for lines thicker than the network draws: it then draws half as thick on a
        half-size image, and the result is enlarged (global resampling, so tiling is unaffected)."""
        return 1 if thickness <= self.model.network_thickness_range[1] else 2

    def brush(self, s: Settings) -> str:
        """The preset to draw with: the requested one, or the model's first."""
        if s.brush is None:
            return self.model.brushes[0]
        if s.brush not in self.model.brushes:
            raise SettingsError(f"unknown brush {s.brush!r}; this model has: {', '.join(self.model.brushes)}")
        return s.brush

    def conditions(self, s: Settings) -> dict[str, np.ndarray]:
        lo, hi = self.model.thickness_range
        if not (lo <= s.thickness <= hi) or not math.isfinite(s.thickness):
            raise SettingsError(f"thickness {s.thickness:g} px is outside this model's range {lo:g}-{hi:g} px")
        net_thickness = s.thickness / self.scale(s.thickness)
        faint = self.model.default_faint if s.faint is None else s.faint
        if not 0.0 <= faint <= 1.0:
            raise SettingsError(f"faint-line threshold {faint:g} is outside 0-1")
        brush = np.zeros((1, len(self.model.brushes)), np.float32)
        brush[0, self.model.brushes.index(self.brush(s))] = 1.0
        return {"thickness": np.array([[net_thickness]], np.float32), "brush": brush,
                "faint": np.array([[faint]], np.float32)}

    def tile_core(self, h: int, w: int) -> tuple[int, int]:
        """Core tile height/width: as large as the memory cap allows, never larger than needed."""
        m, margin = self.model.size_multiple, self.model.margin
        if self.tile:
            side = self.tile
        else:
            # the uint8 result is not resident yet when measured, so it is budgeted here
            free = self.max_memory_mb - rss_mb() - RESERVE_MB - h * w / MB
            span = math.sqrt(max(free, 0) * MB / self.model.bytes_per_pixel)
            side = int(span - 2 * margin) // m * m
            if side < m:
                need = rss_mb() + RESERVE_MB + self.model.bytes_per_pixel * (m + 2 * margin) ** 2 / MB
                raise MemoryCapError(f"--max-memory {self.max_memory_mb:g} MB is too small for this model "
                                     f"(needs about {need:.0f} MB)")
        up = lambda n: -(-n // m) * m  # noqa: E731
        return min(side, up(h)), min(side, up(w))

    def run(self, grey: np.ndarray, settings: Settings = Settings(),
            progress: Callable[[int, int], None] | None = None,
            cancelled: Callable[[], bool] | None = None, levels: Levels | None = None) -> np.ndarray:
        """grey: HxW uint8 sketch on white. Returns HxW uint8 lineart (255 = white)."""
        cond = self.conditions(settings)
        finish = _levels_curve(*self.model.levels(self.brush(settings)))
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
        margin, m = self.model.margin, self.model.size_multiple
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
