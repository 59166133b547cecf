"""The plugin's work inside Krita: read a sketch node, run the engine, write the lineart layer.

Pixels are read on the GUI thread; inference runs in the caller's thread (`wait=True`) or a
worker thread; the result is written on the GUI thread. The lineart layer is filled before
it enters the document, then inserted above the sketch (or in place of the previous lineart
layer, which is removed only after its replacement is in), so the document never holds a
half-written layer and never loses the sketch. The sketch -> lineart link is stored in a
document annotation keyed by the layers' unique ids, so renaming either layer keeps it.
"""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from ..engine.model_card import ModelCard, load_card
from ..engine.strokes import Strokes, extract
from ..engine.svg import to_svg
from ..engine.tiling import Engine
from ..errors import Cancelled, LayerError, SmartLineartError
from ..log import internal_error
from ..settings import DEFAULTS, Settings
from .pixels import bytes_to_sketch, is_direct, lineart_to_bytes

LINK_ANNOTATION = "smart-lineart-links"
SRGB_U8 = ("RGBA", "U8", "sRGB-elle-V2-srgbtrc.icc")
READABLE = {"paintlayer", "grouplayer", "filelayer", "clonelayer", "filllayer"}
SUFFIX = " — lineart"

_engines: dict[tuple, Engine] = {}
_card: ModelCard | None = None


def card() -> ModelCard:
    """The default model's card, read once per session."""
    global _card
    if _card is None:
        _card = load_card()
    return _card


def engine(settings: Settings) -> Engine:
    """One engine per backend/device/cap, kept for the session: the model loads once (and
    compiles again only for other thickness, brush or faint settings)."""
    key = (settings.backend, settings.device, settings.max_memory_mb)
    if key not in _engines:
        settings.check_runtime()
        # the cap counts the plugin's own work, not the memory of Krita and its open documents
        _engines[key] = Engine(card(), settings.backend, settings.device, settings.max_memory_mb, whole_process=False,
                               settings=settings)
    return _engines[key]


def _krita():
    from krita import Krita
    return Krita.instance()


def region(document, node, window: tuple[int, int, int, int] | None = None) -> tuple[int, int, int, int]:
    """What to process: the layer's content, limited to the selection (or the given window,
    e.g. the preview's) and the canvas."""
    if node.type() == "filllayer":  # a fill layer covers the canvas, whatever its bounds say
        x0, y0, x1, y1 = 0, 0, document.width(), document.height()
    else:
        b = node.bounds()
        x0, y0, x1, y1 = b.x(), b.y(), b.x() + b.width(), b.y() + b.height()
    sel = document.selection()
    limit = window or ((sel.x(), sel.y(), sel.width(), sel.height()) if sel is not None else None)
    if limit is not None and limit[2] > 0 and limit[3] > 0:
        x0, y0 = max(x0, limit[0]), max(y0, limit[1])
        x1, y1 = min(x1, limit[0] + limit[2]), min(y1, limit[1] + limit[3])
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, document.width()), min(y1, document.height())
    return x0, y0, max(x1 - x0, 0), max(y1 - y0, 0)


def _convert(data: bytes, w: int, h: int, src: tuple[str, str, str], dst: tuple[str, str, str]) -> bytes:
    """Let Krita convert pixels between colour spaces, in a temporary document."""
    tmp = _krita().createDocument(w, h, "smart-lineart-conversion", *src, 72.0)
    try:
        layer = tmp.createNode("pixels", "paintlayer")
        tmp.rootNode().addChildNode(layer, None)
        layer.setPixelData(data, 0, 0, w, h)
        tmp.setColorSpace(*dst)
        tmp.waitForDone()
        return bytes(layer.pixelData(0, 0, w, h))
    finally:
        tmp.close()


