"""The docker's and the Tools action's logic (krita.controller) with the fake Krita, no Qt."""
import threading
import time

import numpy as np
import pytest

from smart_lineart import log
from smart_lineart.krita import controller as controller_module
from smart_lineart.krita import document as krita_document
from smart_lineart.krita.controller import Controller
from smart_lineart.settings import Settings
from tests.fake_krita import App, Document


class Recorder:
    """A view: what the docker would show."""

    def __init__(self):
        self.status, self.progress, self.running, self.previews = [], [], [], []

    def show_status(self, text): self.status.append(text)
    def show_progress(self, done, total): self.progress.append((done, total))
    def show_running(self, running): self.running.append(running)
    def show_preview(self, lineart, message): self.previews.append((lineart, message))
    def reveal(self): pass


class GuiThread:
    """Stands in for Qt's queued signals: callbacks from the worker wait here until pumped."""

    def __init__(self):
        self.calls, self.lock = [], threading.Lock()

    def post(self, fn):
        with self.lock:
            self.calls.append(fn)

    def pump_until(self, condition, seconds=60.0):
        end = time.monotonic() + seconds
        while not condition() and time.monotonic() < end:
            with self.lock:
                calls, self.calls = self.calls, []
            for fn in calls:
                fn()
            time.sleep(0.01)
        return condition()


@pytest.fixture()
def setup(sketch):
    doc = Document(sketch.shape[1], sketch.shape[0])
    doc.add_sketch(sketch, name="Sketch 1")
    app, gui, view = App(doc), GuiThread(), Recorder()
    c = Controller(app, gui.post)
    c.attach(view)
    return c, app, doc, gui, view


def test_settings_are_saved_and_read_back(setup):
    c, app, *_ = setup
    chosen = Settings(thickness=5.5, brush="pencil", faint=0.3, backend="onnxruntime", device="CPU", max_memory_mb=1024,
                      output="vector", close_gaps=12.0)
    c.update(chosen)
    assert Controller(app, lambda fn: fn()).settings == chosen


def test_run_reports_progress_and_writes_one_layer(setup):
    c, _, doc, gui, view = setup
    assert c.run() == ""
    assert view.running == [True] and c.job is not None
    assert gui.pump_until(lambda: c.job is None)
    assert [n.name() for n in doc.root.children] == ["Sketch 1", "Sketch 1 — lineart"]
    tiles = [p for p in view.progress if p[1] > 1 or p[0]]
    assert tiles and tiles[-1][0] == tiles[-1][1]
    assert view.running == [True, False] and view.status[-1].startswith("Done in")


def test_cancel_leaves_the_document_unchanged(setup, monkeypatch):
    c, _, doc, gui, view = setup
    compute = krita_document.Job.compute

    def after_cancel(job, progress=None):  # the worker gets to its first tile only after Cancel
        job._cancel.wait(10)
        return compute(job, progress)

    monkeypatch.setattr(krita_document.Job, "compute", after_cancel)
    assert c.run() == ""
    c.cancel()
    assert gui.pump_until(lambda: c.job is None)
    assert [n.name() for n in doc.root.children] == ["Sketch 1"]
    assert view.status[-1].startswith("Cancelled")


def test_cannot_start_says_why_and_changes_nothing(setup):
    c, app, doc, _, view = setup
    doc.active = doc.createNode("Vector", "vectorlayer")
    why = c.run()
    assert "vector layer" in why and c.job is None and view.status[-1] == why
    app.document = None
    assert "Open a document" in c.run()
    assert [n.name() for n in doc.root.children] == ["Sketch 1"]


def test_preview_shows_lineart_or_the_reason(setup):
    c, _, doc, _, view = setup
    c.preview()
    lineart, message = view.previews[-1]
    assert message == "" and lineart.shape == (min(384, doc.h), min(384, doc.w)) and lineart.min() < 64
    doc.active = doc.createNode("Empty", "paintlayer")
    doc.root.addChildNode(doc.active, None)
    c.preview()
    assert view.previews[-1][0] is None and "empty" in view.previews[-1][1]


def test_without_a_model_the_controller_says_why(setup, tmp_path, monkeypatch):
    monkeypatch.setenv("SMART_LINEART_MODELS", str(tmp_path))
    monkeypatch.setattr(krita_document, "_card", None)
    c = Controller(setup[1], lambda fn: fn())
    assert not c.ready and c.card is None and "model file not found" in c.problem
    assert c.run() == c.problem and c.idle_status() == c.problem


def test_internal_errors_are_logged_with_their_traceback(setup, tmp_path, monkeypatch):
    c, _, _, gui, view = setup
    path = log.to_file(tmp_path)

    def broken(*_):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(controller_module, "preview_window", broken)
    c.preview()
    message = view.previews[-1][1]
    assert message.startswith("internal error (ZeroDivisionError)") and str(path) in message
    text = path.read_text()
    assert "Traceback" in text and "ZeroDivisionError: a bug" in text


def test_lineart_is_black_ink_on_transparency(setup):
    c, _, doc, gui, _ = setup
    c.run()
    gui.pump_until(lambda: c.job is None)
    layer = doc.root.children[1]
    assert layer.px[..., :3].max() == 0 and np.median(layer.px[..., 3]) == 0 and layer.px[..., 3].max() > 200


def test_vector_output_makes_an_editable_vector_layer_in_pixels(setup, monkeypatch):
    c, app, doc, gui, _ = setup
    monkeypatch.setattr(krita_document, "_krita", lambda: app)
    c.update(Settings(output="vector"))
    assert c.run() == ""
    assert gui.pump_until(lambda: c.job is None)
    layer = doc.root.children[1]
    assert layer.type() == "vectorlayer" and layer.name() == "Sketch 1 — lineart"
    svg = layer.svg[0]
    assert len(layer.shapes()) >= 5
    import re
    width = float(re.search(r'<svg[^>]* width="([0-9.]+)"', svg).group(1))
    assert width == doc.w and "<g" not in svg  # the whole canvas in pixels; one shape per stroke


def test_vector_output_is_refused_where_krita_would_crash(setup, monkeypatch):
    _, app, doc, _, _ = setup

    class Old(type(app)):
        def version(self): return "5.1.5"
        def activeDocument(self): return None

    monkeypatch.setattr(krita_document, "_krita", lambda: Old(doc))
    with pytest.raises(ValueError, match="open in a window"):
        krita_document.apply(doc, doc.root.children[0], output="vector")
    assert [n.name() for n in doc.root.children] == ["Sketch 1"]


def test_brush_output_says_when_this_krita_cannot_paint(setup, monkeypatch):
    """Krita before 5.3 has no Node.paintPath: refused before any work, in the docker's words."""
    c, app, doc, gui, _ = setup
    monkeypatch.setattr(krita_document, "_krita", lambda: app)
    c.update(Settings(output="brush"))
    why = c.run()
    assert why.startswith("Paint with my brush needs Krita 5.3 or later") and c.job is None
    assert [n.name() for n in doc.root.children] == ["Sketch 1"]
