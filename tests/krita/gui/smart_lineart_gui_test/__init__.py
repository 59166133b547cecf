"""A test plugin for the live Krita window (tests/test_krita_gui.py runs Krita under Xvfb with
it enabled): once the main window exists it opens a sketch in a view and drives Smart Lineart as
an artist would, one step per QTimer tick so Krita keeps painting between them. Every check goes
to $SMART_LINEART_GUI's "out" folder as gui.json, with screenshots; then Krita is ended."""
import json
import os
import threading
import time
import traceback

import e2e  # tests/krita: sketch pixels in and lineart pixels out
import numpy as np  # after smart_lineart and e2e: the plugin puts its dependency folder on sys.path
from krita import Extension, Krita, Node

from smart_lineart.krita.qt import QtCore

JOB = json.load(open(os.environ["SMART_LINEART_GUI"]))
OUT = JOB["out"]
RES = {"checks": {}, "errors": [], "finished": False, "path": os.path.join(OUT, "gui.json"), "times": {}}


def e2e_recall(want: "np.ndarray", got: "np.ndarray", radius: int = 3) -> float:
    """Share of `want` pixels with a `got` pixel within `radius` (a square neighbourhood)."""
    near = np.zeros_like(got)
    for dy in range(-radius, radius + 1):
        for dx in range(-radius, radius + 1):
            near |= np.roll(np.roll(got, dy, 0), dx, 1)
    return float((near & want).sum() / max(want.sum(), 1))


def check(name, ok, detail=None):
    e2e.check(RES, name, ok, detail)


def can_paint() -> bool:
    """Whether this Krita has Node.paintPath (5.3 and later)."""
    return hasattr(Node, "paintPath")


def names(doc):
    return [n.name() for n in doc.rootNode().childNodes()]


