"""What the docker and the Tools action do, without Qt: settings and their persistence, the
preview, a run's lifecycle (start, progress, cancel, finish). The docker only binds widgets
to it; the tests drive it with the fake `krita`.

Worker-thread callbacks reach the GUI thread through `post`, which the Qt side provides
(a queued signal); inline calls in the tests.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from .. import __version__
from ..engine import backends
from ..engine.model_card import ModelCard
from ..errors import Cancelled, SmartLineartError
from ..log import internal_error
from ..settings import Settings
from . import document

PREVIEW_SIZE = 384


class View(Protocol):
    """What the controller tells a docker (every docker of every window gets it)."""

    def show_status(self, text: str) -> None: ...
    def show_progress(self, done: int, total: int) -> None: ...  # total 0: busy, no count yet
    def show_running(self, running: bool) -> None: ...
    def show_preview(self, lineart: np.ndarray | None, message: str) -> None: ...
    def reveal(self) -> None: ...  # the Tools action ran: make progress and Cancel visible


class Controller:
    """One per Krita session: one run at a time, on the active document's active layer."""

    def __init__(self, app: Any, post: Callable[[Callable[[], None]], None]):
        self.app = app  # Krita.instance(): settings store and the active document
        self.post = post
        self.views: list[View] = []
        self.settings = Settings.load(app.readSetting)
        self.job: document.Job | None = None
        self.started = 0.0
        try:
            self.card: ModelCard | None = document.card()
            self.problem = ""
        except SmartLineartError as e:  # no model or no runtime: the docker says so and disables its controls
            self.card, self.problem = None, str(e)
        if self.card is not None:
            try:
                backends.choose()
            except SmartLineartError as e:
                self.problem = str(e)

    @property
    def ready(self) -> bool:
        return not self.problem

    def idle_status(self) -> str:
        return self.problem or f"Ready · Smart Lineart {__version__} · {self.card.name if self.card else ''}"

    def attach(self, view: View) -> None:
        self.views.append(view)
        view.show_status(self.idle_status())

    def detach(self, view: View) -> None:
        if view in self.views:
            self.views.remove(view)

    def _tell(self, method: str, *args: Any) -> None:
        for v in self.views:
            getattr(v, method)(*args)

    # settings ----------------------------------------------------------------------------
    def update(self, settings: Settings) -> None:
        """New values from the controls: kept for the next run and saved in Krita's settings."""
        self.settings = settings
        settings.save(self.app.writeSetting)

    def target(self) -> tuple[Any, Any]:
        """(document, layer) to work on: the active ones, or (None, None)."""
        doc = self.app.activeDocument()
        return doc, doc.activeNode() if doc is not None else None

    # preview -----------------------------------------------------------------------------
    def preview(self) -> None:
        """The result around the selection (or the layer's content) at the current settings."""
        doc, node = self.target()
        if doc is None or not self.ready or self.job is not None:
            return
        try:
            window = preview_window(view_centre(doc, node), (doc.width(), doc.height()))
            grey, blue, _ = document.read_sketch(doc, node, window)
            out = document.engine(self.settings).run(grey, self.settings, blue=blue)
        except SmartLineartError as e:
            self._tell("show_preview", None, str(e))
            return
        except Exception as e:
            self._tell("show_preview", None, internal_error(e))
            return
        self._tell("show_preview", out, "")

    # run -----------------------------------------------------------------------------------
    def run(self) -> str:
        """Start a run in the background. Returns '' once started, else why it cannot start
        (also shown in the dockers)."""
        why = self._start()
        if why:
            self._tell("show_status", why)
        return why

    def _start(self) -> str:
        if self.job is not None:
            return "A run is already going on"
        if not self.ready:
            return self.problem
        doc, node = self.target()
        if doc is None:
            return "Open a document and select the sketch layer first"
        try:
            self.job = document.Job(doc, node, self.settings)
        except SmartLineartError as e:
            return str(e)
        except Exception as e:
            return internal_error(e)
        self.started = time.monotonic()
        self._tell("show_running", True)
        self._tell("show_progress", 0, 0)
        self._tell("show_status", "Running…")
        job = self.job
        self.job.start(lambda d, t: self.post(lambda: self._progress(job, d, t)),
                       lambda out: self.post(lambda: self._done(job, out)),
                       lambda msg: self.post(lambda: self._failed(job, msg)))
        return ""

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self._tell("show_status", "Cancelling…")

    def _progress(self, job: document.Job, done: int, total: int) -> None:
        if job is self.job:
            self._tell("show_progress", done, total)

    def _finish(self, message: str, done: bool = False) -> None:
        self.job = None
        self._tell("show_running", False)
        self._tell("show_progress", int(done), 1)  # full once the layer is written, else empty
        self._tell("show_status", message)

    def _done(self, job: document.Job, lineart: np.ndarray) -> None:
        if job.settings.output == "brush":
            self._tell("show_status", "Painting with your brush…")
            self._tell("show_progress", 0, 0)
        try:
            layer = job.write(lineart, lambda d, t: self._progress(job, d, t))
        except Cancelled:
            self._failed(job, document.CANCELLED)
            return
        except SmartLineartError as e:
            self._finish(f"Could not write the lineart layer: {e}")
            return
        except Exception as e:
            self._finish(internal_error(e))
            return
        self._finish(f"Done in {time.monotonic() - self.started:.1f} s with {job.engine.backend}: '{layer.name()}'", True)

    def _failed(self, job: document.Job, message: str) -> None:
        self._finish(message[:1].upper() + message[1:])


def view_centre(doc: Any, node: Any) -> tuple[float, float]:
    """The centre of the selection, else of the layer's content, else of the canvas."""
    sel = doc.selection()
    if sel is not None and sel.width() > 0:
        return sel.x() + sel.width() / 2, sel.y() + sel.height() / 2
    b = node.bounds() if node is not None else None
    if b is not None and b.width() > 0:
        return b.x() + b.width() / 2, b.y() + b.height() / 2
    return doc.width() / 2, doc.height() / 2


def preview_window(centre: tuple[float, float], doc_size: tuple[int, int],
                   size: int = PREVIEW_SIZE) -> tuple[int, int, int, int]:
    """A size x size window (x, y, w, h) around `centre`, moved inside the document."""
    w, h = min(size, doc_size[0]), min(size, doc_size[1])
    x = int(min(max(centre[0] - w / 2, 0), doc_size[0] - w))
    y = int(min(max(centre[1] - h / 2, 0), doc_size[1] - h))
    return x, y, w, h


def backend_choices() -> list[tuple[str, str, str, bool]]:
    """(label, backend, device, available) for the device menu; 'auto' first."""
    b, d = backends.choose()
    out = [(f"Auto ({_label(b)} · {d})", "auto", "auto", True)]
    installed = backends.installed_backends()
    for backend in backends.BACKENDS:
        for device in backends.DEVICES:
            ok = backend in installed and device in backends.devices(backend)
            out.append((f"{_label(backend)} · {device}", backend, device, ok))
    return out


def _label(backend: str) -> str:
    return {"openvino": "OpenVINO", "onnxruntime": "ONNX Runtime"}.get(backend, backend)
