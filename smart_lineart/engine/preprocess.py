"""Turn any sketch pixels into the network's input: grey, on white, contrast-normalised.

Shared by the engine and by training, so the network is trained on exactly what it sees
at run time. Numpy only (runs inside Krita's Python too).
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

# Rec. 709 luma weights applied to gamma-encoded values (Krita's HSY' luma), not HSV value:
# a light-blue guide line stays light instead of becoming as dark as its darkest channel.
LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)

BLUE_RATIO = 1.03  # blue/red above this starts fading
DEEP_BLUE_RATIO = 2.5  # blue/red above this is a deep blue pen or pencil pressed hard: kept
BLUE_RAMP = 0.15
BLOCK = 16  # background is estimated per BLOCK x BLOCK cell, then smoothed
INK_FLOOR = 26  # darkness * 255 under this (0.1) is paper, noise, the faintest anti-aliasing: not ink
MIN_INK_DARKNESS = 0.2  # below this the page is treated as (nearly) blank: no contrast boost
BAND_PIXELS = 1 << 19  # pixels converted to float at a time: memory stays flat on any page shape
CHUNK_PIXELS = 1 << 16  # pixels normalised at a time: a chunk's float buffers stay in the CPU's cache
MIN_PAPER = 0.05  # darkness is measured against at least this paper brightness: a uniformly
# black image is blank paper, not solid ink


def grey_on_white(pixels: np.ndarray) -> np.ndarray:
    """HxW, HxWx1..4 (grey, grey+alpha, RGB, RGBA) in [0, 1] float -> HxW float32 grey.

    Transparency is composited onto white, so a transparent sketch layer reads as paper.
    """
    return sketch_planes(pixels)[0]


def sketch_planes(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """HxW, HxWx1..4 in [0, 1] float -> (grey as `grey_on_white`, blue), both HxW float32.

    blue: how much the non-photo-blue drop-out lightened each pixel (0 where nothing is light
    blue), for models that take it as an input: where a JPEG stored the colour at half
    resolution the drop-out leaves a light line, which the colour around it tells apart.
    None for grey images."""
    p = np.asarray(pixels, dtype=np.float32)
    if p.ndim == 2:
        return p, None
    channels = p.shape[2]
    blue = None
    if channels in (1, 2):
        grey = p[..., 0]
    elif channels in (3, 4):
        luma = p[..., :3] @ LUMA
        blue = _non_photo_blue(p[..., :3], luma)
        grey = luma + blue
    else:
        raise ValueError(f"unsupported channel count {channels}")
    if channels in (2, 4):
        alpha = p[..., -1]
        grey = grey * alpha + (1.0 - alpha)
        if blue is not None:
            blue = blue * alpha
    return grey, blue


def _non_photo_blue(rgb: np.ndarray, luma: np.ndarray) -> np.ndarray:
    """How much to lighten each pixel so that light blue (non-photo pencil, blue guide layers)
    fades to its brighter green or blue channel, nearly as bright as the paper; graphite,
    black and deep blue are not lightened.

    What a scanner's blue drop-out does, by channel ratios so that shadows on a photographed
    page do not matter; a deep, saturated blue (red far below blue) is kept. On bluish paper
    the paper and the graphite on it are lightened alike, which the contrast normalisation
    absorbs."""
    r, b = rgb[..., 0], rgb[..., 2]
    ratio = b / np.maximum(r, 1e-3)
    bluer = np.clip((ratio - BLUE_RATIO) / BLUE_RAMP, 0.0, 1.0)
    light = np.clip((DEEP_BLUE_RATIO - ratio) / BLUE_RAMP, 0.0, 1.0)
    return bluer * light * np.maximum(np.maximum(rgb[..., 1], b) - luma, 0.0)


def to_uint8(grey: np.ndarray) -> np.ndarray:
    return np.clip(grey * 255.0 + 0.5, 0, 255).astype(np.uint8)


def sketch_u8(pixels: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """`sketch_planes` as the engine takes them: uint8 grey, uint8 blue (or None)."""
    grey, blue = sketch_planes(pixels)
    return to_uint8(grey), None if blue is None else to_uint8(blue)


@dataclass(frozen=True)
class Levels:
    """Whole-image statistics that make the network input independent of paper and pencil.

    background: paper brightness per BLOCK cell (uneven lighting, tinted paper), smoothed.
    ink: darkness (relative to paper) of the main strokes; lines are measured against it.
    """

    background: np.ndarray  # (ceil(H/BLOCK), ceil(W/BLOCK)) float32
    ink: float

    def apply(self, grey_u8: np.ndarray, y0: int, x0: int, out: np.ndarray | None = None) -> np.ndarray:
        """Normalise a window of the grey image whose top-left pixel is (y0, x0), into `out`
        (float32, the window's shape; default: a new array).

        Pointwise given the statistics, so tiles normalise exactly like the whole image. Works
        in chunks of CHUNK_PIXELS, whose buffers stay in the CPU's cache between the passes.
        """
        h, w = grey_u8.shape
        if out is None:
            out = np.empty((h, w), np.float32)
        columns = _Columns(self.background, y0, x0, h, w)
        parts = list(chunks(h, w))
        buffer = np.empty((parts[0].stop if parts else 0, w), np.float32)  # reused: no fresh pages per chunk
        for rows in parts:
            bg = buffer[:rows.stop - rows.start]
            columns.rows(rows.start, bg)
            self._normalise(grey_u8[rows], bg, out[rows])
        return out

    def _normalise(self, grey_u8: np.ndarray, bg: np.ndarray, out: np.ndarray) -> None:
        """1 - darkness / ink of pixels on paper `bg` (which it overwrites), into `out`."""
        np.multiply(grey_u8, np.float32(-1.0 / 255.0), out=out)
        out += bg  # paper - pixel
        out /= np.maximum(bg, MIN_PAPER, out=bg)  # darkness relative to the paper
        out *= np.float32(-1.0 / self.ink)
        out += 1.0  # 1 - darkness / ink
        np.clip(out, 0.0, 1.0, out=out)


def chunks(h: int, w: int) -> Iterator[slice]:
    """Row slices of an h x w array, CHUNK_PIXELS each (at least a row)."""
    rows = max(CHUNK_PIXELS // max(w, 1), 1)
    return (slice(y, min(y + rows, h)) for y in range(0, h, rows))


def band_rows(width: int, multiple: int = 1) -> int:
    """Rows per band of a `width` px wide image: about BAND_PIXELS, a multiple of `multiple`."""
    return max(BAND_PIXELS // max(width, 1) // multiple, 1) * multiple


def measure_levels(grey_u8: np.ndarray) -> Levels:
    """Estimate paper brightness and main-stroke darkness of a whole uint8 grey image.

    Works through row bands so a huge page is never converted to float at once.
    """
    h, w = grey_u8.shape
    rows = band_rows(w, BLOCK)
    background = _smooth(_block_paper(grey_u8, rows))
    paper_only = Levels(background, 1.0)  # normalised by paper alone: 1 - darkness
    hist = np.zeros(256, dtype=np.int64)  # of darkness * 255, from INK_FLOOR on
    for y0 in range(0, h, rows):
        band = grey_u8[y0:y0 + rows]
        hist += _ink_histogram(band, _Columns(background, y0, 0, band.shape[0], w), paper_only)
    return Levels(background, _main_ink_darkness(hist))


def _ink_histogram(band: np.ndarray, columns: _Columns, paper_only: Levels) -> np.ndarray:
    """Histogram of darkness * 255 over the band's pixels that can reach INK_FLOOR against the
    lightest paper they may lie on (the rest are paper for sure: they would count under it)."""
    light = columns.lightest()
    limit = 255.0 * (light - INK_FLOOR / 255.0 * np.maximum(light, MIN_PAPER)) + 1.0
    hist = np.zeros(256, dtype=np.int64)
    for rows in chunks(*band.shape):
        maybe = np.empty((rows.stop - rows.start, band.shape[1]), bool)
        for a, b in columns.groups(rows.start, maybe.shape[0]):
            np.less_equal(band[rows.start + a:rows.start + b], limit[columns.yl[rows.start + a]], out=maybe[a:b])
        ys, xs = np.nonzero(maybe)
        ys += rows.start
        x = np.empty(ys.shape, np.float32)
        paper_only._normalise(band[ys, xs], columns.at(ys, xs), x)
        np.subtract(1.0, x, out=x)  # darkness
        x *= 255.0
        hist += np.bincount(x.astype(np.uint8), minlength=256)
    return hist


def _block_paper(grey_u8: np.ndarray, band_rows: int) -> np.ndarray:
    """Paper brightness per cell: a high percentile, so ink and noise do not pull it down."""
    h, w = grey_u8.shape
    bh, bw = -(-h // BLOCK), -(-w // BLOCK)
    out = np.empty((bh, bw), dtype=np.float32)
    for y0 in range(0, h, band_rows):
        band = grey_u8[y0:y0 + band_rows]
        rows = band.shape[0]
        padded = np.pad(band, ((0, -rows % BLOCK), (0, -w % BLOCK)), mode="edge")
        cells = padded.reshape(padded.shape[0] // BLOCK, BLOCK, bw, BLOCK).transpose(0, 2, 1, 3)
        cells = cells.reshape(cells.shape[0], bw, BLOCK * BLOCK)
        k = int(BLOCK * BLOCK * 0.8)
        # a stable sort of uint8 is a radix sort: 5x faster here than np.partition's selection
        out[y0 // BLOCK:y0 // BLOCK + cells.shape[0]] = np.sort(cells, axis=2, kind="stable")[:, :, k]
    return out / 255.0


def _smooth(cells: np.ndarray) -> np.ndarray:
    """Closing (max then min filter: fills cells covered by ink, yet leaves a lighting ramp
    unchanged, where a max filter alone would brighten it), then a box blur. Bridges ink
    up to 4 cells wide; the outermost 2 cells of a lighting ramp are biased slightly bright."""
    r = 2
    return _box(-_maxf(-_maxf(cells, r), r), 2).clip(0.0, 1.0)


def _maxf(a: np.ndarray, r: int) -> np.ndarray:
    p = np.pad(a, r, mode="edge")
    h, w = a.shape
    rows = np.max([p[i:i + h, :] for i in range(2 * r + 1)], axis=0)
    return np.max([rows[:, i:i + w] for i in range(2 * r + 1)], axis=0)


def _box(a: np.ndarray, r: int) -> np.ndarray:
    p = np.pad(a, r, mode="edge")
    h, w = a.shape
    rows = np.mean([p[i:i + h, :] for i in range(2 * r + 1)], axis=0)
    return np.mean([rows[:, i:i + w] for i in range(2 * r + 1)], axis=0).astype(np.float32)


def _main_ink_darkness(hist: np.ndarray) -> float:
    """Darkness of the main strokes: the 90th percentile of clearly inked pixels."""
    ink = hist.copy()
    ink[:INK_FLOOR] = 0
    total = ink.sum()
    if total == 0:
        return 1.0
    level = np.searchsorted(np.cumsum(ink), 0.9 * total) / 255.0
    return float(max(level, MIN_INK_DARKNESS))


def bilinear(cells: np.ndarray, y0: int, x0: int, h: int, w: int, cell: int = BLOCK) -> np.ndarray:
    """Upsample: values of `cell` x `cell` cells interpolated at the pixel centres of the
    window (y0, x0, h, w); separable, so only the result is window-sized."""
    out = np.empty((h, w), np.float32)
    _Columns(cells, y0, x0, h, w, cell).rows(0, out)
    return out


class _Columns:
    """`bilinear` in two steps: across the columns once, on the cell rows a window needs, then
    down the rows a chunk at a time (`rows`)."""

    def __init__(self, cells: np.ndarray, y0: int, x0: int, h: int, w: int, cell: int = BLOCK):
        ch, cw = cells.shape
        xl, xh, fx = _weights(x0, w, cw, cell)
        self.yl, self.yh, self.fy = _weights(y0, h, ch, cell)
        top = self.yl.min()
        cells = cells[top:self.yh.max() + 1]  # only the rows this window needs
        self.yl, self.yh = self.yl - top, self.yh - top
        self.left, self.right = cells[:, xl], cells[:, xh]  # (cell rows needed, w)
        self.blended = self.left * (1 - fx) + self.right * fx

    def groups(self, y: int, n: int) -> list[tuple[int, int]]:
        """Rows y..y+n as runs (from, to; relative to y) that lie between the same two cell rows."""
        yl = self.yl[y:y + n]
        starts = np.flatnonzero(np.diff(yl, prepend=-1))
        return list(zip(starts.tolist(), np.append(starts[1:], yl.size).tolist()))

    def rows(self, y: int, out: np.ndarray) -> None:
        """The window's rows y.. into `out` (as many as it has)."""
        for a, b in self.groups(y, out.shape[0]):  # a run's rows blend the same two rows alike
            lo, hi = self.blended[self.yl[y + a]], self.blended[self.yh[y + a]]
            np.multiply(self.fy[y + a:y + b, None], hi - lo, out=out[a:b])
            out[a:b] += lo

    def lightest(self) -> np.ndarray:
        """Per needed cell row and pixel column, the most any value interpolated between that
        cell row and the next can be."""
        light = np.maximum(self.left, self.right)
        light[:-1] = np.maximum(light[:-1], light[1:])
        return light

    def at(self, ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        """The values at scattered pixels (window coordinates), computed as `rows` does."""
        lo, hi = self.blended[self.yl[ys], xs], self.blended[self.yh[ys], xs]
        out = self.fy[ys] * (hi - lo)
        out += lo
        return out


def _weights(start: int, n: int, size: int, cell: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pixel from `start`: lower and upper cell, and the upper one's weight."""
    pos = np.clip((np.arange(start, start + n, dtype=np.float32) + 0.5) / cell - 0.5, 0, size - 1)
    lo = np.minimum(pos.astype(np.int64), max(size - 2, 0))
    return lo, np.minimum(lo + 1, size - 1), pos - lo
