"""Registration inside Krita: the Tools -> Smart Lineart action, the docker, the log file."""
from __future__ import annotations

from krita import DockWidgetFactory, DockWidgetFactoryBase, Extension, Krita

from .. import log
from .docker import SmartLineartDocker, session_controller
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


def register() -> None:
    log.to_file(_app_data())
    k = Krita.instance()
    k.addExtension(SmartLineartExtension(k))
    k.addDockWidgetFactory(DockWidgetFactory(DOCKER_ID, DockWidgetFactoryBase.DockPosition.DockRight,
                                             SmartLineartDocker))
