"""Errors a user can fix. Their message is shown as it is (CLI: one line, exit 2; Krita: the
docker's status line). Any other exception is a bug: it is logged with its traceback (see
`log`) and the user is told where the details are."""
from __future__ import annotations


class SmartLineartError(Exception):
    """Base of every error whose message tells the user what to change."""


class ModelError(SmartLineartError):
    """A model file or card that is missing or unusable."""


class BackendError(SmartLineartError):
    """The requested backend or device cannot be used here."""


class SettingsError(SmartLineartError, ValueError):
    """A setting the model or engine cannot honour (thickness out of range, unknown brush, ...).
    `setting` names the Settings field, so the CLI can name its flag and the docker its control."""

    def __init__(self, message: str, setting: str):
        super().__init__(message)
        self.setting = setting


class MemoryCapError(SettingsError):
    """The work does not fit under the memory cap."""

    def __init__(self, message: str):
        super().__init__(message, "max_memory_mb")


class ImageReadError(SmartLineartError):
    """An input file that cannot be read as an image."""


class OutputError(SmartLineartError):
    """An output that cannot be written (or would overwrite an input)."""


class UsageError(SmartLineartError):
    """A command line the tool cannot act on."""


class LayerError(SmartLineartError, ValueError):
    """A Krita node the plugin cannot process (ValueError: the scripting entry's contract)."""


class Cancelled(Exception):
    """The run was cancelled between tiles; nothing was written. Not an error."""


def by_ctrl_c(e: BaseException) -> bool:
    """True for Ctrl-C, also when it arrived while an extension module initialised and came out
    as that module's ImportError("initialization failed") with the KeyboardInterrupt as cause."""
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
