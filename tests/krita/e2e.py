"""Runs inside real Krita (kritarunner -s e2e -f main): the plugin's path from a sketch layer
to a lineart layer. kritarunner's exit status means nothing, so every check and error is
written to OUT/results.json, which tests/test_krita.py reads. Job file: $SMART_LINEART_E2E.
"""
import json
import os
import time
import traceback

import smart_lineart  # before numpy: it puts the plugin's dependency folder (numpy...) on sys.path

import numpy as np  # noqa: E402

FORMATS = [("RGBA", "U8"), ("RGBA", "U16"), ("RGBA", "F16"), ("RGBA", "F32"), ("GRAYA", "U8"), ("CMYKA", "U8"),
           ("LABA", "U16")]


def sketch_bytes(grey: np.ndarray, model: str, depth: str) -> bytes:
    """Black strokes whose coverage is the alpha: a sketch on a transparent layer."""
    cover = (255 - grey).astype(np.float64) / 255
    h, w = grey.shape
    if depth in ("F16", "F32"):
        px = np.zeros((h, w, 4), np.float16 if depth == "F16" else np.float32)
        px[..., 3] = cover
    elif model == "LABA":  # L, a, b, alpha (U16): black ink, neutral a/b
        px = np.zeros((h, w, 4), np.uint16)
        px[..., 1:3] = 32768
        px[..., 3] = np.round(cover * 65535)
    elif model == "CMYKA":  # C, M, Y, K, alpha: K ink
        px = np.zeros((h, w, 5), np.uint8)
        px[..., 3] = 255
        px[..., 4] = np.round(cover * 255)
    else:
        dtype, scale = (np.uint8, 255) if depth == "U8" else (np.uint16, 65535)
        px = np.zeros((h, w, 4 if model == "RGBA" else 2), dtype)
        px[..., -1] = np.round(cover * scale)
    return px.tobytes()


def read_lineart(node, w: int, h: int) -> np.ndarray:
    """A lineart layer back as uint8 (255 white) from its alpha (any depth)."""
    depth, model = node.colorDepth(), node.colorModel()
    dtype = {"U8": np.uint8, "U16": np.uint16, "F16": np.float16, "F32": np.float32}[depth]
    channels = {"RGBA": 4, "GRAYA": 2, "CMYKA": 5, "LABA": 4}[model]
    a = np.frombuffer(bytes(node.pixelData(0, 0, w, h)), dtype).reshape(h, w, channels)[..., -1].astype(np.float64)
    scale = 1.0 if depth in ("F16", "F32") else float(np.iinfo(dtype).max)
    return np.clip(np.round(255 - a / scale * 255), 0, 255).astype(np.uint8)


def main(*_):
    job = json.load(open(os.environ["SMART_LINEART_E2E"]))
    out = job["out"]
    res = {"checks": {}, "errors": [], "finished": False, "path": os.path.join(out, "results.json")}
    try:
        run(job, out, res)
        res["finished"] = True
    except Exception:
        res["errors"].append(traceback.format_exc())
    save(res)


def save(res) -> None:
    with open(res["path"], "w") as f:
        json.dump(res, f, indent=1)


def check(res, name: str, ok, detail=None) -> None:
    res["checks"][name] = {"ok": bool(ok), "detail": detail}
    save(res)  # as we go: a crash inside Krita cannot hide what was checked before it


