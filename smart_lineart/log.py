"""The plugin's log: unexpected errors with their tracebacks, so a failure inside Krita (where
there is no console) leaves a trace. A rotating file in Krita's app-data folder; the CLI
logs to stderr with --verbose."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

LOG = logging.getLogger("smart_lineart")
LOG.addHandler(logging.NullHandler())  # silent until a file or stderr is chosen
LOG.propagate = False
LOG_NAME = "smart_lineart.log"


def to_file(folder: str | Path) -> Path:
    """Log to `folder`/smart_lineart.log (rotated at 1 MB, 3 kept); returns the file's path."""
    path = Path(folder) / LOG_NAME
    for h in LOG.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path.resolve():
            return path
    path.parent.mkdir(parents=True, exist_ok=True)
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=3, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    return path


def to_stderr() -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("smart_lineart: %(levelname)s: %(message)s"))
    LOG.addHandler(handler)
    LOG.setLevel(logging.DEBUG)


def log_file() -> Path | None:
    for h in LOG.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler):
            return Path(h.baseFilename)
    return None


def internal_error(exc: BaseException) -> str:
    """Log an unexpected exception with its traceback; the one line to show the user."""
    LOG.error("internal error: %s: %s", exc.__class__.__name__, exc, exc_info=exc)
    where = log_file()
    return f"internal error ({exc.__class__.__name__}), details in {where}" if where else \
        f"internal error: {exc.__class__.__name__}: {exc}"
