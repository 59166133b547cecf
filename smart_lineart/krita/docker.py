"""The "Smart Lineart" docker: widgets bound to the session's controller, nothing more."""
from __future__ import annotations

import numpy as np
from krita import DockWidget, Krita

from ..settings import CLOSE_GAPS_RANGE, MEMORY_RANGE_MB, OUTPUTS, Settings
from .controller import Controller, backend_choices
from .qt import QtCore, QtGui, QtWidgets

Qt = QtCore.Qt
THICKNESS_STEPS = 4  # slider steps per pixel
OUTPUT_LABELS = {"raster": "Raster layer", "vector": "Vector layer", "brush": "Paint with my brush"}
_controller: Controller | None = None


class _Relay(QtCore.QObject):
    """Runs functions on the GUI thread: emitted from a worker thread, the signal is queued."""
    call = QtCore.pyqtSignal(object)


def session_controller() -> Controller:
    """The controller shared by the dockers of every window and the Tools action."""
    global _controller
    if _controller is None:
        relay = _Relay()
        relay.call.connect(lambda fn: fn())
        _controller = Controller(Krita.instance(), relay.call.emit)
        _controller.relay = relay  # type: ignore[attr-defined]  # kept alive with the controller
    return _controller


def _row(*widgets: QtWidgets.QWidget) -> QtWidgets.QWidget:
    holder = QtWidgets.QWidget()
    box = QtWidgets.QHBoxLayout(holder)
    box.setContentsMargins(0, 0, 0, 0)
    for w in widgets:
        box.addWidget(w)
    return holder