def run(job, out, res) -> None:
    from krita import Krita

    from smart_lineart.errors import Cancelled
    from smart_lineart.krita.extension import SmartLineartExtension
    k = Krita.instance()
    check(res, "the extension (Tools > Smart Lineart) is registered",
          any(isinstance(e, SmartLineartExtension) for e in k.extensions()))
    grey = np.load(job["sketch"])
    h, w = grey.shape
    second = grey.copy()
    second[:, w // 2:] = 255  # "editing the sketch": its right half erased

    for model, depth in FORMATS:
        tag = f"{model}-{depth}"
        doc = k.createDocument(w, h, tag, model, depth, "", 300.0)
        root = doc.rootNode()
        sketch = doc.createNode("Sketch 1", "paintlayer")
        root.addChildNode(sketch, None)
        sketch.setPixelData(sketch_bytes(grey, model, depth), 0, 0, w, h)
        before = [n.uniqueId() for n in root.childNodes()]
        lineart = smart_lineart.apply(doc, sketch, thickness=3.0)
        kids = root.childNodes()
        pos = [n.uniqueId() for n in kids].index(sketch.uniqueId())
        check(res, f"{tag}: one new layer directly above the sketch",
              len(kids) == len(before) + 1 and kids[pos + 1].uniqueId() == lineart.uniqueId(),
              [n.name() for n in kids])
        check(res, f"{tag}: named after the sketch, in the document's colour space",
              lineart.name() == "Sketch 1 — lineart" and (lineart.colorModel(), lineart.colorDepth()) == (model, depth),
              [lineart.name(), lineart.colorModel(), lineart.colorDepth()])
        first = read_lineart(lineart, w, h)
        np.save(os.path.join(out, f"{tag}.npy"), first)

        # re-run after editing the sketch and restyling the lineart layer
        lineart.setName("my ink")
        lineart.setOpacity(128)
        sketch.setPixelData(sketch_bytes(second, model, depth), 0, 0, w, h)
        again = smart_lineart.apply(doc, sketch, thickness=3.0)
        kids = root.childNodes()
        pos = [n.uniqueId() for n in kids].index(sketch.uniqueId())
        check(res, f"{tag}: re-run updates the same layer",
              len(kids) == len(before) + 1 and kids[pos + 1].uniqueId() == again.uniqueId()
              and again.name() == "my ink" and again.opacity() == 128,
              [[n.name(), n.opacity()] for n in kids])
        updated = read_lineart(again, w, h)
        check(res, f"{tag}: re-run content follows the edited sketch",
              (updated[:, w // 2 + 8:] < 128).sum() == 0 and (updated[:, :w // 2 - 8] < 128).sum() > 100,
              [int((updated[:, w // 2 + 8:] < 128).sum()), int((first[:, w // 2 + 8:] < 128).sum())])
        doc.close()

    vector_layer(k, grey, res)

    doc = k.createDocument(w, h, "bad nodes", "RGBA", "U8", "", 300.0)
    root = doc.rootNode()
    sketch = doc.createNode("Sketch", "paintlayer")
    root.addChildNode(sketch, None)
    sketch.setPixelData(sketch_bytes(grey, "RGBA", "U8"), 0, 0, w, h)
    bad = {"empty group": doc.createGroupLayer("Group"), "empty layer": doc.createNode("Empty", "paintlayer"),
           "vector layer": doc.createVectorLayer("Vector")}
    for name, node in bad.items():
        root.addChildNode(node, None)
        count = len(root.childNodes())
        try:
            smart_lineart.apply(doc, node)
            check(res, f"{name} raises ValueError", False, "no error")
        except ValueError as e:
            check(res, f"{name} raises ValueError", len(root.childNodes()) == count, str(e))

    off = doc.createNode("Off the canvas", "paintlayer")  # content only outside the canvas
    root.addChildNode(off, None)
    off.setPixelData(sketch_bytes(grey[:64, :64], "RGBA", "U8"), -200, -200, 64, 64)
    count = len(root.childNodes())
    try:
        smart_lineart.apply(doc, off)
        check(res, "content off the canvas is told apart from an empty layer", False, "no error")
    except ValueError as e:
        check(res, "content off the canvas is told apart from an empty layer",
              "outside" in str(e) and len(root.childNodes()) == count, str(e))

    group = doc.createGroupLayer("Sketch group")  # a group with content: its projection
    root.addChildNode(group, None)
    inner = doc.createNode("inner", "paintlayer")
    group.addChildNode(inner, None)
    inner.setPixelData(sketch_bytes(grey, "RGBA", "U8"), 0, 0, w, h)
    doc.refreshProjection()
    made = smart_lineart.apply(doc, group)
    check(res, "a group with content is processed from its projection",
          (read_lineart(made, w, h) < 128).sum() > 100, made.name())

    count = len(root.childNodes())
    run = smart_lineart.apply(doc, sketch, wait=False)
    run.cancel()
    try:
        run.compute()
        check(res, "cancel leaves the document unchanged", False, "not cancelled")
    except Cancelled:
        check(res, "cancel leaves the document unchanged", len(root.childNodes()) == count, count)

    doc.close()
    docker_screenshot(k, grey, out, res)


def vector_layer(k, grey, res) -> None:
    """output="vector": an editable vector layer of strokes above the sketch, where the raster
    lineart is (Krita reads the SVG in points: the plugin scales by the resolution); a re-run
    replaces it."""
    h, w = grey.shape
    doc = k.createDocument(w, h, "vector", "RGBA", "U8", "", 300.0)
    root = doc.rootNode()
    sketch = doc.createNode("Sketch", "paintlayer")
    root.addChildNode(sketch, None)
    sketch.setPixelData(sketch_bytes(grey, "RGBA", "U8"), 0, 0, w, h)
    raster = read_lineart(smart_lineart.apply(doc, sketch), w, h)
    count = len(root.childNodes())  # Krita 5.2 and later give a new document a Background layer
    if k.activeDocument() is None and k.version().startswith("5.1."):
        try:
            smart_lineart.apply(doc, sketch, output="vector")
            check(res, "vector output without a window on Krita 5.1: refused", False, "no error")
        except ValueError as e:
            check(res, "vector output without a window on Krita 5.1: refused", len(root.childNodes()) == count, str(e))
        doc.close()
        return
    layer = smart_lineart.apply(doc, sketch, output="vector")
    kids = root.childNodes()
    shapes = layer.shapes()
    boxes = [s.boundingBox() for s in shapes]
    to_px = 300.0 / 72.0
    got = [min(b.left() for b in boxes) * to_px, min(b.top() for b in boxes) * to_px,
           max(b.right() for b in boxes) * to_px, max(b.bottom() for b in boxes) * to_px] if boxes else []
    # where the strokes of this lineart are (specks and dots make no stroke), in pixels
    from smart_lineart.engine.strokes import extract
    strokes = extract(raster, 3.0)
    lo = np.min([p.points.min(0) - p.width / 2 for p in strokes.paths], axis=0)
    hi = np.max([p.points.max(0) + p.width / 2 for p in strokes.paths], axis=0)
    want = [lo[0], lo[1], hi[0], hi[1]]
    check(res, "vector output: a vector layer of strokes in place of the lineart layer, where the lines are",
          layer.type() == "vectorlayer" and len(kids) == count and kids[-1].uniqueId() == layer.uniqueId()
          and len(shapes) >= 5 and got and max(abs(a - b) for a, b in zip(got, want)) < 8,
          {"type": layer.type(), "layers": [n.name() for n in kids], "shapes": len(shapes), "bbox_px": got,
           "raster_bbox": [int(v) for v in want]})
    again = smart_lineart.apply(doc, sketch, output="vector")
    check(res, "vector output: a re-run replaces the vector layer",
          len(root.childNodes()) == count and again.uniqueId() != layer.uniqueId() and len(again.shapes()) == len(shapes),
          [n.name() for n in root.childNodes()])
    doc.close()


def docker_screenshot(k, grey, out, res) -> None:
    """The docker rendered offscreen. kritarunner has no main window (openWindow() crashes
    Krita 5.1.5 there), so there is no active view: the docker is pointed at the document."""
    from smart_lineart.krita.docker import SmartLineartDocker
    h, w = grey.shape
    doc = k.createDocument(w, h, "docker", "RGBA", "U8", "", 300.0)
    sketch = doc.createNode("Sketch", "paintlayer")
    doc.rootNode().addChildNode(sketch, None)
    sketch.setPixelData(sketch_bytes(grey, "RGBA", "U8"), 0, 0, w, h)
    doc.setActiveNode(sketch)
    docker = SmartLineartDocker()
    docker.controller.target = lambda: (doc, sketch)
    docker.resize(380, 720)
    docker.controller.preview()
    shot = os.path.join(out, "docker.png")
    docker.grab().save(shot)
    pixmap = docker.preview.pixmap()
    check(res, "docker renders with a preview", pixmap is not None and not pixmap.isNull(),
          [docker.status.text(), docker.preview.text()])
    docker_run_and_cancel(k, docker, doc, grey, res)
    docker.deleteLater()  # before Krita shuts down, or it crashes tearing down a window-less docker
    doc.close()


def _wait(condition, seconds: float = 120.0) -> bool:
    """Spin Qt's event loop (the worker's queued signals arrive through it) until condition()."""
    from smart_lineart.krita.qt import QtCore
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        QtCore.QCoreApplication.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
        time.sleep(0.005)
    return bool(condition())


class ProgressRecorder:
    """A second view on the controller: the tile counts it reports."""

    def __init__(self):
        self.progress = []

    def show_progress(self, done, total):
        if total > 1 or done:  # tiles, not the busy/idle resets
            self.progress.append((done, total))

    def show_status(self, text): pass
    def show_running(self, running): pass
    def show_preview(self, lineart, message): pass
    def reveal(self): pass


def docker_run_and_cancel(k, docker, doc, grey, res) -> None:
    """The docker's Run button: inference in a worker thread, progress through queued signals,
    the layer written on the GUI thread; Cancel: the document stays as it was."""
    recorder = ProgressRecorder()
    progress = recorder.progress
    controller = docker.controller
    controller.attach(recorder)
    before = [n.name() for n in doc.topLevelNodes()]
    docker.run_button.click()
    running = controller.job is not None and not docker.run_button.isEnabled() and docker.cancel_button.isEnabled()
    finished = _wait(lambda: controller.job is None)
    after = [n.name() for n in doc.topLevelNodes()]
    check(res, "docker Run works in a worker thread, reports progress, adds the layer",
          running and finished and progress and progress[-1][0] == progress[-1][1]
          and after == before + ["Sketch — lineart"] and docker.status.text().startswith("Done in"),
          {"running": running, "finished": finished, "progress": progress[-3:], "layers": after,
           "status": docker.status.text()})
    # Cancel: a page full of sketch, so the worker is still measuring it or on its first of
    # several tiles when Cancel is clicked
    page = np.tile(grey, (3000 // grey.shape[0] + 1, 2400 // grey.shape[1] + 1))[:3000, :2400]
    h, w = page.shape
    big = k.createDocument(w, h, "cancel", "RGBA", "U8", "", 300.0)
    layer = big.createNode("Sketch", "paintlayer")
    big.rootNode().addChildNode(layer, None)
    layer.setPixelData(sketch_bytes(page, "RGBA", "U8"), 0, 0, w, h)
    controller.target = lambda: (big, layer)
    before = [n.name() for n in big.topLevelNodes()]
    progress.clear()
    docker.run_button.click()
    docker.cancel_button.click()
    finished = _wait(lambda: controller.job is None)
    names = [n.name() for n in big.topLevelNodes()]
    check(res, "docker Cancel stops the worker and leaves the document unchanged",
          finished and names == before and docker.status.text().startswith("Cancelled")
          and docker.run_button.isEnabled(),
          {"finished": finished, "layers": names, "status": docker.status.text(), "progress": progress[-3:]})
    big.close()


def docker_main(*_):
    """The docker screenshot on its own (a fresh Krita process)."""
    job = json.load(open(os.environ["SMART_LINEART_E2E"]))
    res = {"checks": {}, "errors": [], "finished": False, "path": os.path.join(job["out"], "docker.json")}
    try:
        from krita import Krita
        docker_screenshot(Krita.instance(), np.load(job["sketch"]), job["out"], res)
        res["finished"] = True
    except Exception:
        res["errors"].append(traceback.format_exc())
    save(res)
