""""Paint with my brush": the strokes painted through Krita's own brush engine with the artist's
current preset, size and colour (Node.paintPath, Krita 5.3 and later).

Krita records every paintPath as its own undo step and paints only in the active view, on its
current layer. So the strokes are painted in a scratch document the size of the sketch's
region, shown in the active window while it paints (the artist watches the lines appear), and
its pixels then become the lineart layer in one step, like a raster run. Opening that view
costs about a second in which the window does not repaint (measured in Krita 5.3.4). Cancel stops between
strokes and leaves the artist's document untouched. Each stroke's width relative to the page's
median width scales the brush size: the artist's size is the size of a typical line. Spot
blacks are filled with the foreground colour."""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..engine.strokes import Strokes
from ..errors import Cancelled, LayerError
from .qt import QtCore, QtGui, QtWidgets

SCRATCH_NAME = "Smart Lineart — painting"
PROGRESS_EVERY_S = 0.1  # how often the window repaints (showing progress) and takes a Cancel click
WAIT_EVERY_S = 1.0  # how often the loop lets Krita's painting catch up with the strokes sent


def _path(beziers: np.ndarray) -> QtGui.QPainterPath:
    path = QtGui.QPainterPath(QtCore.QPointF(*beziers[0, 0]))
    for seg in beziers:
        path.cubicTo(QtCore.QPointF(*seg[1]), QtCore.QPointF(*seg[2]), QtCore.QPointF(*seg[3]))
    return path


def _fill(strokes: Strokes) -> QtGui.QPainterPath:
    fill = QtGui.QPainterPath()
    for runs in strokes.fills:
        for y, x0, x1 in runs.tolist():
            fill.addRect(QtCore.QRectF(x0, y, x1 - x0, 1))
    return fill.simplified()


def _catch_up(scratch, cancelled: Callable[[], bool] | None) -> None:
    """Wait until Krita has painted every stroke sent, the window live meanwhile: waitForDone
    would freeze it for as long as the backlog takes (over 2 s on a slow machine)."""
    while not scratch.tryBarrierLock():  # taken only once the image has no work left
        if cancelled is not None and cancelled():
            raise Cancelled()
        QtWidgets.QApplication.processEvents()
        QtCore.QThread.msleep(10)
    scratch.unlock()


def _paint_strokes(scratch, view, layer, strokes: Strokes, artist_size: float,
                   progress: Callable[[int, int], None] | None, cancelled: Callable[[], bool] | None) -> None:
    """Each stroke at the artist's size scaled by its width over the typical width, then the
    spot blacks. The bar counts every stroke; the window repaints and takes clicks every
    PROGRESS_EVERY_S."""
    paths = [p for p in strokes.paths if len(p.beziers())]
    typical = float(np.median([p.width for p in paths])) if paths else 1.0
    shown = waited = time.monotonic()
    for i, p in enumerate(paths):
        if cancelled is not None and cancelled():
            raise Cancelled()
        view.setBrushSize(max(1.0, artist_size * p.width / typical))
        layer.paintPath(_path(p.beziers()))
        now = time.monotonic()
        if now - waited > WAIT_EVERY_S:  # Krita paints in the background: keep it close behind
            _catch_up(scratch, cancelled)
            waited = time.monotonic()
        if progress is not None:  # the bar's value is cheap to set; showing it is what costs
            progress(i + 1, len(paths) + 1)
        if now - shown > PROGRESS_EVERY_S:
            QtWidgets.QApplication.processEvents()
            shown = time.monotonic()
    if strokes.fills:
        layer.paintPath(_fill(strokes), "None", "ForegroundColor")


def paint(app, document, strokes: Strokes, size: tuple[int, int],
          progress: Callable[[int, int], None] | None = None, cancelled: Callable[[], bool] | None = None) -> bytes:
    """The strokes painted with the current brush on a transparent w x h canvas in `document`'s
    colour space: its pixel bytes. Raises Cancelled when `cancelled()` turns true."""
    window = app.activeWindow()
    home = window.activeView() if window is not None else None
    if home is None:  # checked before the run (document.check_brush_output); the window may have closed since
        raise LayerError("Paint with my brush needs the document open in the active window")
    w, h = size
    scratch = app.createDocument(w, h, SCRATCH_NAME, document.colorModel(), document.colorDepth(),
                                 document.colorProfile(), document.resolution())
    try:
        view = window.addView(scratch)
        window.showView(view)
        layer = scratch.createNode("ink", "paintlayer")
        scratch.rootNode().addChildNode(layer, None)
        scratch.setActiveNode(layer)
        scratch.waitForDone()
        artist_size = view.brushSize()
        try:
            _paint_strokes(scratch, view, layer, strokes, artist_size, progress, cancelled)
        finally:
            view.setBrushSize(artist_size)
        _catch_up(scratch, cancelled)
        scratch.waitForDone()  # the projection too (nothing left to paint: quick)
        return bytes(layer.pixelData(0, 0, w, h))
    finally:
        scratch.setModified(False)  # closing asks nothing
        scratch.close()
        window.showView(home)
        QtWidgets.QApplication.processEvents()  # repaint before the layer is written: no long freeze