class SmartLineartDocker(DockWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Smart Lineart")
        self.controller = session_controller()
        root = QtWidgets.QWidget(self)
        self.setWidget(root)
        layout = QtWidgets.QVBoxLayout(root)
        form = QtWidgets.QFormLayout()
        layout.addLayout(form)
        self._build_controls(form)
        self._build_output(layout)
        self.preview_timer = QtCore.QTimer(self)
        self.preview_timer.setSingleShot(True)
        self.preview_timer.setInterval(300)
        self.preview_timer.timeout.connect(self.controller.preview)
        self.run_button.clicked.connect(self._run)
        self.cancel_button.clicked.connect(self.controller.cancel)
        self._update_labels()
        self.controller.attach(self)
        self.destroyed.connect(lambda *_: self.controller.detach(self))

    def _build_controls(self, form: QtWidgets.QFormLayout) -> None:
        card, s = self.controller.card, self.controller.settings
        self.thickness = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.thickness_label = QtWidgets.QLabel()
        self.faint = QtWidgets.QSlider(Qt.Orientation.Horizontal)
        self.faint.setRange(0, 100)
        self.faint_label = QtWidgets.QLabel()
        self.brush = QtWidgets.QComboBox()
        self.output = QtWidgets.QComboBox()
        for key in OUTPUTS:
            self.output.addItem(OUTPUT_LABELS[key], key)
        self.output.setCurrentIndex(OUTPUTS.index(s.output) if s.output in OUTPUTS else 0)
        self.close_gaps = QtWidgets.QSpinBox()
        self.close_gaps.setRange(*(int(v) for v in CLOSE_GAPS_RANGE))
        self.close_gaps.setSuffix(" px")
        self.close_gaps.setSpecialValueText("Off")
        self.close_gaps.setToolTip("Strokes only: join line ends up to this far apart, so the fill tool fills each region")
        self.close_gaps.setValue(int(round(s.close_gaps)))
        self.device = QtWidgets.QComboBox()
        self.memory = QtWidgets.QSpinBox()
        self.memory.setRange(*(int(v) for v in MEMORY_RANGE_MB))
        self.memory.setSingleStep(128)
        self.memory.setSuffix(" MB")
        self.memory.setValue(int(s.max_memory_mb))
        self._choices: list[tuple[str, str, str, bool]] = []
        if card is not None and self.controller.ready:
            lo, hi = card.thickness_range
            self.thickness.setRange(int(lo * THICKNESS_STEPS), int(hi * THICKNESS_STEPS))
            self.thickness.setValue(int(round(s.thickness * THICKNESS_STEPS)))
            self.faint.setValue(int(round((card.default_faint if s.faint is None else s.faint) * 100)))
            self.brush.addItems(list(card.brushes))
            if s.brush in card.brushes:
                self.brush.setCurrentText(s.brush)
            self._fill_devices(s)
        form.addRow("Thickness", _row(self.thickness, self.thickness_label))
        form.addRow("Faint lines", _row(self.faint, self.faint_label))
        form.addRow("Brush", self.brush)
        form.addRow("Output", self.output)
        form.addRow("Close gaps", self.close_gaps)
        form.addRow("Device", self.device)
        form.addRow("Memory cap", self.memory)
        controls = (self.thickness, self.faint, self.brush, self.output, self.close_gaps, self.device, self.memory)
        for w in controls:  # without a usable model there is nothing to set
            w.setEnabled(self.controller.ready)
        signals = (self.thickness.valueChanged, self.faint.valueChanged, self.brush.currentIndexChanged,
                   self.output.currentIndexChanged, self.close_gaps.valueChanged, self.device.currentIndexChanged,
                   self.memory.valueChanged)
        for signal in signals:
            signal.connect(self._settings_changed)

    def _fill_devices(self, s: Settings) -> None:
        self._choices = backend_choices()
        items = QtGui.QStandardItemModel(self.device)
        self.device.setModel(items)
        for label, backend, device, ok in self._choices:
            self.device.addItem(label)
            item = items.item(self.device.count() - 1)
            if item is not None:
                item.setEnabled(ok)
            if ok and (backend, device) == (s.backend, s.device):
                self.device.setCurrentIndex(self.device.count() - 1)

    def _build_output(self, layout: QtWidgets.QVBoxLayout) -> None:
        self.preview = QtWidgets.QLabel("Preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(200, 200)
        self.preview.setStyleSheet("background: white; color: grey; border: 1px solid #888")
        layout.addWidget(self.preview, 1)
        self.run_button = QtWidgets.QPushButton("Run")
        self.run_button.setEnabled(self.controller.ready)
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        layout.addWidget(_row(self.run_button, self.cancel_button))
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        layout.addWidget(self.progress)
        self.status = QtWidgets.QLabel()
        self.status.setWordWrap(True)
        layout.addWidget(self.status)

    def current(self) -> Settings:
        """The settings the controls show."""
        _, backend, device, _ = self._choices[self.device.currentIndex()] if self._choices else ("", "auto", "auto", True)
        return Settings(self.thickness.value() / THICKNESS_STEPS, self.brush.currentText() or None,
                        self.faint.value() / 100, backend, device, float(self.memory.value()),
                        OUTPUTS[max(self.output.currentIndex(), 0)], float(self.close_gaps.value()))

    def _update_labels(self) -> None:
        self.thickness_label.setText(f"{self.thickness.value() / THICKNESS_STEPS:g} px")
        self.faint_label.setText(f"{self.faint.value()} %")

    def _run(self) -> None:
        self.controller.run()  # why it could not start, if so, comes back through show_status

    def _settings_changed(self, *_: object) -> None:
        self._update_labels()
        self.controller.update(self.current())
        self.preview_timer.start()

    def canvasChanged(self, canvas: object) -> None:
        self.preview_timer.start()

    # View: what the controller shows ---------------------------------------------------------
    def show_status(self, text: str) -> None:
        self.status.setText(text)

    def show_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def show_running(self, running: bool) -> None:
        self.run_button.setEnabled(not running and self.controller.ready)
        self.cancel_button.setEnabled(running)

    def show_preview(self, lineart: np.ndarray | None, message: str) -> None:
        if lineart is None:
            self.preview.setText(message)
            return
        h, w = lineart.shape
        img = QtGui.QImage(lineart.tobytes(), w, h, w, QtGui.QImage.Format.Format_Grayscale8).copy()
        self.preview.setPixmap(QtGui.QPixmap.fromImage(img).scaled(
            self.preview.width(), self.preview.height(), Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation))

    def reveal(self) -> None:
        self.show()
        self.raise_()
