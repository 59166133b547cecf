"""Registration inside Krita: the Tools -> Smart Lineart action, the docker, the log file."""
from __future__ import annotations

from krita import DockWidget, DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita

from .. import log
from . import runtime
from .qt import QtCore, QtWidgets

ACTION_ID = "smart_lineart_run"
DOCKER_ID = "smart_lineart_docker"


class SmartLineartExtension(Extension):
    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:
        action = window.createAction(ACTION_ID, "Smart Lineart", "tools")
        action.triggered.connect(self.run)

    def run(self) -> None:
        """Tools -> Smart Lineart: the saved settings on the active layer, in the background;
        the docker (shown if hidden) carries progress and Cancel."""
        from .docker import session_controller
        controller = session_controller()
        for view in controller.views:
            view.reveal()
        why = controller.run()
        if why and not controller.views:
            QtWidgets.QMessageBox.warning(None, "Smart Lineart", why)


def _app_data() -> str:
    k = Krita.instance()
    if hasattr(k, "getAppDataLocation"):
        return k.getAppDataLocation()
    paths = QtCore.QStandardPaths
    return paths.writableLocation(paths.StandardLocation.AppDataLocation)


class MissingRuntime(Extension):
    """Without numpy or a runtime: the action and the docker say what to install (`message`,
    found once at registration)."""
    message = ""

    def setup(self) -> None:
        pass

    def createActions(self, window) -> None:
        action = window.createAction(ACTION_ID, "Smart Lineart", "tools")
        action.triggered.connect(lambda: QtWidgets.QMessageBox.warning(None, "Smart Lineart", self.message))


class MissingRuntimeDocker(DockWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Smart Lineart")
        self.status = QtWidgets.QLabel(MissingRuntime.message)
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setWidget(self.status)

    def canvasChanged(self, canvas: object) -> None:
        pass


def register() -> None:
    log.to_file(_app_data())
    k = Krita.instance()
    problem = runtime.missing()
    extension: Extension
    if problem:
        log.LOG.warning(problem)
        MissingRuntime.message = problem
        extension, docker = MissingRuntime(k), MissingRuntimeDocker
    else:
        from .docker import SmartLineartDocker
        extension, docker = SmartLineartExtension(k), SmartLineartDocker
    k.addExtension(extension)
    k.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockPosition.DockRight, docker))
