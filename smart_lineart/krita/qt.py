"""The Qt binding Krita itself runs on: PyQt5 in Krita 5, PyQt6 in Krita 6. Loading the other
one would put a second Qt into Krita's process, so the one already imported wins. The plugin
uses scoped enum names (Qt.AlignmentFlag.AlignCenter), which both bindings accept."""
from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING


def _binding() -> str:
    for name in ("PyQt6", "PyQt5"):
        if name in sys.modules:
            return name
    for name in ("PyQt5", "PyQt6"):
        try:
            importlib.import_module(name + ".QtCore")
            return name
        except ImportError:
            continue
    raise ImportError("neither PyQt5 nor PyQt6 is available")


BINDING = _binding()
QT_MAJOR = int(BINDING[-1])
if TYPE_CHECKING:  # the type checker sees one binding; both have the names the plugin uses
    from PyQt5 import QtCore, QtGui, QtWidgets
else:
    QtCore = importlib.import_module(BINDING + ".QtCore")
    QtGui = importlib.import_module(BINDING + ".QtGui")
    QtWidgets = importlib.import_module(BINDING + ".QtWidgets")