def read_sketch(document, node, window: tuple[int, int, int, int] | None = None
                ) -> tuple[np.ndarray, np.ndarray | None, tuple[int, int, int, int]]:
    """The node's pixels as uint8 grey on white, the blue plane (None for grey layers; see
    `pixels.bytes_to_sketch`), and where they are. LayerError if unusable."""
    if node is None:
        raise LayerError("no layer is selected")
    kind = node.type()
    if kind not in READABLE:
        what = "a vector layer" if kind == "vectorlayer" else f"a {kind or 'mask'}"
        raise LayerError(f"'{node.name()}' is {what}; choose a paint layer (or a group) with the sketch")
    x, y, w, h = region(document, node, window)
    if w == 0 or h == 0:
        b = node.bounds()
        if b.width() == 0 or b.height() == 0:
            raise LayerError(f"'{node.name()}' is empty: nothing is drawn on it")
        where = "inside the selection" if document.selection() is not None else "on the canvas"
        raise LayerError(f"'{node.name()}' has nothing {where}: its content lies outside")
    # a paint layer's own pixels; for groups, file and fill layers what they show
    data = bytes(node.pixelData(x, y, w, h) if kind == "paintlayer" else node.projectionPixelData(x, y, w, h))
    colour_model, depth = node.colorModel(), node.colorDepth()
    if not is_direct(colour_model, depth):
        data = _convert(data, w, h, (colour_model, depth, node.colorProfile()), SRGB_U8)
        colour_model, depth = SRGB_U8[:2]
    grey, blue = bytes_to_sketch(data, w, h, colour_model, depth)
    if grey.min() == grey.max() != 255:
        raise LayerError(f"'{node.name()}' is one flat colour: there are no lines to ink")
    if grey.min() == 255:
        raise LayerError(f"'{node.name()}' is empty: nothing is drawn on it")
    return grey, blue, (x, y, w, h)


def _links(document) -> dict[str, str]:
    raw = document.annotation(LINK_ANNOTATION)
    try:
        return json.loads(bytes(raw).decode()) if raw and len(raw) else {}
    except ValueError:
        return {}


def _find(document, uid: str):
    stack = [document.rootNode()]
    while stack:
        n = stack.pop()
        if n.uniqueId().toString() == uid:
            return n
        stack.extend(n.childNodes())
    return None


def linked_lineart(document, sketch):
    """The lineart layer an earlier run made from this sketch, if it is still there."""
    uid = _links(document).get(sketch.uniqueId().toString())
    return _find(document, uid) if uid else None


def _raster_layer(document, name: str, lineart: np.ndarray, where: tuple[int, int, int, int]):
    x, y, w, h = where
    layer = document.createNode(name, "paintlayer")
    colour_model, depth = layer.colorModel(), layer.colorDepth()
    if is_direct(colour_model, depth):
        data = lineart_to_bytes(lineart, colour_model, depth)
    else:
        data = _convert(lineart_to_bytes(lineart, *SRGB_U8[:2]), w, h, SRGB_U8,
                        (colour_model, depth, layer.colorProfile()))
    layer.setPixelData(data, x, y, w, h)
    return layer


def check_vector_output(document) -> None:
    """Krita 5.1 parses vector shapes against the active document only (a script's document
    without a window has none there, and Krita crashes): refuse before any work."""
    app = _krita()
    version = tuple(int(v) for v in app.version().split(".")[:2] if v.isdigit())
    if version < (5, 2) and app.activeDocument() is None:
        raise LayerError("a vector layer needs the document open in a window on Krita 5.1 (or Krita 5.2 or later)")


def active_view():
    """The active window's active view, or None."""
    window = _krita().activeWindow()
    return window.activeView() if window is not None else None


def check_brush_output(document) -> None:
    """Painting goes through Krita's brush engine on the active view (Node.paintPath, Krita 5.3
    and later): refuse before any work where that is missing."""
    if not hasattr(document.rootNode(), "paintPath"):
        raise LayerError(f"Paint with my brush needs Krita 5.3 or later (this is {_krita().version()}); "
                         "choose Raster layer or Vector layer")
    view = active_view()
    if view is None or view.document() is None or view.document().rootNode().uniqueId() != \
            document.rootNode().uniqueId():
        raise LayerError("Paint with my brush needs the document open in the active window")


def _vector_layer(document, name: str, strokes: Strokes, where: tuple[int, int, int, int]):
    """Editable strokes: each a vector shape (width, colour and path can be changed in Krita)."""
    svg = to_svg(strokes, where[:2], (document.width(), document.height()))
    layer = document.createVectorLayer(name)
    layer.addShapesFromSvg(svg)
    return layer


def _brush_layer(document, name: str, strokes: Strokes, where: tuple[int, int, int, int],
                 progress: Callable[[int, int], None] | None, cancelled: Callable[[], bool] | None):
    """The strokes painted with the artist's brush (painted elsewhere, see brush.py)."""
    from .brush import paint
    x, y, w, h = where
    data = paint(_krita(), document, strokes, (w, h), progress, cancelled)
    # paint() ends by showing the artist's view again, which takes clicks: a Cancel pressed
    # there, after the last stroke, still leaves the document unchanged
    if cancelled is not None and cancelled():
        raise Cancelled()
    layer = document.createNode(name, "paintlayer")
    layer.setPixelData(data, x, y, w, h)
    return layer


