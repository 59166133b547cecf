"""The docker under one Qt binding (argv[1]: PyQt5 or PyQt6), offscreen, with the fake Krita:
its controls, saved settings, preview, Run in a worker thread and the new layer. Prints JSON."""
import json
import os
import sys
import time
import types

os.environ["QT_QPA_PLATFORM"] = "offscreen"
binding = sys.argv[1]
QtWidgets = __import__(binding + ".QtWidgets", fromlist=["QtWidgets"])  # first: the plugin follows it
QtCore = __import__(binding + ".QtCore", fromlist=["QtCore"])
application = QtWidgets.QApplication([])

import numpy as np  # noqa: E402

from tests.fake_krita import App, Document  # noqa: E402

grey = np.full((300, 400), 255, np.uint8)
grey[100:103, 50:350] = 40
grey[50:250, 200:202] = 40
doc = Document(400, 300)
doc.add_sketch(grey, name="Sketch")
app = App(doc, app_data=sys.argv[3])
krita = types.ModuleType("krita")


class DockWidget(QtWidgets.QDockWidget):
    def canvasChanged(self, canvas): pass


class Extension(QtCore.QObject):
    def __init__(self, parent): super().__init__()


class DockWidgetFactoryBase:
    DockPosition = types.SimpleNamespace(DockRight=1)


class DockWidgetFactory(DockWidgetFactoryBase):
    def __init__(self, name, position, cls): self.name, self.position, self.cls = name, position, cls


krita.DockWidget, krita.Extension = DockWidget, Extension
krita.DockWidgetFactory, krita.DockWidgetFactoryBase = DockWidgetFactory, DockWidgetFactoryBase
krita.Krita = types.SimpleNamespace(instance=lambda: app)
sys.modules["krita"] = krita

from smart_lineart.krita import qt  # noqa: E402
from smart_lineart.krita.docker import SmartLineartDocker  # noqa: E402

registered = [type(e).__name__ for e in app.extensions] + [f.name for f in app.factories]

docker = SmartLineartDocker()
docker.resize(380, 760)
docker.thickness.setValue(docker.thickness.value() + 8)  # +2 px
docker.output.setCurrentIndex(0)
docker.controller.preview()
preview_ok = docker.preview.pixmap() is not None and not docker.preview.pixmap().isNull()
docker.run_button.click()
running = not docker.run_button.isEnabled() and docker.cancel_button.isEnabled()
end = time.monotonic() + 60
while docker.controller.job is not None and time.monotonic() < end:
    application.processEvents(QtCore.QEventLoop.ProcessEventsFlag.AllEvents, 20)
    time.sleep(0.01)
shot = sys.argv[2] if len(sys.argv) > 2 else ""
if shot:
    docker.grab().save(shot)
print(json.dumps({"binding": qt.BINDING, "registered": registered, "saved_thickness": app.store.get(("smart_lineart", "thickness")),
                  "preview": preview_ok, "running": running, "status": docker.status.text(),
                  "layers": [n.name() for n in doc.root.children], "run_enabled": docker.run_button.isEnabled()}))
