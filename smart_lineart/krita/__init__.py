"""The Krita side (imports Krita's `krita` module and Qt only where it must):

- document: read a sketch node, write the lineart layer, a run as a Job (no Qt);
- pixels: Krita's pixel bytes <-> numpy (no Qt);
- controller: settings, preview and the run's lifecycle for the docker and the action (no Qt);
- docker: the docker's widgets, bound to the controller;
- extension: registration, the Tools action, the log file;
- qt: PyQt5 or PyQt6, whichever Krita runs on.
"""
