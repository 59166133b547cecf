"""Krita UI: the Tools -> Smart Lineart action and the "Smart Lineart" docker."""
from __future__ import annotations

import time

import numpy as np
from krita import DockWidget, DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita
from PyQt5.QtCore import QObject, Qt, QTimer, pyqtSignal
from PyQt5.QtGui import QImage, QPixmap, QStandardItemModel
from PyQt5.QtWidgets import (QComboBox, QFormLayout, QHBoxLayout, QLabel, QMessageBox, QProgressBar,
                             QPushButton, QSlider, QSpinBox, QVBoxLayout, QWidget)

from . import krita_bridge
from .docker_state import DockerSettings, backend_choices, preview_window
from .engine import Settings

ACTION_ID = "smart_lineart_run"
DOCKER_ID = "smart_lineart_docker"
THICKNESS_STEPS = 4  # slider steps per pixel
_DOCKERS: list["SmartLineartDocker"] = []  # one per Krita window


class _Relay(QObject):
    """Carries worker-thread callbacks to the GUI thread (queued signals)."""
    progress = pyqtSignal(int, int)
    done = pyqtSignal(object)
    failed = pyqtSignal(str)


class SmartLineartDocker(DockWidget):
    def __init__(self):
        super().__init__()
        self.setWindowTitle("Smart Lineart")
        _DOCKERS.append(self)
        self.job: krita_bridge.Job | None = None
        self.settings = DockerSettings.load(Krita.instance().readSetting)
        root = QWidget(self)
        self.setWidget(root)
        layout = QVBoxLayout(root)
        form = QFormLayout()
        layout.addLayout(form)
        self.problem = ""
        try:
            info = krita_bridge.model()
            lo, hi = info.thickness_range
            brushes, default_faint = info.brushes, info.default_faint
        except Exception as e:  # missing model or runtime: say so, keep the docker usable
            self.problem = str(e)
            lo, hi, brushes, default_faint = 1.0, 8.0, (), 0.3

        self.thickness = QSlider(Qt.Horizontal)
        self.thickness.setRange(int(lo * THICKNESS_STEPS), int(hi * THICKNESS_STEPS))
        self.thickness.setValue(int(round(self.settings.thickness * THICKNESS_STEPS)))
        self.thickness_label = QLabel()
        form.addRow("Thickness", self._row(self.thickness, self.thickness_label))

        self.faint = QSlider(Qt.Horizontal)
        self.faint.setRange(0, 100)
        faint = self.settings.faint if self.settings.faint >= 0 else default_faint
        self.faint.setValue(int(round(faint * 100)))
        self.faint_label = QLabel()
        form.addRow("Faint lines", self._row(self.faint, self.faint_label))

        self.brush = QComboBox()
        self.brush.addItems(list(brushes))
        if self.settings.brush in brushes:
            self.brush.setCurrentText(self.settings.brush)
        form.addRow("Brush", self.brush)

        self.device = QComboBox()
        self._choices = backend_choices() if not self.problem else [("Auto", "auto", "auto", True)]
        model = QStandardItemModel(self.device)
        self.device.setModel(model)
        for label, backend, device, ok in self._choices:
            self.device.addItem(label)
            model.item(self.device.count() - 1).setEnabled(ok)
            if ok and (backend, device) == (self.settings.backend, self.settings.device):
                self.device.setCurrentIndex(self.device.count() - 1)
        form.addRow("Device", self.device)

        self.memory = QSpinBox()
        self.memory.setRange(256, 16384)
        self.memory.setSingleStep(128)
        self.memory.setSuffix(" MB")
        self.memory.setValue(self.settings.max_memory_mb)
        form.addRow("Memory cap", self.memory)

        self.preview = QLabel("Preview")
        self.preview.setAlignment(Qt.AlignCenter)
        self.preview.setMinimumSize(200, 200)
        self.preview.setStyleSheet("background: white; color: grey; border: 1px solid #888")
        layout.addWidget(self.preview, 1)

        self.run_button = QPushButton("Run")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        layout.addLayout(self._row(self.run_button, self.cancel_button, layout=True))
        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QLabel(self.problem or "Ready")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

        self.relay = _Relay()
        self.relay.progress.connect(self._on_progress)
        self.relay.done.connect(self._on_done)
        self.relay.failed.connect(self._on_failed)
        self.preview_timer = QTimer(self)
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(300)
        self.preview_timer.timeout.connect(self.update_preview)
        for signal in (self.thickness.valueChanged, self.faint.valueChanged, self.brush.currentIndexChanged,
                       self.device.currentIndexChanged, self.memory.valueChanged):
            signal.connect(self._settings_changed)
        self.run_button.clicked.connect(self.run)
        self.cancel_button.clicked.connect(self.cancel)
        self._update_labels()

    @staticmethod
    def _row(*widgets, layout: bool = False):
        box = QHBoxLayout()
        for w in widgets:
            box.addWidget(w)
        if layout:
            return box
        holder = QWidget()
        box.setContentsMargins(0, 0, 0, 0)
        holder.setLayout(box)
        return holder

    # settings ---------------------------------------------------------------
    def current(self) -> tuple[Settings, krita_bridge.Options]:
        _, backend, device, _ = self._choices[self.device.currentIndex()]
        thickness = self.thickness.value() / THICKNESS_STEPS
        settings = Settings(thickness, self.brush.currentText() or None, self.faint.value() / 100)
        return settings, krita_bridge.Options(backend, device, self.memory.value())

    def _update_labels(self) -> None:
        self.thickness_label.setText(f"{self.thickness.value() / THICKNESS_STEPS:g} px")
        self.faint_label.setText(f"{self.faint.value()} %")

    def _settings_changed(self, *_) -> None:
        self._update_labels()
        s, o = self.current()
        DockerSettings(s.thickness, s.faint, s.brush or "", o.backend, o.device, int(o.max_memory_mb)
                       ).save(Krita.instance().writeSetting)
        self.preview_timer.start()

    def canvasChanged(self, canvas) -> None:
        self.preview_timer.start()

    def target(self):
        """(document, layer) the docker works on: the active ones, or (None, None)."""
        doc = Krita.instance().activeDocument()
        return doc, doc.activeNode() if doc is not None else None

    # preview -----------------------------------------------------------------
    @staticmethod
    def _view_centre(doc, node) -> tuple[float, float]:
        """The centre of the selection, else of the layer's content, else of the canvas."""
        sel = doc.selection()
        if sel is not None and sel.width() > 0:
            return sel.x() + sel.width() / 2, sel.y() + sel.height() / 2
        b = node.bounds() if node is not None else None
        if b is not None and b.width() > 0:
            return b.x() + b.width() / 2, b.y() + b.height() / 2
        return doc.width() / 2, doc.height() / 2

    def update_preview(self) -> None:
        doc, node = self.target()
        if doc is None or self.problem or self.job is not None:
            return
        settings, options = self.current()
        try:
            window = preview_window(self._view_centre(doc, node), (doc.width(), doc.height()))
            grey, _ = krita_bridge.read_sketch(doc, node, window)
            out = krita_bridge.engine(options).run(grey, settings)
        except ValueError as e:
            self.preview.setText(str(e))
            return
        self.show_preview(out)

    def show_preview(self, out: np.ndarray) -> None:
        h, w = out.shape
        img = QImage(np.ascontiguousarray(out).data, w, h, w, QImage.Format_Grayscale8).copy()
        self.preview.setPixmap(QPixmap.fromImage(img).scaled(
            self.preview.width(), self.preview.height(), Qt.KeepAspectRatio, Qt.SmoothTransformation))

    # run ---------------------------------------------------------------------
    def run(self) -> None:
        doc, node = self.target()
        if doc is None or self.job is not None:
            return
        settings, options = self.current()
        try:
            self.job = krita_bridge.Job(doc, node, settings, options)
        except Exception as e:  # e.g. a vector layer, an empty layer, no model
            self.status.setText(str(e))
            return
        self.run_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress.setRange(0, 0)
        self.status.setText("Running…")
        self.started = time.monotonic()
        self.job.start(self.relay.progress.emit, self.relay.done.emit, self.relay.failed.emit)

    def cancel(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status.setText("Cancelling…")

    def _on_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _finish(self, message: str) -> None:
        self.job = None
        self.run_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.status.setText(message)

    def _on_done(self, lineart) -> None:
        job = self.job
        try:
            layer = job.write(lineart)
        except Exception as e:
            self._finish(f"Could not write the lineart layer: {e}")
            return
        self._finish(f"Done in {time.monotonic() - self.started:.1f} s with {job.engine.backend}: "
                     f"'{layer.name()}'")

    def _on_failed(self, message: str) -> None:
        self._finish(message[:1].upper() + message[1:])


class SmartLineartExtension(Extension):
    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:
        action = window.createAction(ACTION_ID, "Smart Lineart", "tools")
        action.triggered.connect(self.run)

    def run(self) -> None:
        """Tools -> Smart Lineart: the docker's current settings on the active layer, in the
        background through the docker (progress, cancel); blocking only without a docker."""
        if _DOCKERS:
            _DOCKERS[0].run()
            return
        k = Krita.instance()
        doc = k.activeDocument()
        if doc is None:
            return
        s = DockerSettings.load(k.readSetting)
        options = krita_bridge.Options(s.backend, s.device, s.max_memory_mb)
        try:
            krita_bridge.apply(doc, doc.activeNode(), s.thickness, s.brush or None,
                               s.faint if s.faint >= 0 else None, options=options)
        except Exception as e:
            QMessageBox.warning(None, "Smart Lineart", str(e))


def register() -> None:
    k = Krita.instance()
    k.addExtension(SmartLineartExtension(k))
    k.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockRight, SmartLineartDocker))