class Scenario:
    """Steps run in order; a step returns how long to wait before the next (or a condition to
    wait for: then the next step starts once it holds, or after `seconds`)."""

    def __init__(self, window):
        self.window = window
        self.k = Krita.instance()
        self.steps = [self.open_sketch, self.tools_action, self.undo_redo, self.rerun_after_edit,
                      self.docker_run, self.docker_cancel, self.vector_output, self.screenshot]
        # "Paint with my brush" with two of Krita's own presets (a fineliner and a pencil)
        self.steps += [self.brush_run("d) Ink-2 Fineliner"), self.brush_run("c) Pencil-2"), self.brush_check,
                       self.brush_undo, self.brush_cancel, self.brush_cancel_check]
        self.painted = {}
        self.ticks = []  # when the GUI thread got to a 20 ms timer: gaps mean a frozen window
        self.ticker = QtCore.QTimer()
        self.ticker.setInterval(20)
        self.ticker.timeout.connect(lambda: self.ticks.append(time.monotonic()))
        self.ticker.start()

    # driving --------------------------------------------------------------------------------
    def start(self):
        self.window.qwindow().setGeometry(0, 0, 1600, 1000)  # Xvfb has no window manager to maximise
        self.current = "start"
        threading.Thread(target=self.watchdog, daemon=True).start()
        QtCore.QTimer.singleShot(2000, self.next)

    def watchdog(self, seconds: float = 420.0):
        """If the GUI thread hangs (a modal dialog, a deadlock), still say where and end Krita."""
        time.sleep(seconds)
        RES["errors"].append(f"Krita hung in step {self.current} (no result after {seconds:.0f} s)")
        e2e.save(RES)
        os._exit(1)

    def next(self):
        if not self.steps:
            return self.end()
        step = self.steps.pop(0)
        self.current = step.__name__
        try:
            wait = step()
        except Exception:
            RES["errors"].append(f"{step.__name__}: {traceback.format_exc()}")
            return self.end()
        if callable(wait):
            self.wait_for(wait, time.monotonic() + 180)
        else:
            QtCore.QTimer.singleShot(int((wait or 0.5) * 1000), self.next)

    def wait_for(self, condition, deadline):
        if condition() or time.monotonic() > deadline:
            QtCore.QTimer.singleShot(300, self.next)
        else:
            QtCore.QTimer.singleShot(100, lambda: self.wait_for(condition, deadline))

    def end(self):
        RES["finished"] = not RES["errors"]
        e2e.save(RES)
        os._exit(0)  # no "save changes?" dialogs: the result file is written

    def max_gap_since(self, t0):
        ticks = [t for t in self.ticks if t >= t0]
        return round(max((b - a for a, b in zip(ticks, ticks[1:])), default=0.0), 3)

    # steps ------------------------------------------------------------------------------------
    def open_sketch(self):
        grey = np.load(JOB["sketch"])
        self.h, self.w = grey.shape
        self.grey = grey
        doc = self.k.createDocument(self.w, self.h, "gui", "RGBA", "U8", "", 300.0)
        self.sketch = doc.createNode("Sketch", "paintlayer")
        doc.rootNode().addChildNode(self.sketch, None)
        self.sketch.setPixelData(e2e.sketch_bytes(grey, "RGBA", "U8"), 0, 0, self.w, self.h)
        self.view = self.window.addView(doc)
        self.view.canvas().setZoomLevel(1.5)
        self.doc = doc
        doc.setActiveNode(self.sketch)
        doc.refreshProjection()
        return 2.0

    def undo_until(self, condition, most: int = 4) -> int:
        """Edit > Undo until condition() holds: how many steps it took (most + 1: never)."""
        undo = self.k.action("edit_undo")
        for steps in range(1, most + 1):
            undo.trigger()
            self.doc.waitForDone()
            if condition():
                return steps
        return most + 1

    def redo(self, steps: int) -> None:
        for _ in range(steps):
            self.k.action("edit_redo").trigger()
            self.doc.waitForDone()
            QtCore.QCoreApplication.processEvents()

    def lineart(self):
        for n in self.doc.rootNode().childNodes():
            if n.name().endswith("lineart"):
                return n
        return None

    def tools_action(self):
        """Tools > Smart Lineart on the active layer, the docker hidden."""
        for d in self.k.dockers():
            if d.objectName() == "smart_lineart_docker":
                d.hide()
        self.before = names(self.doc)
        self.t0 = time.monotonic()
        self.k.action("smart_lineart_run").trigger()
        return lambda: self.lineart() is not None

    def undo_redo(self):
        layer = self.lineart()
        check("Tools > Smart Lineart adds the lineart layer in the live window",
              layer is not None and names(self.doc) == self.before + ["Sketch — lineart"],
              {"layers": names(self.doc), "seconds": round(time.monotonic() - self.t0, 1)})
        check("the GUI stays responsive during a run (largest pause between 20 ms timer ticks < 0.5 s)",
              self.max_gap_since(self.t0) < 0.5, self.max_gap_since(self.t0))
        self.first = e2e.read_lineart(layer, self.w, self.h)
        undo, redo = self.k.action("edit_undo"), self.k.action("edit_redo")
        undo.trigger()
        self.doc.waitForDone()
        after_undo = names(self.doc)
        sketch_same = bytes(self.sketch.pixelData(0, 0, self.w, self.h)) == e2e.sketch_bytes(self.grey, "RGBA", "U8")
        redo.trigger()
        self.doc.waitForDone()
        again = self.lineart()
        check("a run is one undo step: Edit > Undo brings back the document as it was",
              after_undo == self.before and sketch_same, {"after undo": after_undo, "sketch unchanged": sketch_same})
        check("Edit > Redo brings the lineart back",
              again is not None and np.array_equal(e2e.read_lineart(again, self.w, self.h), self.first),
              names(self.doc))
        return 0.5

    def rerun_after_edit(self):
        """Erase the sketch's right half, run again: the same layer is updated. What it costs in
        undo steps is measured (the new layer replaces the old one: add, then remove)."""
        edited = self.grey.copy()
        edited[:, self.w // 2:] = 255
        self.sketch.setPixelData(e2e.sketch_bytes(edited, "RGBA", "U8"), 0, 0, self.w, self.h)
        self.doc.setActiveNode(self.sketch)
        self.old_uid = self.lineart().uniqueId()
        self.k.action("smart_lineart_run").trigger()
        return lambda: self.lineart() is not None and self.lineart().uniqueId() != self.old_uid

    def on_progress(self, value):
        self.progress.append(value)
        if value > 1 and self.stroke_progress_since is None and self.docker().status.text().startswith("Painting"):
            self.stroke_progress_since = time.monotonic()  # the brush is painting stroke by stroke

    def docker(self):
        for d in self.k.dockers():
            if d.objectName() == "smart_lineart_docker":
                return d
        raise AssertionError("no Smart Lineart docker in the window")

    def docker_run(self):
        layer = self.lineart()
        updated = e2e.read_lineart(layer, self.w, self.h)
        check("a re-run after editing the sketch updates the lineart layer",
              names(self.doc) == self.before + ["Sketch — lineart"] and (updated[:, self.w // 2 + 8:] < 128).sum() == 0
              and (updated[:, :self.w // 2 - 8] < 128).sum() > 100, names(self.doc))
        steps = self.undo_until(lambda: names(self.doc) == self.before + ["Sketch — lineart"]
                                and self.lineart().uniqueId() == self.old_uid)
        RES["times"]["undo steps of a re-run"] = steps
        check("a re-run is undone in at most two steps (Krita's scripting API has no undo macro)",
              steps <= 2 and np.array_equal(e2e.read_lineart(self.lineart(), self.w, self.h), self.first), steps)
        self.redo(steps)
        redone = self.lineart()
        check("Redo after undoing a re-run brings the new lineart back",
              names(self.doc) == self.before + ["Sketch — lineart"] and redone.uniqueId() != self.old_uid
              and np.array_equal(e2e.read_lineart(redone, self.w, self.h), updated), names(self.doc))
        # the docker: shown, a preview, Run with progress
        docker = self.docker()
        docker.show()
        docker.raise_()
        self.progress, self.stroke_progress_since = [], None
        docker.progress.valueChanged.connect(self.on_progress)
        self.sketch.setPixelData(e2e.sketch_bytes(self.grey, "RGBA", "U8"), 0, 0, self.w, self.h)  # whole again
        self.doc.refreshProjection()
        docker.controller.preview()
        self.preview_ok = docker.preview.pixmap() is not None and not docker.preview.pixmap().isNull()
        self.doc.setActiveNode(self.sketch)
        docker.thickness.setValue(docker.thickness.value() + 2)  # a visible change: thicker lines
        self.t0 = time.monotonic()
        docker.run_button.click()
        self.running = not docker.run_button.isEnabled() and docker.cancel_button.isEnabled()
        return lambda: docker.controller.job is None

    def docker_cancel(self):
        docker = self.docker()
        check("the docker is docked and shown, with a preview", docker.isVisible() and self.preview_ok,
              {"visible": docker.isVisible(), "floating": docker.isFloating()})
        check("the docker's Run shows progress and finishes", self.running and docker.status.text().startswith("Done in")
              and len(self.progress) > 0, {"status": docker.status.text(), "progress": self.progress[-5:]})
        check("the GUI stays responsive during a docker run", self.max_gap_since(self.t0) < 0.5,
              self.max_gap_since(self.t0))
        self.window.qwindow().grab().save(os.path.join(OUT, "window.png"))
        # Cancel mid-run on a page-sized sketch in a second view
        page = np.tile(self.grey, (3000 // self.h + 1, 2400 // self.w + 1))[:3000, :2400]
        big = self.k.createDocument(2400, 3000, "cancel", "RGBA", "U8", "", 300.0)
        layer = big.createNode("Sketch", "paintlayer")
        big.rootNode().addChildNode(layer, None)
        layer.setPixelData(e2e.sketch_bytes(page, "RGBA", "U8"), 0, 0, 2400, 3000)
        self.window.addView(big)
        big.setActiveNode(layer)
        self.big, self.big_before = big, names(big)

        def cancel_after_first_tile(value: int) -> None:  # tiles left: the run is mid-way (a timer raced its end)
            if 0 < value < docker.progress.maximum():
                docker.progress.valueChanged.disconnect(cancel_after_first_tile)
                docker.cancel_button.click()

        docker.progress.valueChanged.connect(cancel_after_first_tile)
        docker.run_button.click()
        return lambda: docker.controller.job is None and docker.status.text().startswith(("Cancelled", "Done"))

    def vector_output(self):
        docker = self.docker()
        check("Cancel mid-run leaves the document unchanged", names(self.big) == self.big_before
              and docker.status.text().startswith("Cancelled"), {"layers": names(self.big), "status": docker.status.text()})
        self.big.setModified(False)  # closing asks nothing
        self.big.close()
        for v in self.window.views():
            if v.document() == self.doc:
                self.window.showView(v)
        self.doc.setActiveNode(self.sketch)
        docker.output.setCurrentIndex(1)  # Vector layer
        self.t0 = time.monotonic()
        docker.run_button.click()
        return lambda: docker.controller.job is None

    def screenshot(self):
        docker = self.docker()
        layer = self.lineart()
        shapes = len(layer.shapes()) if layer is not None and layer.type() == "vectorlayer" else 0
        check("Output: Vector layer gives an editable vector layer of strokes in place of the raster one",
              shapes >= 5 and names(self.doc) == self.before + ["Sketch — lineart"],
              {"layers": [[n.name(), n.type()] for n in self.doc.rootNode().childNodes()], "shapes": shapes,
               "status": docker.status.text()})
        self.window.qwindow().grab().save(os.path.join(OUT, "window-vector.png"))
        steps = self.undo_until(lambda: names(self.doc) == self.before + ["Sketch — lineart"]
                                and self.lineart().type() == "paintlayer")
        RES["times"]["undo steps of a vector re-run"] = steps
        check("a vector run over the raster lineart is undone in at most two steps", steps <= 2, names(self.doc))
        self.redo(steps)
        check("Redo after undoing a vector re-run brings the vector layer back",
              [[n.name(), n.type()] for n in self.doc.rootNode().childNodes()][-1] == ["Sketch — lineart", "vectorlayer"]
              and names(self.doc) == self.before + ["Sketch — lineart"], names(self.doc))
        docker.output.setCurrentIndex(0)
        return 0.5

    def brush_run(self, preset):
        def step():
            self.record_brush()
            docker = self.docker()
            view = self.window.activeView()
            presets = self.k.resources("preset")
            if preset in presets:  # Krita's own default presets (5.1 is only asked to refuse)
                view.setCurrentBrushPreset(presets[preset])
            view.setBrushSize(4.0)
            self.doc.setActiveNode(self.sketch)
            docker.output.setCurrentIndex(2)  # Paint with my brush
            self.preset, self.t0, self.layers_before_brush = preset, time.monotonic(), names(self.doc)
            self.uid_before_brush = self.lineart().uniqueId()
            self.progress.clear()
            self.stroke_progress_since = None
            docker.run_button.click()
            return lambda: docker.controller.job is None
        step.__name__ = f"brush_run({preset})"
        return step

    def record_brush(self):
        """The previous brush run's result, if any."""
        if getattr(self, "preset", None) and self.preset not in self.painted:
            layer = self.lineart()
            status = self.docker().status.text()
            painted = layer is not None and layer.type() == "paintlayer"  # a refused run leaves the vector layer
            self.painted[self.preset] = (e2e.read_lineart(layer, self.w, self.h) if painted else None, status,
                                         round(time.monotonic() - self.t0, 2), max(self.progress, default=0),
                                         self.max_gap_since(self.stroke_progress_since or time.monotonic()))
            self.window.qwindow().grab().save(os.path.join(OUT, f"window-brush-{len(self.painted)}.png"))

    def brush_check(self):
        self.record_brush()
        (a, status_a, *_), (b, status_b, *_) = self.painted.values()
        if not can_paint():  # Krita 5.1/5.2: the docker says so
            check("Paint with my brush: this Krita cannot, and the docker says so",
                  "needs Krita 5.3" in status_a and names(self.doc) == self.layers_before_brush,
                  {"status": status_a, "layers": names(self.doc), "before": self.layers_before_brush})
            return 0.5
        missing = [p for p in self.painted if p not in self.k.resources("preset")]
        check("the two presets are Krita's own", not missing, missing)
        raster = self.first < 128
        stats = {}
        for name, (px, status, sec, progress, gap) in self.painted.items():
            ink = px < 250
            stats[name] = {"seconds": sec, "status": status, "ink px": int(ink.sum()), "progress up to": progress,
                           "largest pause of the window while painting, s": gap,
                           "mean darkness on ink": round(float((255 - px[ink]).mean() / 255), 3) if ink.any() else 0,
                           "share of soft (partly inked) px": round(float(((px > 30) & ink).sum() / max(ink.sum(), 1)), 3),
                           "recall of the raster lineart within 3 px": round(e2e_recall(raster, px < 200), 3)}
        RES["times"]["brush"] = stats
        (sa, sb) = stats.values()
        check("Paint with my brush paints the lines with the preset (both presets follow the lineart)",
              all(v["recall of the raster lineart within 3 px"] > 0.6 for v in stats.values()), stats)
        check("two presets give measurably different lines",
              abs(sa["mean darkness on ink"] - sb["mean darkness on ink"]) > 0.05
              or abs(sa["share of soft (partly inked) px"] - sb["share of soft (partly inked) px"]) > 0.05, stats)
        check("the window stays responsive while painting, and the bar counts strokes",
              all(v["largest pause of the window while painting, s"] < 1.5 for v in stats.values())
              and any(v["progress up to"] > 1 for v in stats.values()), stats)
        return 0.5

    def brush_undo(self):
        """The pencil run replaced the fineliner layer: undone like any re-run, not per stroke."""
        if not can_paint():
            return 0.1
        pencil = self.painted["c) Pencil-2"][0]
        steps = self.undo_until(lambda: self.lineart() is not None and self.lineart().uniqueId() == self.uid_before_brush)
        RES["times"]["undo steps of a brush re-run"] = steps
        check("a brush run is undone like a raster re-run (at most two steps), not a step per stroke",
              steps <= 2 and np.array_equal(e2e.read_lineart(self.lineart(), self.w, self.h),
                                            self.painted["d) Ink-2 Fineliner"][0]), steps)
        self.redo(steps)
        check("Redo brings the painted lineart back", np.array_equal(e2e.read_lineart(self.lineart(), self.w, self.h),
                                                                     pencil), names(self.doc))
        return 0.5

    def brush_cancel(self):
        """Run with the brush again and press Cancel once the painting has begun."""
        docker = self.docker()
        if not can_paint():
            return 0.1
        self.doc.setActiveNode(self.sketch)
        self.window.activeView().setBrushSize(12.0)  # slower strokes: painting lasts long enough to cancel
        self.before_cancel = (names(self.doc), self.lineart().uniqueId(), len(self.k.documents()))
        self.progress.clear()
        self.cancel_status = ""
        # Cancel at the first event the window takes once painting has begun: polled from the
        # step queue, an idle machine had painted everything (0.6 s) before the click came
        self.canceller = QtCore.QTimer()
        self.canceller.setInterval(0)

        def cancel_when_painting() -> None:
            if docker.status.text().startswith("Painting"):
                self.canceller.stop()
                self.cancel_status = docker.status.text()
                docker.cancel_button.click()
        self.canceller.timeout.connect(cancel_when_painting)
        self.canceller.start()
        docker.run_button.click()
        return lambda: docker.controller.job is None

    def brush_cancel_check(self):
        docker = self.docker()
        if not can_paint():
            docker.output.setCurrentIndex(0)
            return 0.1
        self.canceller.stop()  # if painting never began
        view = self.window.activeView()
        after = (names(self.doc), self.lineart().uniqueId(), len(self.k.documents()))
        check("Cancel while painting with the brush leaves the document as it was and closes the scratch canvas",
              self.cancel_status.startswith("Painting") and docker.status.text().startswith("Cancelled")
              and after == self.before_cancel and view.document() == self.doc,
              {"when cancelled": self.cancel_status, "status": docker.status.text(),
               "layers, lineart, documents": [str(v) for v in after], "before": [str(v) for v in self.before_cancel]})
        docker.output.setCurrentIndex(0)
        return 0.5


class GuiTest(Extension):
    def setup(self):
        notifier = Krita.instance().notifier()
        notifier.setActive(True)
        notifier.windowCreated.connect(self.window_created)

    def createActions(self, window):
        pass

    def window_created(self):
        windows = Krita.instance().windows()
        self.scenario = Scenario(windows[0])
        self.scenario.start()


Krita.instance().addExtension(GuiTest(Krita.instance()))