def write_lineart(document, sketch, lineart: np.ndarray, where: tuple[int, int, int, int],
                  settings: Settings = DEFAULTS, progress: Callable[[int, int], None] | None = None,
                  cancelled: Callable[[], bool] | None = None):
    """Make the lineart layer (pixels, vector strokes, or strokes painted with the artist's
    brush), then put it above the sketch or in place of the previous lineart. Nothing in the
    document changes before the new layer is complete."""
    previous = linked_lineart(document, sketch)
    name = previous.name() if previous else sketch.name() + SUFFIX
    if settings.output == "raster":
        layer = _raster_layer(document, name, lineart, where)
    else:
        strokes = extract(lineart, settings.thickness, settings.close_gaps)
        layer = _vector_layer(document, name, strokes, where) if settings.output == "vector" else \
            _brush_layer(document, name, strokes, where, progress, cancelled)
    if previous is not None:
        layer.setOpacity(previous.opacity())
        layer.setVisible(previous.visible())
        layer.setBlendingMode(previous.blendingMode())
        layer.setColorLabel(previous.colorLabel())
        parent = previous.parentNode()
        siblings = parent.childNodes()
        below = next((siblings[i - 1] for i, n in enumerate(siblings) if n.uniqueId() == previous.uniqueId() and i > 0), None)
        if below is None:  # the bottom layer: added above it first (None would mean the top)
            parent.addChildNode(layer, previous)
            previous.remove()
        else:  # removed first, then added in its place (Krita 5.3's window kept both the other way round)
            previous.remove()
            parent.addChildNode(layer, below)
    else:
        sketch.parentNode().addChildNode(layer, sketch)
    links = _links(document)
    links[sketch.uniqueId().toString()] = layer.uniqueId().toString()
    document.setAnnotation(LINK_ANNOTATION, "Smart Lineart: sketch layer -> lineart layer",
                           json.dumps(links).encode())
    document.refreshProjection()
    return layer


CANCELLED = "cancelled: the document is unchanged"


class Job:
    """One run: read now, compute (here or in a thread), write on the GUI thread."""

    def __init__(self, document, node, settings: Settings):
        self.document, self.node, self.settings = document, node, settings
        self.engine = engine(settings)
        self.engine.conditions(settings)  # bad settings fail before any work
        if settings.output == "vector":
            check_vector_output(document)
        elif settings.output == "brush":
            check_brush_output(document)
        self.grey, self.blue, self.where = read_sketch(document, node)
        self._cancel = threading.Event()
        self.seconds = 0.0

    def cancel(self) -> None:
        self._cancel.set()

    def compute(self, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        start = time.monotonic()
        out = self.engine.run(self.grey, self.settings, progress=progress, cancelled=self._cancel.is_set,
                              blue=self.blue)
        self.seconds = time.monotonic() - start
        return out

    def write(self, lineart: np.ndarray, progress: Callable[[int, int], None] | None = None):
        """On the GUI thread. Painting with the brush reports progress and stops on cancel()."""
        return write_lineart(self.document, self.node, lineart, self.where, self.settings, progress,
                             self._cancel.is_set)

    def start(self, progress: Callable[[int, int], None], done: Callable[[Any], None],
              failed: Callable[[str], None]) -> threading.Thread:
        """Compute in a worker thread. The callbacks are called from that thread: the caller
        hands them to the GUI thread (the docker does so with queued Qt signals)."""
        def work() -> None:
            try:
                done(self.compute(progress))
            except Cancelled:
                failed(CANCELLED)
            except SmartLineartError as e:
                failed(str(e))
            except Exception as e:  # a bug: logged with its traceback, never lost in a thread
                failed(internal_error(e))
        t = threading.Thread(target=work, name="smart-lineart", daemon=True)
        t.start()
        return t


def apply(document, node, thickness: float = DEFAULTS.thickness, brush: str | None = DEFAULTS.brush,
          faint: float | None = DEFAULTS.faint, wait: bool = True, settings: Settings = DEFAULTS,
          output: str = DEFAULTS.output):
    """The scripting entry, `smart_lineart.apply`: turn `node` of `document` into lineart on a
    new layer directly above it, or update the lineart layer an earlier run made from it.
    Returns that layer (with wait=False: a Job, whose `start()` computes in a thread).
    Raises ValueError (LayerError, SettingsError) for a node it cannot process (vector layer,
    mask, empty layer or group) or settings out of range. `settings` supplies the backend,
    device, memory cap and gap closing (for strokes). output: "raster" (a paint layer), "vector" (a vector layer of
    editable strokes) or "brush" (the strokes painted with the current brush: Krita 5.3+, in a
    window)."""
    job = Job(document, node, replace(settings, thickness=thickness, brush=brush, faint=faint, output=output))
    if not wait:
        return job
    return job.write(job.compute())
