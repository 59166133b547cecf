""""Paint with my brush": the strokes painted through Krita's own brush engine with the artist's
current preset, size and colour (Node.paintPath, Krita 5.3 and later). Krita paints on the
active view's current layer with that view's brush, so the layer is made active first. Each
stroke's width relative to the page's median width scales the brush size: the artist's size is
the size of a typical line. Spot blacks are filled with the foreground colour."""
from __future__ import annotations

import numpy as np

from ..engine.strokes import Strokes
from ..errors import LayerError
from .qt import QtCore, QtGui


def _path(beziers: np.ndarray, offset: tuple[int, int]) -> QtGui.QPainterPath:
    b = beziers + np.asarray(offset, np.float64)
    path = QtGui.QPainterPath(QtCore.QPointF(*b[0, 0]))
    for seg in b:
        path.cubicTo(QtCore.QPointF(*seg[1]), QtCore.QPointF(*seg[2]), QtCore.QPointF(*seg[3]))
    return path


def paint(document, layer, strokes: Strokes, offset: tuple[int, int]) -> int:
    """Paint `strokes` onto `layer` (already in `document`); returns how many were painted."""
    from .document import active_view
    view = active_view()
    if view is None:  # checked before the run (document.check_brush_output); the window may have closed since
        raise LayerError("Paint with my brush needs the document open in the active window")
    document.setActiveNode(layer)
    document.waitForDone()
    paths = [p for p in strokes.paths if len(p.beziers())]
    widths = [float(np.median(p.widths)) for p in paths]
    typical = float(np.median(widths)) if widths else 1.0
    size = view.brushSize()
    try:
        for p, w in zip(paths, widths):
            view.setBrushSize(max(1.0, size * w / typical))
            layer.paintPath(_path(p.beziers(), offset))
        if strokes.fills:
            fill = QtGui.QPainterPath()
            dx, dy = offset
            for runs in strokes.fills:
                for y, x0, x1 in runs.tolist():
                    fill.addRect(QtCore.QRectF(x0 + dx, y + dy, x1 - x0, 1))
            layer.paintPath(fill.simplified(), "None", "ForegroundColor")
    finally:
        view.setBrushSize(size)
    document.waitForDone()
    return len(paths)
